/**
 * A float32 tensor's own storage, addressed from JS without a copy. The trainer's loss reads an
 * [anchors x batch] matrix out of tfjs and writes its gradient back every step (1,000,000
 * entries at 10,000 images): on wasm, `dataSync` copies the matrix out of the heap into new
 * memory and `tf.tensor` copies the gradient back in, which cost about a fifth of each step.
 *
 * Where the backend keeps the tensor in memory JS can address (wasm: its heap; cpu: a typed
 * array), this is that memory; elsewhere (tfjs-node, WebGL) null, and the caller copies. Writing
 * through the view changes the tensor: only for a tensor the caller made and nothing else holds.
 * The view is valid until the next tfjs call, which may grow the wasm heap and move it.
 */
import * as tf from '@tensorflow/tfjs';

/** The wasm backend's own heap view of a tensor (tfjs-backend-wasm's kernels use it). */
interface WasmBackend {
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}

export function ownStorage(t: tf.Tensor): Float32Array | null {
  if (t.dtype !== 'float32' || t.isDisposed) return null;
  const name = tf.getBackend();
  if (name === 'cpu') {
    // the cpu backend's dataSync is the tensor's own array, not a copy
    const values = t.dataSync();
    return values instanceof Float32Array && values.length === t.size ? values : null;
  }
  if (name !== 'wasm') return null;
  const be = tf.backend() as unknown as Partial<WasmBackend>;
  if (typeof be.typedArrayFromHeap !== 'function') return null;
  const view = be.typedArrayFromHeap(t);
  return view instanceof Float32Array && view.length === t.size ? view : null;
}
