// Distance-transform losses in float64 with their gradients, on [B, C, ...spatial] tensors of
// probabilities (flat, row-major) and targets:
//
// - MONAI's Hausdorff-DT loss (Karimi and Salcudean 2019, monai/losses/hausdorff_loss.py): for
//   each (b, c), fields from the prediction and the target thresholded at `> 0.5`, each voxel's
//   Euclidean distance (unit spacing) to the nearest voxel on the other side, all zero when the
//   volume is all inside or all outside; cast to float32, raised to alpha and added in float32
//   as MONAI does, and constant in the gradient. f = mean over the spatial axes (and the batch
//   with `batch`) of (p - t)^2 (pred_field^alpha + target_field^alpha); then the reduction.
// - The boundary loss (Kervadec et al. 2019): mean over (b, c, voxels) of p * phi, phi the
//   target's signed distance (distance-transform.ts: + outside, - inside, measured to the
//   nearest voxel on the other side), 0 for a target volume that is all inside or all outside
//   (Kervadec's reference leaves empty classes at 0). Kervadec's code shifts the inside values by
//   one voxel (-(d - 1)); we keep both sides measured alike, so phi = +-(Hausdorff-DT field).

import { signedDistanceTransform } from './distance-transform.js';
import { numel, spacingPerAxis } from './grid.js';

export type LossReduction = 'mean' | 'sum' | 'none';

export interface LossResult {
  /** The loss; for reduction 'none' the sum of the returned tensor (what its gradient is of). */
  value: number;
  /** reduction 'none': the tensor's shape and values; otherwise null. */
  valueShape: number[] | null;
  valueData: Float64Array | null;
  /** d(value)/d(input), same layout as the input. */
  grad: Float64Array;
}

function splitShape(
  shape: readonly number[],
  what: string,
): { batch: number; channels: number; spatial: number[]; size: number } {
  if (shape.length < 3 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new RangeError(
      `${what}: the shape must be [B, C, ...spatial] of positive integers, got ${JSON.stringify(shape)}`,
    );
  }
  const spatial = shape.slice(2);
  return { batch: shape[0], channels: shape[1], spatial, size: numel(spatial) };
}

/**
 * MONAI's Hausdorff-DT field of one volume (float64): the distance of each voxel to the nearest
 * voxel on the other side of `value > 0.5`; all zero when every voxel is on one side.
 */
export function hausdorffDistanceField(values: ArrayLike<number>, spatialShape: readonly number[]): Float64Array {
  const inside = new Uint8Array(values.length);
  let insideCount = 0;
  for (let i = 0; i < values.length; i++) {
    inside[i] = values[i] > 0.5 ? 1 : 0;
    insideCount += inside[i];
  }
  if (insideCount === 0 || insideCount === values.length) return new Float64Array(values.length);
  const signed = signedDistanceTransform(inside, spatialShape);
  return signed.map(Math.abs);
}

/** torch's float32 pow for a tensor and a Python-float exponent (squares and cubes by products). */
function powFloat32(x: number, alpha: number): number {
  const f = Math.fround;
  if (alpha === 2) return f(x * x);
  if (alpha === 3) return f(f(x * x) * x);
  if (alpha === 0.5) return f(Math.sqrt(x));
  return f(Math.pow(x, f(alpha)));
}

export interface HausdorffDTOptions {
  /** Default 2. */
  alpha?: number;
  /** Average over the batch too (one value per channel). Default false. */
  batch?: boolean;
  /** Default 'mean'. */
  reduction?: LossReduction;
  /** LogHausdorffDTLoss: log(1 + loss) after the reduction (element-wise for 'none'). Default false. */
  log?: boolean;
}

/**
 * MONAI's Hausdorff-DT loss on probabilities and a target of the same [B, C, ...spatial] shape
 * (activation, one-hot and background already applied), with d(value)/d(probabilities).
 */
export function hausdorffDTLoss(
  probs: ArrayLike<number>,
  target: ArrayLike<number>,
  shape: readonly number[],
  options: HausdorffDTOptions = {},
): LossResult {
  const { batch, channels, spatial, size } = splitShape(shape, 'hausdorffDTLoss');
  if (probs.length !== batch * channels * size || target.length !== probs.length) {
    throw new RangeError(
      `hausdorffDTLoss: probabilities (${probs.length}) and target (${target.length}) must both hold ${batch * channels * size} values`,
    );
  }
  const alpha = options.alpha ?? 2;
  const overBatch = options.batch ?? false;
  const reduction = options.reduction ?? 'mean';
  // f[(b, c)] (or f[c] with overBatch) and the weight of each voxel's squared error in it
  const cells = overBatch ? channels : batch * channels;
  const perCell = overBatch ? batch * size : size;
  const f = new Float64Array(cells);
  const weight = new Float64Array(probs.length); // (pred_field^alpha + target_field^alpha) / perCell
  const volume = (data: ArrayLike<number>, offset: number): Float64Array => {
    const v = new Float64Array(size);
    for (let i = 0; i < size; i++) v[i] = data[offset + i];
    return v;
  };
  for (let b = 0; b < batch; b++) {
    for (let c = 0; c < channels; c++) {
      const offset = (b * channels + c) * size;
      const predField = hausdorffDistanceField(volume(probs, offset), spatial);
      const targetField = hausdorffDistanceField(volume(target, offset), spatial);
      const cell = overBatch ? c : b * channels + c;
      for (let i = 0; i < size; i++) {
        const distance = Math.fround(
          powFloat32(Math.fround(predField[i]), alpha) + powFloat32(Math.fround(targetField[i]), alpha),
        );
        const error = probs[offset + i] - target[offset + i];
        f[cell] += (error * error * distance) / perCell;
        weight[offset + i] = distance / perCell;
      }
    }
  }
  // d(value)/d(f[cell])
  const log = options.log ?? false;
  const dValue = new Float64Array(cells);
  let value: number;
  let valueShape: number[] | null = null;
  let valueData: Float64Array | null = null;
  if (reduction === 'none') {
    valueData = log ? f.map((x) => Math.log1p(x)) : f;
    valueShape = [overBatch ? 1 : batch, channels, ...spatial.map(() => 1)];
    value = valueData.reduce((s, x) => s + x, 0);
    for (let k = 0; k < cells; k++) dValue[k] = log ? 1 / (1 + f[k]) : 1;
  } else {
    const total = f.reduce((s, x) => s + x, 0);
    const reduced = reduction === 'mean' ? total / cells : total;
    const scale = (reduction === 'mean' ? 1 / cells : 1) * (log ? 1 / (1 + reduced) : 1);
    value = log ? Math.log1p(reduced) : reduced;
    dValue.fill(scale);
  }
  const grad = new Float64Array(probs.length);
  for (let b = 0; b < batch; b++) {
    for (let c = 0; c < channels; c++) {
      const offset = (b * channels + c) * size;
      const d = dValue[overBatch ? c : b * channels + c];
      for (let i = 0; i < size; i++)
        grad[offset + i] = d * 2 * (probs[offset + i] - target[offset + i]) * weight[offset + i];
    }
  }
  return { value, valueShape, valueData, grad };
}

export interface BoundaryLossOptions {
  /** Voxel size for the signed distance: one number or one per spatial axis. Default 1. */
  spacing?: number | readonly number[];
  /** Keep channel 0 when there are several channels. Default false (as MONAI's losses). */
  includeBackground?: boolean;
}

export interface BoundaryLossResult {
  value: number;
  /** d(value)/d(probabilities); 0 on a dropped background channel. */
  grad: Float64Array;
  /** The target's signed distance per (b, c) (0 where the volume is all inside or all outside). */
  distance: Float64Array;
}

/** Kervadec's boundary loss: mean of p * phi(target > 0.5) over batch, kept channels and voxels. */
export function boundaryLoss(
  probs: ArrayLike<number>,
  target: ArrayLike<number>,
  shape: readonly number[],
  options: BoundaryLossOptions = {},
): BoundaryLossResult {
  const { batch, channels, spatial, size } = splitShape(shape, 'boundaryLoss');
  if (probs.length !== batch * channels * size || target.length !== probs.length) {
    throw new RangeError(
      `boundaryLoss: probabilities (${probs.length}) and target (${target.length}) must both hold ${batch * channels * size} values`,
    );
  }
  const spacing = spacingPerAxis(options.spacing, spatial.length, 'boundaryLoss');
  const first = !(options.includeBackground ?? false) && channels > 1 ? 1 : 0;
  const count = batch * (channels - first) * size;
  const distance = new Float64Array(probs.length);
  const grad = new Float64Array(probs.length);
  let value = 0;
  for (let b = 0; b < batch; b++) {
    for (let c = 0; c < channels; c++) {
      const offset = (b * channels + c) * size;
      const inside = new Uint8Array(size);
      let insideCount = 0;
      for (let i = 0; i < size; i++) insideCount += inside[i] = target[offset + i] > 0.5 ? 1 : 0;
      if (insideCount > 0 && insideCount < size)
        distance.set(signedDistanceTransform(inside, spatial, { spacing }), offset);
      if (c < first) continue;
      for (let i = 0; i < size; i++) {
        value += (probs[offset + i] * distance[offset + i]) / count;
        grad[offset + i] = distance[offset + i] / count;
      }
    }
  }
  return { value, grad, distance };
}
