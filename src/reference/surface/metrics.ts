// Surface metrics of one (prediction, target) pair of binary masks on an N-d grid, with MONAI
// 1.5.0's conventions (monai/metrics/utils.py get_edge_surface_distance and the three metrics):
//
// - Surfaces are MONAI's edge voxels, or with `subvoxels` the boundary cells (edges.ts).
// - Distances go from each element of one surface to the nearest element of the other, with the
//   spacing for 'euclidean' only.
// - One surface empty: every distance is +Infinity. MONAI then returns, for a direction whose
//   source is empty, one +Infinity per element of the other surface (not an empty list), which
//   is why Hausdorff is +Infinity (or NaN with a percentile) and never NaN-for-empty then.
// - Both empty: no distance at all, and every metric is NaN.
// - Percentiles: torch.quantile's linear interpolation between order statistics, computed in
//   float32 as MONAI does (the rank q * (n - 1) and the interpolation both round to float32).
//   Distances compared with a surface-Dice threshold are float32 too, as in MONAI.

import { type DistanceMetric, distanceTransform } from './distance-transform.js';
import { maskEdges, subvoxelBoundary } from './edges.js';
import { spacingPerAxis } from './grid.js';

export interface SurfaceMetricOptions {
  /** Default 'euclidean'. */
  metric?: DistanceMetric;
  /**
   * Voxel size, one number or one per axis (default 1): scales euclidean distances and subvoxel
   * lengths / areas; chessboard and taxicab distances count voxel steps and ignore it (MONAI).
   */
  spacing?: number | readonly number[];
}

export interface HausdorffOptions extends SurfaceMetricOptions {
  /** 0 to 100, or null / 0 for the maximum. */
  percentile?: number | null;
  /** Prediction to target only. Default false (the larger of both directions). */
  directed?: boolean;
}

export interface AverageSurfaceDistanceOptions extends SurfaceMetricOptions {
  /** Pool both directions' distances (a count-weighted mean). Default false. */
  symmetric?: boolean;
}

export interface SurfaceDiceOptions extends SurfaceMetricOptions {
  /** Distances up to and including this count as matched. */
  tolerance: number;
  /** Boundary cells weighed by length / area instead of edge voxels (2D and 3D). Default false. */
  subvoxels?: boolean;
}

/** Distances from each element of `from` to the nearest element of `to`, MONAI's way. */
export function surfaceDistances(
  from: Uint8Array,
  to: Uint8Array,
  shape: readonly number[],
  options: SurfaceMetricOptions = {},
): Float64Array {
  const spacing = spacingPerAxis(options.spacing, shape.length, 'surfaceDistances');
  const fromCount = count(from);
  const toCount = count(to);
  if (toCount === 0) return new Float64Array(fromCount).fill(Infinity);
  if (fromCount === 0) return new Float64Array(toCount).fill(Infinity);
  const metric = options.metric ?? 'euclidean';
  const field = distanceTransform(to, shape, metric === 'euclidean' ? { metric, spacing } : { metric });
  const out = new Float64Array(fromCount);
  for (let i = 0, k = 0; i < from.length; i++) if (from[i]) out[k++] = field[i];
  return out;
}

function count(mask: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < mask.length; i++) n += mask[i];
  return n;
}

/** Both directions' distances between the edge voxels of two masks (MONAI's default surfaces). */
export function edgeDistances(
  pred: ArrayLike<number>,
  target: ArrayLike<number>,
  shape: readonly number[],
  options: SurfaceMetricOptions = {},
  directed = false,
): Float64Array[] {
  const predEdges = maskEdges(pred, shape);
  const targetEdges = maskEdges(target, shape);
  const forward = surfaceDistances(predEdges, targetEdges, shape, options);
  return directed ? [forward] : [forward, surfaceDistances(targetEdges, predEdges, shape, options)];
}

/** MONAI's Hausdorff distance of one pair: the largest of the directions' maxima or percentiles. */
export function hausdorffDistance(
  pred: ArrayLike<number>,
  target: ArrayLike<number>,
  shape: readonly number[],
  options: HausdorffOptions = {},
): number {
  return hausdorffFromDistances(
    edgeDistances(pred, target, shape, options, options.directed ?? false),
    options.percentile ?? null,
  );
}

export function hausdorffFromDistances(directions: readonly Float64Array[], percentile: number | null): number {
  if (percentile !== null && !(percentile >= 0 && percentile <= 100))
    throw new RangeError(`percentile must be null or from 0 to 100, got ${percentile}`);
  let result = -Infinity;
  for (const d of directions) {
    const v = d.length === 0 ? NaN : percentile ? percentileFloat32(d, percentile) : maxOf(d);
    if (Number.isNaN(v)) return NaN; // torch.max propagates NaN
    result = Math.max(result, v);
  }
  return result;
}

function maxOf(values: Float64Array): number {
  let m = -Infinity;
  for (let i = 0; i < values.length; i++) if (values[i] > m) m = values[i];
  return m;
}

/**
 * torch.quantile(values, percentile / 100) (linear interpolation) on float32 data, as MONAI calls
 * it: q, the rank q * (n - 1) and the interpolation are float32 operations.
 */
export function percentileFloat32(values: Float64Array, percentile: number): number {
  if (!(percentile >= 0 && percentile <= 100))
    throw new RangeError(`percentile must be from 0 to 100, got ${percentile}`);
  const sorted = Float32Array.from(values).sort();
  const n = sorted.length;
  if (n === 0) return NaN;
  if (Number.isNaN(sorted[n - 1])) return NaN;
  const f = Math.fround;
  const rank = f(f(percentile / 100) * (n - 1));
  const below = Math.floor(rank);
  const weight = f(rank - below);
  const a = sorted[below];
  const b = sorted[Math.ceil(rank)];
  // at::lerp: self + w (end - self) for |w| < 0.5, else end - (end - self)(1 - w)
  return weight < 0.5 ? f(a + f(weight * f(b - a))) : f(b - f(f(b - a) * f(1 - weight)));
}

/** MONAI's average surface distance of one pair (NaN when both surfaces are empty). */
export function averageSurfaceDistance(
  pred: ArrayLike<number>,
  target: ArrayLike<number>,
  shape: readonly number[],
  options: AverageSurfaceDistanceOptions = {},
): number {
  return meanOfAll(edgeDistances(pred, target, shape, options, !(options.symmetric ?? false)));
}

export function meanOfAll(directions: readonly Float64Array[]): number {
  let sum = 0;
  let n = 0;
  for (const d of directions) {
    for (let i = 0; i < d.length; i++) sum += d[i];
    n += d.length;
  }
  return n === 0 ? NaN : sum / n;
}

/**
 * MONAI's normalised surface Dice of one pair: the share of both surfaces (counted in elements,
 * or in length / area with `subvoxels`) within `tolerance` of the other. NaN when both are empty.
 */
export function surfaceDice(
  pred: ArrayLike<number>,
  target: ArrayLike<number>,
  shape: readonly number[],
  options: SurfaceDiceOptions,
): number {
  const { tolerance } = options;
  if (!(Number.isFinite(tolerance) && tolerance >= 0))
    throw new RangeError(`surfaceDice: tolerance must be finite and >= 0, got ${tolerance}`);
  if (!options.subvoxels) {
    const [forward, backward] = edgeDistances(pred, target, shape, options);
    return surfaceDiceFromDistances(forward, backward, tolerance);
  }
  const spacing = spacingPerAxis(options.spacing, shape.length, 'surfaceDice');
  const p = subvoxelBoundary(pred, shape, spacing);
  const t = subvoxelBoundary(target, shape, spacing);
  const forward = surfaceDistances(p.boundary, t.boundary, p.cellShape, options);
  const backward = surfaceDistances(t.boundary, p.boundary, p.cellShape, options);
  const predAreas = selected(p.measure, p.boundary);
  const targetAreas = selected(t.measure, t.boundary);
  const complete = sum(predAreas) + sum(targetAreas);
  if (complete === 0) return NaN;
  // an empty side's distances do not line up with the other's areas; MONAI counts nothing there
  const correct =
    (predAreas.length > 0 ? matchedMeasure(predAreas, forward, tolerance) : 0) +
    (targetAreas.length > 0 ? matchedMeasure(targetAreas, backward, tolerance) : 0);
  return correct / complete;
}

export function surfaceDiceFromDistances(forward: Float64Array, backward: Float64Array, tolerance: number): number {
  const complete = forward.length + backward.length;
  if (complete === 0) return NaN;
  const limit = Math.fround(tolerance);
  let correct = 0;
  for (const d of [forward, backward]) for (let i = 0; i < d.length; i++) if (Math.fround(d[i]) <= limit) correct++;
  return correct / complete;
}

function selected(values: Float64Array, mask: Uint8Array): Float64Array {
  const out = new Float64Array(count(mask));
  for (let i = 0, k = 0; i < mask.length; i++) if (mask[i]) out[k++] = values[i];
  return out;
}

function sum(values: Float64Array): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return s;
}

function matchedMeasure(measures: Float64Array, distances: Float64Array, tolerance: number): number {
  const limit = Math.fround(tolerance);
  let s = 0;
  for (let i = 0; i < measures.length; i++) if (Math.fround(distances[i]) <= limit) s += measures[i];
  return s;
}

export interface SurfaceMetricsOptions extends SurfaceMetricOptions {
  /** Hausdorff percentile, 0 to 100; null or 0 for the maximum. Default 95. */
  percentile?: number | null;
  /** Average surface distance over both directions. Default false (MONAI's default). */
  symmetric?: boolean;
  /** Surface Dice tolerance. */
  tolerance: number;
}

export interface SurfaceMetrics {
  /** Symmetric Hausdorff distance at `percentile`. */
  hausdorff: number;
  averageSurfaceDistance: number;
  surfaceDice: number;
}

/** The three metrics of one pair from one computation of both directions' edge distances. */
export function surfaceMetrics(
  pred: ArrayLike<number>,
  target: ArrayLike<number>,
  shape: readonly number[],
  options: SurfaceMetricsOptions,
): SurfaceMetrics {
  const [forward, backward] = edgeDistances(pred, target, shape, options);
  const percentile = options.percentile === undefined ? 95 : options.percentile;
  return {
    hausdorff: hausdorffFromDistances([forward, backward], percentile),
    averageSurfaceDistance: meanOfAll(options.symmetric ? [forward, backward] : [forward]),
    surfaceDice: surfaceDiceFromDistances(forward, backward, options.tolerance),
  };
}
