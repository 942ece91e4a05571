/**
 * What `wgsl-dice/tfjs` needs from TensorFlow.js's WebGPU backend (tfjs-backend-webgpu 4.x):
 * the active backend's device, a tensor's own GPUBuffer, tensors whose buffers come from
 * tfjs's pool, and submitting tfjs's pending work. Everything that touches backend internals
 * is here, so a tfjs upgrade that moves them breaks one file.
 *
 * Facts relied on (read in the backend's source, checked by test/tfjs-*.test.ts):
 * - `backend.tensorMap.get(dataId)` holds `{ dtype, resource }`; `resource` is the tensor's
 *   GPUBuffer once `backend.uploadToGPU(dataId)` has run (it uploads CPU-side values first).
 * - `dtype` there is the dtype of the bytes in the buffer, which differs from the tensor's
 *   after `tf.cast(int32 -> float32)`: that cast is an identity on this backend, so the
 *   "float32" tensor's buffer holds int32 bits (the cast trap).
 * - tfjs records kernels lazily into its own command encoder; they must be submitted before
 *   our submit reads their outputs (one queue, so submission order is execution order).
 * - A tensor made from `backend.makeTensorInfo` + `uploadToGPU` owns a pooled buffer with
 *   STORAGE | COPY_SRC | COPY_DST usage, released back to tfjs's pool when it is disposed.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { WgslDiceError } from '../index.js';

export type { WebGPUBackend };

/** The active backend, which must be tfjs's WebGPU backend. */
export function activeWebGPUBackend(): WebGPUBackend {
  const name = tf.getBackend();
  const backend = tf.backend() as Partial<WebGPUBackend>;
  if (name !== 'webgpu' || !backend.device || !backend.tensorMap || typeof backend.uploadToGPU !== 'function') {
    throw new WgslDiceError(
      'WRONG_BACKEND',
      `wgsl-dice/tfjs runs on TensorFlow.js's WebGPU backend, but the active backend is ${JSON.stringify(name)}. ` +
        "In a browser: import '@tensorflow/tfjs-backend-webgpu' and `await tf.setBackend('webgpu')`; " +
        "in Node: `await useTfjsWebGPU(tf)` from 'wgsl-dice/node'.",
    );
  }
  return backend as WebGPUBackend;
}

/** The dtype of the bytes in the tensor's buffer (int32 for a float32 cast of an int32 tensor). */
export function storedDtype(backend: WebGPUBackend, tensor: tf.Tensor): tf.DataType {
  return backend.tensorMap.get(tensor.dataId).dtype;
}

/** The tensor's own GPUBuffer (uploaded first when its values are still on the CPU). */
export function bufferOf(backend: WebGPUBackend, tensor: tf.Tensor): GPUBuffer {
  backend.uploadToGPU(tensor.dataId);
  const resource = backend.tensorMap.get(tensor.dataId).resource;
  if (!(resource instanceof GPUBuffer)) {
    throw new WgslDiceError(
      'INVALID_INPUT',
      'This tensor is held in a GPU texture, not a buffer (tfjs imports video frames that way); ' +
        'copy it with tf.clone() before passing it to a wgsl-dice loss.',
    );
  }
  return resource;
}

/** A new float32 tensor whose GPUBuffer comes from tfjs's pool (contents undefined until written). */
export function pooledTensor(
  backend: WebGPUBackend,
  shape: readonly number[],
): { tensor: tf.Tensor; buffer: GPUBuffer } {
  const info = backend.makeTensorInfo([...shape], 'float32');
  const tensor = tf.engine().makeTensorFromTensorInfo(info, backend);
  return { tensor, buffer: bufferOf(backend, tensor) };
}

/** Submits the work tfjs has recorded, so a later submit sees its results (nothing when none is). */
export function submitPendingTfjsWork(backend: WebGPUBackend): void {
  // `commandEncoder` (private in the typings) is null while tfjs has nothing recorded.
  if (!(backend as unknown as { commandEncoder: GPUCommandEncoder | null }).commandEncoder) return;
  backend.endComputePassEncoder();
  backend.submitQueue();
}
