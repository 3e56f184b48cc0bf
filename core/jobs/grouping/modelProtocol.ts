/** Messages between the main thread and the model worker (modelWorker.ts). */

export type ModelRequest =
  /**
   * Every group ranked for each image by the softmax of its cosine to the group's centroid
   * (`version`: the database's, which the centroids are kept for).
   */
  | { type: 'suggest'; runId: number; imageIds: number[]; limit: number; temperature: number; version: string }
  /** The `k` most similar images to one image (cosine in the head's feature space). */
  | { type: 'neighbours'; runId: number; imageId: number; k: number }
  /** Build the index suggestions and neighbours read, before anyone asks (answers its row count). */
  | { type: 'warm'; runId: number }
  /** Cluster and calibrated confidence of each image with an embedding. */
  | { type: 'predict'; runId: number; imageIds: number[] }
  /** Points on the run's map for images it has none for (mapPlacement.ts). */
  | { type: 'placeOnMap'; runId: number; imageIds: number[] }
  /**
   * Text search: the `limit` images of model `modelId` whose unit embedding is nearest (cosine)
   * `query` (a text embedding), among `allowed` when given; ties by image id.
   */
  | { type: 'rankByVector'; modelId: string; query: Float32Array; limit: number; allowed?: number[] }
  /** Suggested names: for each list of images, the mean of their unit embeddings (null when none has one). */
  | { type: 'unitMeans'; modelId: string; imageIds: number[][] };

export type ModelAnswer =
  | { type: 'suggest'; rows: Array<Array<{ groupId: number; probability: number }>> }
  | { type: 'neighbours'; imageIds: number[] }
  | { type: 'warm'; indexed: number }
  | { type: 'predict'; imageIds: number[]; labels: Int32Array; confidence: Float32Array }
  | { type: 'placeOnMap'; points: Array<[number, number, number]> }
  | { type: 'rankByVector'; results: Array<{ imageId: number; score: number }> }
  | { type: 'unitMeans'; means: Array<Float32Array | null> };

export type ToModelWorker = { id: number; request: ModelRequest };
export type FromModelWorker = { id: number; answer: ModelAnswer } | { id: number; error: string } | { id: null; error: string };
