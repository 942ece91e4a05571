// TensorFlow.js on the webgpu backend for the wgsl-dice/tfjs tests: one call to the public
// set-up (useTfjsWebGPU), and seeded inputs made by tfjs on the GPU.
import * as tf from '@tensorflow/tfjs';
import { useTfjsWebGPU } from '../../src/node/index.js';
import { mulberry32 } from './gpu.js';

export { tf };

/** tfjs selected on its webgpu backend, on the pinned dawn.node device (which it returns). */
export async function tfjsOnWebGPU(): Promise<GPUDevice> {
  const device = await useTfjsWebGPU(tf);
  // Small tensors would otherwise be computed on the CPU and only uploaded when read: the
  // tests want every op on the GPU, as at training sizes.
  tf.env().set('WEBGPU_CPU_FORWARD', false);
  return device;
}

/** f32-exact seeded values in [lo, hi). */
export function seeded(seed: number, length: number, lo = 0, hi = 1): Float32Array {
  const random = mulberry32(seed);
  return Float32Array.from({ length }, () => lo + (hi - lo) * random());
}

/** Seeded labels in [0, classes), one per voxel. */
export function seededLabels(seed: number, voxels: number, classes: number): Int32Array {
  const random = mulberry32(seed);
  return Int32Array.from({ length: voxels }, () => Math.floor(random() * classes));
}

/** One-hot f32 of `labels` with `classes` on the last axis. */
export function oneHot(labels: ArrayLike<number>, classes: number): Float32Array {
  const out = new Float32Array(labels.length * classes);
  for (let i = 0; i < labels.length; i++) out[i * classes + labels[i]] = 1;
  return out;
}
