// The CPU baseline the bench times against the GPU (issue 20, item 6): HD95, average surface
// distance and normalised surface Dice of every foreground label of a label-map pair, with the
// linear-time distance transform. Like MONAI, each label is cropped to the bounding box of both
// masks grown by one voxel before its edges and distances are computed (the crop changes no
// value: the voxels it adds are background, and every edge voxel lies inside it).

import { advance, checkGridShape, numel, stridesOf } from './grid.js';
import { type DistanceMetric } from './distance-transform.js';
import { surfaceMetrics } from './metrics.js';

export interface LabelMapSurfaceOptions {
  /** Number of labels, background (0) included: labels are 0 .. labels - 1. */
  labels: number;
  /** Surface Dice tolerance: one for every label, or one per label reported. */
  tolerance: number | readonly number[];
  /** Hausdorff percentile (null or 0: the maximum). Default 95. */
  percentile?: number | null;
  /** Euclidean voxel size, one number or one per axis. Default 1. */
  spacing?: number | readonly number[];
  /** Default 'euclidean'. */
  metric?: DistanceMetric;
  /** Average surface distance over both directions. Default false (MONAI's default). */
  symmetric?: boolean;
  /** Report label 0 too. Default false. */
  includeBackground?: boolean;
}

export interface LabelSurfaceMetrics {
  label: number;
  hausdorff: number;
  averageSurfaceDistance: number;
  surfaceDice: number;
}

/** Per-label surface metrics of two label maps of shape `shape` (spatial axes only). */
export function labelMapSurfaceMetrics(
  pred: ArrayLike<number>,
  target: ArrayLike<number>,
  shape: readonly number[],
  options: LabelMapSurfaceOptions,
): LabelSurfaceMetrics[] {
  checkGridShape(shape, 'labelMapSurfaceMetrics');
  const n = numel(shape);
  if (pred.length !== n || target.length !== n) {
    throw new RangeError(
      `labelMapSurfaceMetrics: both label maps must hold ${n} values for shape [${shape.join(', ')}], got ${pred.length} and ${target.length}`,
    );
  }
  const first = options.includeBackground ? 0 : 1;
  const reported = options.labels - first;
  if (!Number.isInteger(options.labels) || reported < 1)
    throw new RangeError(`labelMapSurfaceMetrics: labels must be an integer >= ${first + 1}, got ${options.labels}`);
  const tolerances =
    typeof options.tolerance === 'number'
      ? new Array<number>(reported).fill(options.tolerance)
      : [...options.tolerance];
  if (tolerances.length !== reported)
    throw new RangeError(`labelMapSurfaceMetrics: ${tolerances.length} tolerances for ${reported} labels`);
  const boxes = boundingBoxes(pred, target, shape, options.labels);
  const rows: LabelSurfaceMetrics[] = [];
  for (let label = first; label < options.labels; label++) {
    const crop = cropToLabel(pred, target, shape, label, boxes[label]);
    const m = surfaceMetrics(crop.pred, crop.target, crop.shape, {
      metric: options.metric,
      spacing: options.spacing,
      percentile: options.percentile,
      symmetric: options.symmetric,
      tolerance: tolerances[label - first],
    });
    rows.push({ label, ...m });
  }
  return rows;
}

interface Box {
  lo: number[];
  hi: number[];
}

/** The bounding box of each label over both maps, in one pass (hi < lo where a label is absent). */
function boundingBoxes(
  pred: ArrayLike<number>,
  target: ArrayLike<number>,
  shape: readonly number[],
  labels: number,
): Box[] {
  const boxes = Array.from({ length: labels }, () => ({ lo: [...shape], hi: shape.map(() => -1) }));
  const coord = new Array<number>(shape.length).fill(0);
  const grow = (label: number): void => {
    const box = boxes[label];
    if (box === undefined) return; // a label >= labels is not reported
    for (let a = 0; a < coord.length; a++) {
      if (coord[a] < box.lo[a]) box.lo[a] = coord[a];
      if (coord[a] > box.hi[a]) box.hi[a] = coord[a];
    }
  };
  for (let i = 0; i < pred.length; i++) {
    grow(pred[i]);
    if (target[i] !== pred[i]) grow(target[i]);
    advance(coord, shape);
  }
  return boxes;
}

/** Binary masks of `label` on its bounding box grown by one voxel (clipped to the image). */
function cropToLabel(
  pred: ArrayLike<number>,
  target: ArrayLike<number>,
  shape: readonly number[],
  label: number,
  { lo, hi }: Box,
): { pred: Uint8Array; target: Uint8Array; shape: number[] } {
  const dims = shape.length;
  if (hi[0] < 0) return { pred: new Uint8Array(1), target: new Uint8Array(1), shape: shape.map(() => 1) }; // both empty
  const start = lo.map((v) => Math.max(0, v - 1));
  const cropShape = hi.map((v, a) => Math.min(shape[a] - 1, v + 1) - start[a] + 1);
  const strides = stridesOf(shape);
  const size = numel(cropShape);
  const out = { pred: new Uint8Array(size), target: new Uint8Array(size), shape: cropShape };
  const c = new Array<number>(dims).fill(0);
  for (let k = 0; k < size; k++) {
    let i = 0;
    for (let a = 0; a < dims; a++) i += (start[a] + c[a]) * strides[a];
    out.pred[k] = pred[i] === label ? 1 : 0;
    out.target[k] = target[i] === label ? 1 : 0;
    advance(c, cropShape);
  }
  return out;
}
