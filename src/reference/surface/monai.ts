// MONAI 1.5.0's surface APIs over the float64 reference: one function per MONAI API, taking the
// options as MONAI names them and channel-first tensors ({ shape, data } flat, row-major), and
// returning what MONAI returns: a [B, C'] metric (NaN and Infinity where MONAI has them) or a
// loss value with its gradient. Option parsing and the shape-dependent rules live in
// src/peers/monai-surface.ts (shared with the GPU presets).

import { edgeDistances, hausdorffFromDistances, meanOfAll, surfaceDice } from './metrics.js';
import { type LossResult, hausdorffDTLoss } from './losses.js';
import {
  type MonaiSpacing,
  type SurfaceDistanceMetric,
  firstKeptChannel,
  parseAverageSurfaceDistanceOptions,
  parseHausdorffDTLossOptions,
  parseHausdorffDistanceOptions,
  parseSurfaceDiceOptions,
  resolveClassThresholds,
  resolveHausdorffDTChannels,
  resolveSpacing,
} from '../../peers/monai-surface.js';
import { WgslDiceError } from '../../core/errors.js';
import { numel } from './grid.js';

export interface FlatTensor {
  shape: readonly number[];
  data: ArrayLike<number>;
}

export interface MetricResult {
  /** [B, C']: C' = C - 1 when the background channel is dropped. */
  shape: [number, number];
  /** Row-major values (NaN / Infinity as MONAI returns them; MONAI's are float32). */
  data: Float64Array;
  /** The same values as nested arrays [B][C']. */
  values: number[][];
}

export type { LossResult } from './losses.js';

type Options = Readonly<Record<string, unknown>> | null | undefined;

function checkTensor(api: string, name: string, t: FlatTensor, minRank: number, maxRank = Infinity): void {
  const { shape } = t;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new WgslDiceError(
      'INVALID_SHAPE',
      `${api}: ${name}.shape must be a list of positive integers, got ${JSON.stringify(shape)}`,
    );
  }
  if (shape.length < minRank || shape.length > maxRank) {
    const want =
      maxRank === Infinity
        ? `[B, C, ...spatial] (at least ${minRank} dimensions)`
        : `${minRank}-${maxRank} dimensions ([B, C, H, W] or [B, C, H, W, D])`;
    throw new WgslDiceError('INVALID_SHAPE', `${api}: ${name} must be ${want}, got shape [${shape.join(', ')}]`);
  }
  if (t.data.length !== numel(shape)) {
    throw new WgslDiceError(
      'INVALID_SHAPE',
      `${api}: ${name}.data holds ${t.data.length} values but its shape [${shape.join(', ')}] needs ${numel(shape)}`,
    );
  }
}

function checkBinary(api: string, name: string, data: ArrayLike<number>): void {
  for (let i = 0; i < data.length; i++) {
    if (data[i] !== 0 && data[i] !== 1) {
      throw new WgslDiceError(
        'INVALID_INPUT',
        `${api}: ${name} must be a binary mask (0 or 1, one-hot or multi-label), but element ${i} is ${data[i]} (MONAI would silently count only exact 1s)`,
      );
    }
  }
}

interface MetricPair {
  batch: number;
  first: number;
  kept: number;
  spatial: number[];
  size: number;
  channels: number;
}

function metricPair(
  api: string,
  yPred: FlatTensor,
  y: FlatTensor,
  includeBackground: boolean,
  ranks: [number, number] = [3, Infinity],
): MetricPair {
  checkTensor(api, 'y_pred', yPred, ...ranks);
  checkTensor(api, 'y', y, ...ranks);
  if (yPred.shape.length !== y.shape.length || yPred.shape.some((d, i) => d !== y.shape[i])) {
    throw new WgslDiceError(
      'INVALID_SHAPE',
      `${api}: y_pred and y should have same shapes, got [${yPred.shape.join(', ')}] and [${y.shape.join(', ')}]`,
    );
  }
  checkBinary(api, 'y_pred', yPred.data);
  checkBinary(api, 'y', y.data);
  const [batch, channels, ...spatial] = yPred.shape;
  const first = firstKeptChannel(includeBackground, channels);
  return { batch, channels, first, kept: channels - first, spatial, size: numel(spatial) };
}

/** Runs `perVolume` on every (b, kept c) pair of binary volumes. */
function perClass(
  pair: MetricPair,
  yPred: FlatTensor,
  y: FlatTensor,
  perVolume: (pred: Uint8Array, target: Uint8Array, b: number, c: number) => number,
): MetricResult {
  const { batch, channels, first, kept, size } = pair;
  const data = new Float64Array(batch * kept);
  const pred = new Uint8Array(size);
  const target = new Uint8Array(size);
  for (let b = 0; b < batch; b++) {
    for (let c = 0; c < kept; c++) {
      const offset = (b * channels + c + first) * size;
      for (let i = 0; i < size; i++) {
        pred[i] = yPred.data[offset + i];
        target[i] = y.data[offset + i];
      }
      data[b * kept + c] = perVolume(pred, target, b, c);
    }
  }
  const values = Array.from({ length: batch }, (_, b) => Array.from(data.subarray(b * kept, (b + 1) * kept)));
  return { shape: [batch, kept], data, values };
}

/** A metric over both masks' edge distances, for every (b, kept c). */
function edgeDistanceMetric(
  api: string,
  spec: { includeBackground: boolean; distanceMetric: SurfaceDistanceMetric; spacing: MonaiSpacing },
  yPred: FlatTensor,
  y: FlatTensor,
  directed: boolean,
  reduce: (directions: Float64Array[]) => number,
): MetricResult {
  const pair = metricPair(api, yPred, y, spec.includeBackground);
  const spacing = resolveSpacing(spec.spacing, pair.batch, pair.spatial.length, api);
  return perClass(pair, yPred, y, (pred, target, b) =>
    reduce(edgeDistances(pred, target, pair.spatial, { metric: spec.distanceMetric, spacing: spacing[b] }, directed)),
  );
}

/** `monai.metrics.compute_hausdorff_distance(y_pred, y, **options)`: [B, C']. */
export function compute_hausdorff_distance(options: Options, yPred: FlatTensor, y: FlatTensor): MetricResult {
  const spec = parseHausdorffDistanceOptions(options);
  return edgeDistanceMetric('compute_hausdorff_distance', spec, yPred, y, spec.directed, (d) =>
    hausdorffFromDistances(d, spec.percentile),
  );
}

/** `monai.metrics.compute_average_surface_distance(y_pred, y, **options)`: [B, C']. */
export function compute_average_surface_distance(options: Options, yPred: FlatTensor, y: FlatTensor): MetricResult {
  const spec = parseAverageSurfaceDistanceOptions(options);
  return edgeDistanceMetric('compute_average_surface_distance', spec, yPred, y, !spec.symmetric, meanOfAll);
}

/** `monai.metrics.compute_surface_dice(y_pred, y, class_thresholds, **options)`: [B, C']. */
export function compute_surface_dice(options: Options, yPred: FlatTensor, y: FlatTensor): MetricResult {
  const api = 'compute_surface_dice';
  const spec = parseSurfaceDiceOptions(options);
  // MONAI: "y_pred and y should be one-hot encoded: [B,C,H,W] or [B,C,H,W,D]"
  const pair = metricPair(api, yPred, y, spec.includeBackground, [4, 5]);
  const thresholds = resolveClassThresholds(spec, pair.kept);
  const spacing = resolveSpacing(spec.spacing, pair.batch, pair.spatial.length, api);
  return perClass(pair, yPred, y, (pred, target, b, c) =>
    surfaceDice(pred, target, pair.spatial, {
      metric: spec.distanceMetric,
      spacing: spacing[b],
      tolerance: thresholds[c],
      subvoxels: spec.useSubvoxels,
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Losses
// ---------------------------------------------------------------------------------------------

function hausdorffLoss(
  api: 'HausdorffDTLoss' | 'LogHausdorffDTLoss',
  options: Options,
  input: FlatTensor,
  target: FlatTensor,
): LossResult {
  const spec = parseHausdorffDTLossOptions(options, api);
  checkTensor(api, 'input', input, 4, 5);
  checkTensor(api, 'target', target, 4, 5);
  const [batch, channels, ...spatial] = input.shape;
  const size = numel(spatial);
  for (const [name, t] of [
    ['input', input],
    ['target', target],
  ] as const) {
    for (let i = 0; i < t.data.length; i++) {
      if (!Number.isFinite(t.data[i]))
        throw new WgslDiceError('INVALID_INPUT', `${api}: ${name} element ${i} is ${t.data[i]}: inputs must be finite`);
    }
  }
  const effective = resolveHausdorffDTChannels(spec, channels);
  const probs = activate(input, effective.sigmoid, effective.softmax, channels, size);
  const oneHot = effective.toOnehotY ? toOneHot(api, target, input.shape) : Float64Array.from(target.data);
  const targetShape = effective.toOnehotY ? input.shape : target.shape;
  if (targetShape.length !== input.shape.length || targetShape.some((d, i) => d !== input.shape[i])) {
    throw new WgslDiceError(
      'INVALID_SHAPE',
      `${api}: ground truth has different shape ([${target.shape.join(', ')}]) from input ([${input.shape.join(', ')}])` +
        (target.shape[1] === 1 && channels > 1 ? '; a label map [B, 1, ...] needs to_onehot_y: true' : ''),
    );
  }
  const first = effective.firstChannel;
  const kept = channels - first;
  const keptShape = [batch, kept, ...spatial];
  const slice = (data: ArrayLike<number>): Float64Array => {
    const out = new Float64Array(batch * kept * size);
    for (let b = 0; b < batch; b++)
      for (let c = 0; c < kept; c++)
        for (let i = 0; i < size; i++) out[(b * kept + c) * size + i] = data[(b * channels + c + first) * size + i];
    return out;
  };
  const r = hausdorffDTLoss(slice(probs), slice(oneHot), keptShape, {
    alpha: spec.alpha,
    batch: spec.batch,
    reduction: spec.reduction,
    log: api === 'LogHausdorffDTLoss',
  });
  // back through the channel slice and the activation
  const gradProbs = new Float64Array(input.data.length);
  for (let b = 0; b < batch; b++)
    for (let c = 0; c < kept; c++)
      for (let i = 0; i < size; i++)
        gradProbs[(b * channels + c + first) * size + i] = r.grad[(b * kept + c) * size + i];
  return { ...r, grad: activationBackward(probs, gradProbs, effective.sigmoid, effective.softmax, channels, size) };
}

/** `monai.losses.HausdorffDTLoss(**options)(input, target)`: value and d(value)/d(input). */
export function HausdorffDTLoss(options: Options, input: FlatTensor, target: FlatTensor): LossResult {
  return hausdorffLoss('HausdorffDTLoss', options, input, target);
}

/** `monai.losses.LogHausdorffDTLoss(**options)(input, target)`: value and d(value)/d(input). */
export function LogHausdorffDTLoss(options: Options, input: FlatTensor, target: FlatTensor): LossResult {
  return hausdorffLoss('LogHausdorffDTLoss', options, input, target);
}

function activate(input: FlatTensor, sigmoid: boolean, softmax: boolean, channels: number, size: number): Float64Array {
  const x = Float64Array.from(input.data);
  if (sigmoid) return x.map((v) => 1 / (1 + Math.exp(-v)));
  if (!softmax) return x;
  const out = new Float64Array(x.length);
  const batch = x.length / (channels * size);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < size; i++) {
      let max = -Infinity;
      for (let c = 0; c < channels; c++) max = Math.max(max, x[(b * channels + c) * size + i]);
      let sum = 0;
      for (let c = 0; c < channels; c++) sum += Math.exp(x[(b * channels + c) * size + i] - max);
      for (let c = 0; c < channels; c++)
        out[(b * channels + c) * size + i] = Math.exp(x[(b * channels + c) * size + i] - max) / sum;
    }
  }
  return out;
}

function activationBackward(
  probs: Float64Array,
  grad: Float64Array,
  sigmoid: boolean,
  softmax: boolean,
  channels: number,
  size: number,
): Float64Array {
  if (sigmoid) return grad.map((g, i) => g * probs[i] * (1 - probs[i]));
  if (!softmax) return grad;
  const out = new Float64Array(grad.length);
  const batch = grad.length / (channels * size);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < size; i++) {
      let dot = 0;
      for (let c = 0; c < channels; c++)
        dot += probs[(b * channels + c) * size + i] * grad[(b * channels + c) * size + i];
      for (let c = 0; c < channels; c++) {
        const k = (b * channels + c) * size + i;
        out[k] = probs[k] * (grad[k] - dot);
      }
    }
  }
  return out;
}

/** MONAI's one_hot of a [B, 1, ...] label map into the input's C channels. */
function toOneHot(api: string, target: FlatTensor, inputShape: readonly number[]): Float64Array {
  const [batch, channels, ...spatial] = inputShape;
  if (
    target.shape.length !== inputShape.length ||
    target.shape[0] !== batch ||
    target.shape[1] !== 1 ||
    target.shape.slice(2).some((d, i) => d !== spatial[i])
  ) {
    throw new WgslDiceError(
      'INVALID_SHAPE',
      `${api}: with to_onehot_y the target must be a label map [${batch}, 1, ${spatial.join(', ')}], got [${target.shape.join(', ')}]`,
    );
  }
  const size = numel(spatial);
  const out = new Float64Array(batch * channels * size);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < size; i++) {
      const label = target.data[b * size + i];
      if (!Number.isInteger(label) || label < 0 || label >= channels) {
        throw new WgslDiceError(
          'INVALID_INPUT',
          `${api}: target label ${label} at element ${b * size + i} is not an integer class index from 0 to ${channels - 1}`,
        );
      }
      out[(b * channels + label) * size + i] = 1;
    }
  }
  return out;
}
