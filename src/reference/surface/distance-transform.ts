// Distance transforms of binary masks on an N-d grid, in float64: for every voxel, the distance
// to the nearest feature voxel (a voxel whose mask value is not 0).
//
// Conventions (the GPU transform is checked against these):
// - euclidean: sqrt(sum_a (spacing_a * dx_a)^2); `squared` gives the sum itself. With unit
//   spacing (or any integer spacing) squared distances are integers and computed exactly.
// - chessboard: max_a |dx_a|; taxicab: sum_a |dx_a|, in voxel steps: like MONAI (scipy's
//   distance_transform_cdt) they take no spacing, and passing one is an error.
// - No feature voxel at all: +Infinity everywhere.
// - Signed distance (for the boundary loss): outside the mask +(distance to the nearest voxel
//   inside), inside -(distance to the nearest voxel outside); no voxel is 0. Its magnitude is
//   MONAI's Hausdorff-DT field. An empty mask gives +Infinity everywhere, a full mask -Infinity.
//
// Two implementations: `distanceTransformBruteForce` (every voxel against every feature voxel)
// and `distanceTransform`, exact and linear in the number of voxels: one pass per axis, each
// taking the lower envelope of the previous pass's values along the line (Meijster, Roerdink
// and Hesselink 2000; for the Euclidean case the parabolas of Felzenszwalb and Huttenlocher).

import { checkGridShape, forEachLine, numel, spacingPerAxis } from './grid.js';

export type DistanceMetric = 'euclidean' | 'chessboard' | 'taxicab';

export interface DistanceTransformOptions {
  /** Default 'euclidean'. */
  metric?: DistanceMetric;
  /** Euclidean only: the voxel size, one number for every axis or one per axis. Default 1. */
  spacing?: number | readonly number[];
  /** Return squared distances (the square of the metric's distance). Default false. */
  squared?: boolean;
}

interface Resolved {
  metric: DistanceMetric;
  spacing: number[];
  squared: boolean;
}

function resolve(
  what: string,
  mask: ArrayLike<number>,
  shape: readonly number[],
  options: DistanceTransformOptions,
): Resolved {
  checkGridShape(shape, what);
  if (mask.length !== numel(shape)) {
    throw new RangeError(
      `${what}: the mask holds ${mask.length} values but the shape [${shape.join(', ')}] needs ${numel(shape)}`,
    );
  }
  const metric = options.metric ?? 'euclidean';
  if (metric !== 'euclidean' && metric !== 'chessboard' && metric !== 'taxicab') {
    throw new RangeError(
      `${what}: metric must be 'euclidean', 'chessboard' or 'taxicab', got ${JSON.stringify(metric)}`,
    );
  }
  if (metric !== 'euclidean' && options.spacing !== undefined) {
    throw new RangeError(
      `${what}: the ${metric} distance counts voxel steps and takes no spacing (as MONAI and scipy's distance_transform_cdt)`,
    );
  }
  return { metric, spacing: spacingPerAxis(options.spacing, shape.length, what), squared: options.squared ?? false };
}

function finish(values: Float64Array, r: Resolved, valuesAreSquared: boolean): Float64Array {
  if (valuesAreSquared && !r.squared) for (let i = 0; i < values.length; i++) values[i] = Math.sqrt(values[i]);
  if (!valuesAreSquared && r.squared) for (let i = 0; i < values.length; i++) values[i] *= values[i];
  return values;
}

/** Distance from every voxel to the nearest voxel with `mask != 0`, by comparing every pair. */
export function distanceTransformBruteForce(
  mask: ArrayLike<number>,
  shape: readonly number[],
  options: DistanceTransformOptions = {},
): Float64Array {
  const r = resolve('distanceTransformBruteForce', mask, shape, options);
  const dims = shape.length;
  const n = mask.length;
  const coords = (index: number): number[] => {
    const c = new Array<number>(dims);
    for (let a = dims - 1; a >= 0; a--) {
      c[a] = index % shape[a];
      index = Math.floor(index / shape[a]);
    }
    return c;
  };
  const features: number[][] = [];
  for (let i = 0; i < n; i++) if (mask[i] !== 0) features.push(coords(i));
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const p = coords(i);
    let best = Infinity;
    for (const f of features) {
      let d = 0;
      for (let a = 0; a < dims; a++) {
        const step = Math.abs(p[a] - f[a]);
        if (r.metric === 'euclidean') d += (step * r.spacing[a]) ** 2;
        else if (r.metric === 'taxicab') d += step;
        else d = Math.max(d, step);
      }
      if (d < best) best = d;
    }
    out[i] = best;
  }
  return finish(out, r, r.metric === 'euclidean');
}

/** Distance from every voxel to the nearest voxel with `mask != 0`: exact, linear time. */
export function distanceTransform(
  mask: ArrayLike<number>,
  shape: readonly number[],
  options: DistanceTransformOptions = {},
): Float64Array {
  const r = resolve('distanceTransform', mask, shape, options);
  const n = mask.length;
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = mask[i] !== 0 ? 0 : Infinity;
  const longest = Math.max(...shape);
  const line = new Float64Array(longest);
  const result = new Float64Array(longest);
  const sites = new Int32Array(longest);
  const starts = new Int32Array(longest);
  const kind = r.metric === 'euclidean' ? EUCLIDEAN : r.metric === 'taxicab' ? TAXICAB : CHESSBOARD;
  for (let axis = 0; axis < shape.length; axis++) {
    const m = shape[axis];
    if (m === 1) continue; // a line of one voxel: the envelope is the value itself
    const stride = numel(shape.slice(axis + 1));
    const weight = r.spacing[axis] * r.spacing[axis];
    forEachLine(shape, axis, (start) => {
      for (let x = 0, i = start; x < m; x++, i += stride) line[x] = values[i];
      lowerEnvelope(kind, weight, line, m, result, sites, starts);
      for (let x = 0, i = start; x < m; x++, i += stride) values[i] = result[x];
    });
  }
  return finish(values, r, kind === EUCLIDEAN);
}

/**
 * Signed Euclidean distance: outside the mask +(distance to the nearest voxel inside), inside
 * -(distance to the nearest voxel outside). Empty mask: +Infinity everywhere; full: -Infinity.
 */
export function signedDistanceTransform(
  mask: ArrayLike<number>,
  shape: readonly number[],
  options: { spacing?: number | readonly number[] } = {},
): Float64Array {
  const toInside = distanceTransform(mask, shape, { spacing: options.spacing });
  const outside = new Uint8Array(mask.length);
  for (let i = 0; i < mask.length; i++) outside[i] = mask[i] !== 0 ? 0 : 1;
  const toOutside = distanceTransform(outside, shape, { spacing: options.spacing });
  const out = new Float64Array(mask.length);
  for (let i = 0; i < mask.length; i++) out[i] = mask[i] !== 0 ? -toOutside[i] : toInside[i];
  return out;
}

/**
 * `distanceTransform` of every (sample, class) volume of an NC... tensor (flat, row-major):
 * `shape` is [B, C, ...spatial].
 */
export function distanceTransformBatch(
  data: ArrayLike<number>,
  shape: readonly number[],
  options: DistanceTransformOptions = {},
): Float64Array {
  checkGridShape(shape, 'distanceTransformBatch');
  if (shape.length < 3)
    throw new RangeError(`distanceTransformBatch: the shape must be [B, C, ...spatial], got [${shape.join(', ')}]`);
  const spatial = shape.slice(2);
  const size = numel(spatial);
  if (data.length !== numel(shape))
    throw new RangeError(`distanceTransformBatch: ${data.length} values for shape [${shape.join(', ')}]`);
  const out = new Float64Array(data.length);
  const volume = new Float64Array(size);
  for (let v = 0; v < shape[0] * shape[1]; v++) {
    for (let i = 0; i < size; i++) volume[i] = data[v * size + i];
    out.set(distanceTransform(volume, spatial, options), v * size);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// One axis: out[x] = min over sites i of cost(x, i) (sites: the finite values g[i]).
//   euclidean (squared): cost = w (x - i)^2 + g[i], w = spacing^2
//   taxicab:             cost = |x - i| + g[i]
//   chessboard:          cost = max(|x - i|, g[i])
// For sites i < u the set of x where u costs no more than i is an up-set [split(i, u), inf), so the
// envelope is a stack of sites, each winning from its start to the next site's start.
// ---------------------------------------------------------------------------------------------

const EUCLIDEAN = 0;
const TAXICAB = 1;
const CHESSBOARD = 2;

function cost(kind: number, w: number, x: number, i: number, g: number): number {
  const d = x - i;
  if (kind === EUCLIDEAN) return w * d * d + g;
  const step = d < 0 ? -d : d;
  return kind === TAXICAB ? step + g : step > g ? step : g;
}

/** The first integer x at which site u (> i) costs no more than site i (any x of a tie will do). */
function split(kind: number, w: number, i: number, gi: number, u: number, gu: number): number {
  if (kind === EUCLIDEAN) {
    // w (x - u)^2 + gu <= w (x - i)^2 + gi  <=>  x >= num / den
    const num = w * (u * u - i * i) + gu - gi;
    const den = 2 * w * (u - i);
    let x = Math.ceil(num / den);
    if (Number.isInteger(num)) {
      // integer data (unit or integer spacing): make the ceiling exact whatever the rounding
      while ((x - 1) * den >= num) x--;
      while (x * den < num) x++;
    }
    return x;
  }
  if (kind === TAXICAB) {
    if (gu - gi > u - i) return Infinity; // u is worse everywhere
    return Math.ceil((u + i + gu - gi) / 2);
  }
  // chessboard
  if (gi <= gu) return Math.max(Math.floor((i + u) / 2) + 1, i + gu);
  return Math.min(u - gi, Math.ceil((i + u) / 2));
}

function lowerEnvelope(
  kind: number,
  w: number,
  g: Float64Array,
  m: number,
  out: Float64Array,
  sites: Int32Array,
  starts: Int32Array,
): void {
  let top = -1;
  for (let u = 0; u < m; u++) {
    const gu = g[u];
    if (gu === Infinity) continue;
    // drop the sites that u matches or beats from where they start winning
    while (top >= 0 && cost(kind, w, starts[top], sites[top], g[sites[top]]) >= cost(kind, w, starts[top], u, gu))
      top--;
    if (top < 0) {
      top = 0;
      sites[0] = u;
      starts[0] = 0;
      continue;
    }
    const at = sites[top];
    // u loses at starts[top], so it can only start winning after it (guards float rounding)
    const from = Math.max(split(kind, w, at, g[at], u, gu), starts[top] + 1);
    if (from < m) {
      top++;
      sites[top] = u;
      starts[top] = from;
    }
  }
  if (top < 0) {
    out.fill(Infinity, 0, m);
    return;
  }
  for (let x = m - 1; x >= 0; x--) {
    out[x] = cost(kind, w, x, sites[top], g[sites[top]]);
    if (x === starts[top]) top--;
  }
}
