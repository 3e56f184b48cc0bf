/**
 * Identity of the image backbone, kept apart from the tfjs code so that the store and jobs can
 * name the model without loading TensorFlow.js.
 */
export const BACKBONE = {
  /** Stored with every embedding: change it when the weights or preprocessing change. */
  id: 'mobilenet_v2_140_224@nsfwjs-4.4.0',
  dim: 1792,
  inputSize: 224,
  outputNode:
    'StatefulPartitionedCall/sequential/keras_layer/StatefulPartitionedCall/StatefulPartitionedCall/StatefulPartitionedCall/predict/feature_vector/SpatialSqueeze',
} as const;
