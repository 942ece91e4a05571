/**
 * Targets as the wgsl-dice passes read them: dense f32, or a label map of one u32 per voxel.
 * The tensor's own buffer is used whenever its bytes already have that form; otherwise a real
 * conversion runs as a tfjs op. Never `tf.cast(int32 -> float32)`: on the WebGPU backend that
 * is an identity that leaves int32 bits in the buffer (the cast trap, see backend.ts).
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { storedDtype, type WebGPUBackend } from './backend.js';
import { tf } from './tfjs-core.js';

/** Dense f32 targets (one-hot or soft) or a mask, as f32 bytes. */
export function float32Bytes(backend: WebGPUBackend): (yTrue: Tensor) => Tensor {
  return (yTrue) => {
    if (storedDtype(backend, yTrue) === 'float32') return yTrue;
    // int32 or bool bytes: a tfjs kernel reads its inputs by their stored dtype, so adding a
    // float32 zero converts each value for real (0/1 and small integers are exact in f32).
    return tf.add(yTrue, tf.scalar(0, 'float32'));
  };
}

/**
 * A label map as u32 labels. int32 (or bool) bytes are read as they are: a negative label is a
 * u32 of 2^31 or more, which the passes count as out of range. Float labels are converted, and
 * a value that is not a whole number in [0, 2^31) (NaN, 2.7, -1) becomes the label 2^32 - 1 so
 * that the passes count it too, where truncating it would pass it off as a valid class.
 */
export function labelMapTarget(backend: WebGPUBackend): (yTrue: Tensor) => Tensor {
  return (yTrue) => {
    if (storedDtype(backend, yTrue) !== 'float32') return yTrue;
    const whole = tf.logicalAnd(
      tf.equal(yTrue, tf.floor(yTrue)),
      tf.logicalAnd(tf.greaterEqual(yTrue, 0), tf.less(yTrue, 2 ** 31)),
    );
    return tf.where(whole, tf.cast(yTrue, 'int32'), tf.scalar(-1, 'int32'));
  };
}
