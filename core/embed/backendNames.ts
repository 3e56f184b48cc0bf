/**
 * The TensorFlow.js backends by name, and the device a stored run's backend ran on, without
 * loading TensorFlow.js (the store, the API service and the engine list name them).
 */
export type BackendChoice = 'tfjs-node-gpu' | 'tfjs-node' | 'wasm' | 'cpu';
export const BACKEND_ORDER: readonly BackendChoice[] = ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'];

/**
 * The device of an engine named in a stored run (runs keep the engine's name only). Where the
 * name does not settle the device (a GPU package may have run on the CPU; ONNX Runtime picks its
 * provider on the machine), it says so instead of guessing.
 */
const STORED_DEVICE: Readonly<Record<string, string>> = {
  onnx: 'ONNX Runtime (device not recorded)',
  'tfjs-node-gpu': 'tfjs-node-gpu (GPU or CPU: not recorded)',
  'tfjs-node': 'CPU (native libtensorflow)',
  wasm: 'CPU (WebAssembly SIMD, 1 thread per worker)',
  cpu: 'CPU (plain JavaScript)',
};

export function deviceOf(choice: string): string {
  return Object.hasOwn(STORED_DEVICE, choice) ? STORED_DEVICE[choice]! : 'device not recorded';
}

/** The device of a native tfjs backend, from what libtensorflow reports (`isUsingGpuDevice`). */
export function nativeTfjsDevice(choice: 'tfjs-node-gpu' | 'tfjs-node', usingGpu: boolean): string {
  if (usingGpu) return `GPU (CUDA, ${choice})`;
  if (choice === 'tfjs-node-gpu') {
    return 'CPU: tfjs-node-gpu found no usable GPU and runs on the CPU (it needs an NVIDIA driver, CUDA 11.2 and cuDNN 8.1 on the library path)';
  }
  return 'CPU (native libtensorflow)';
}
