/**
 * Targets as the wgsl-dice passes read them: dense f32, or a label map of one u32 per voxel.
 * The tensor's own buffer is used whenever its bytes already have that form; otherwise a real
 * conversion runs as a tfjs op. Never `tf.cast(int32 -> float32)`: on the WebGPU backend that
 * is an identity that leaves int32 bits in the buffer (the cast trap, see backend.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { storedDtype, type WebGPUBackend } from './backend.js';

/** Dense f32 targets (one-hot or soft) or a mask, as f32 bytes. */
export function float32Bytes(backend: WebGPUBackend): (yTrue: tf.Tensor) => tf.Tensor {
  return (yTrue) => {
    if (storedDtype(backend, yTrue) === 'float32') return yTrue;
    // int32 or bool bytes: a tfjs kernel reads its inputs by their stored dtype, so adding a
    // float32 zero converts each value for real (0/1 and small integers are exact in f32).
    return tf.add(yTrue, tf.scalar(0, 'float32'));
  };
}

/** A label map: int32 (or bool) bytes are read as u32 labels as they are; floats are truncated to int32. */
export function labelMapTarget(backend: WebGPUBackend): (yTrue: tf.Tensor) => tf.Tensor {
  return (yTrue) => (storedDtype(backend, yTrue) === 'float32' ? tf.cast(yTrue, 'int32') : yTrue);
}
