/**
 * ONNX Runtime's own environment. Its 1.30 package starts Microsoft's telemetry (1DS) with a
 * process's first session on Linux and macOS: a device id in `<temp>/.ses`, an offline event
 * cache under ~/.cache/Microsoft/DeveloperTools, and an empty `<temp>/mat-debug-<pid>.log` left
 * behind by every process. Constellate works offline and leaves nothing in the temp folder, so
 * it opts out with ORT_DISABLE_TELEMETRY=1 (a user's own setting is kept).
 *
 * ONNX Runtime reads the variable from the process environment. A worker thread's process.env
 * is a copy that native code never sees, so the main thread sets it, before it starts any
 * worker that may load ONNX Runtime and before loading it itself.
 */
import type * as OrtModule from 'onnxruntime-node';
import { isMainThread } from 'node:worker_threads';

export function disableOrtTelemetry(): void {
  if (isMainThread) process.env.ORT_DISABLE_TELEMETRY ??= '1';
}

/** onnxruntime-node, with its telemetry off where this thread can turn it off. */
export async function importOrt(): Promise<typeof OrtModule> {
  disableOrtTelemetry();
  return await import('onnxruntime-node');
}
