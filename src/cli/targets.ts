import { CliError } from './errors.js';
import { formatShape } from './format.js';
import type { NpyTensor } from './npy.js';

export interface DenseTarget {
  data: Float32Array;
  /** How the file became a dense f32 target, for the report. */
  conversion: 'none' | 'cast to float32' | 'label map to one-hot (CPU)' | 'binary mask (CPU)';
}

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((dim, axis) => dim === b[axis]);

/**
 * The target as the engine takes it today: dense f32 of pred's shape `[B, ...spatial, C]`.
 *
 * - float (float16/32/64, read as float32) of pred's shape: used as is (one-hot or soft targets).
 * - integer/bool of pred's shape: cast to float32.
 * - integer/bool label map `[B, ...spatial]` (or `[B, ...spatial, 1]` when C > 1): class indices
 *   in [0, C), expanded to one-hot here on the CPU; with C = 1 the values must be 0 or 1 (a
 *   binary mask). The engine will take label maps on the GPU later; until then this costs one
 *   f32 tensor of pred's size.
 */
export function toDenseTarget(target: NpyTensor, predShape: readonly number[]): DenseTarget {
  const classes = predShape[predShape.length - 1];
  const voxelShape = predShape.slice(0, -1);
  const elements = predShape.reduce((a, b) => a * b, 1);
  if (sameShape(target.shape, predShape)) {
    if (!target.isInteger) {
      const data = target.data instanceof Float32Array ? target.data : Float32Array.from(target.data);
      return { data, conversion: 'none' };
    }
    if (classes === 1) return { data: binaryMask(target), conversion: 'binary mask (CPU)' };
    return { data: Float32Array.from(target.data), conversion: 'cast to float32' };
  }
  const isLabelMapShape = sameShape(target.shape, voxelShape) || sameShape(target.shape, [...voxelShape, 1]);
  if (target.isInteger && isLabelMapShape) {
    if (classes === 1) return { data: binaryMask(target), conversion: 'binary mask (CPU)' };
    const data = new Float32Array(elements);
    const labels = target.data;
    for (let voxel = 0; voxel < labels.length; voxel++) {
      const label = labels[voxel];
      if (!Number.isInteger(label) || label < 0 || label >= classes) {
        throw new CliError(
          `target ${target.path}: label ${label} at flat index ${voxel} is outside [0, ${classes - 1}] ` +
            `(pred has C = ${classes} classes; ignore labels such as 255 are not supported yet).`,
        );
      }
      data[voxel * classes + label] = 1;
    }
    return { data, conversion: 'label map to one-hot (CPU)' };
  }
  throw new CliError(
    `target ${target.path} has shape ${formatShape(target.shape)} (${target.dtype}), which does not match ` +
      `pred's shape ${formatShape(predShape)}: pass a float target of shape ${formatShape(predShape)} or an ` +
      `integer label map of shape ${formatShape(voxelShape)}.`,
  );
}

function binaryMask(target: NpyTensor): Float32Array {
  const data = Float32Array.from(target.data);
  const bad = data.findIndex((value) => value !== 0 && value !== 1);
  if (bad >= 0) {
    throw new CliError(
      `target ${target.path}: value ${data[bad]} at flat index ${bad}; with C = 1 an integer target is a ` +
        'binary mask of 0 and 1.',
    );
  }
  return data;
}
