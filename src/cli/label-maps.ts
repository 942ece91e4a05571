// Two label maps for `wgsl-dice eval`'s segmentation metrics: read from .npy or NIfTI, checked
// (same shape, non-negative integer labels), counted in one pass (voxels per label in each map,
// their intersection: the Dice; and each label's bounding box over both maps), and cut into one
// binary crop per class for the GPU.
//
// Why crops: the surface metrics of a class only look at its bounding box (MONAI crops the same
// way). A crop grown by one voxel, clipped to the image, holds every edge voxel of both masks
// and every distance between them (the image border counts as background either way), so each
// class costs the GPU its box rather than the whole volume, and a CT-sized volume fits the
// binding limits of any adapter as long as each class's box does.
import { CliError } from './errors.js';
import { formatShape } from './format.js';
import { isNiftiPath, readNifti } from './nifti.js';
import { readNpy } from './npy.js';

export interface LabelVolume {
  path: string;
  format: 'npy' | 'NIfTI-1' | 'NIfTI-2';
  dtype: string;
  /** The axes as the file names them (NIfTI: i, j, k; .npy: the array's shape). */
  dims: number[];
  /** Row-major shape of `data` (NIfTI: dims reversed). */
  shape: number[];
  data: ArrayLike<number>;
  /** NIfTI: the voxel size in mm per axis of `shape`, from the header; .npy: null. */
  spacing: number[] | null;
  /** NIfTI: the header's spatial unit ('mm', 'm', 'um', 'unknown'). */
  unit: string | null;
}

export function readLabelVolume(path: string, role: string): LabelVolume {
  if (isNiftiPath(path)) return readNifti(path, role);
  const npy = readNpy(path, role);
  return {
    path,
    format: 'npy',
    dtype: npy.dtype,
    dims: npy.shape,
    shape: npy.shape,
    data: npy.data,
    spacing: null,
    unit: null,
  };
}

/** The largest label the CLI takes (its per-label tables are indexed by label). */
export const MAX_LABEL = 65535;

/** Per label: voxel counts and the bounding box over both maps (inclusive, per axis of the shape). */
export interface LabelStats {
  /** One more than the largest label in either map. */
  labels: number;
  predVoxels: Float64Array;
  targetVoxels: Float64Array;
  intersection: Float64Array;
  /** Per label, per axis (3, outermost first, padded with size-1 axes in front): min and max. */
  boxMin: Int32Array;
  boxMax: Int32Array;
  /** The shape padded to three axes. */
  shape3: [number, number, number];
}

/** Checks both maps (same shape, non-negative integer labels up to MAX_LABEL) and counts them in one pass. */
export function countLabels(pred: LabelVolume, target: LabelVolume): LabelStats {
  if (pred.shape.length !== target.shape.length || pred.shape.some((d, i) => d !== target.shape[i])) {
    throw new CliError(
      `pred ${pred.path} has shape ${formatShape(pred.dims)} and target ${target.path} ${formatShape(target.dims)}: ` +
        'label maps must be on the same voxel grid.',
    );
  }
  if (pred.shape.length < 1 || pred.shape.length > 3) {
    throw new CliError(
      `label maps must have 1 to 3 axes (one volume), got ${formatShape(pred.dims)}; save one volume per file.`,
    );
  }
  const top = Math.max(largestLabel(pred, 'pred'), largestLabel(target, 'target'));
  const labels = top + 1;
  const shape3 = [1, 1, 1, ...pred.shape].slice(-3) as [number, number, number];
  const [D, H, W] = shape3;
  const predVoxels = new Float64Array(labels);
  const targetVoxels = new Float64Array(labels);
  const intersection = new Float64Array(labels);
  const boxMin = new Int32Array(labels * 3).fill(2 ** 30);
  const boxMax = new Int32Array(labels * 3).fill(-1);
  const p = pred.data;
  const t = target.data;
  const grow = (label: number, z: number, y: number, x: number) => {
    const k = label * 3;
    if (z < boxMin[k]) boxMin[k] = z;
    if (z > boxMax[k]) boxMax[k] = z;
    if (y < boxMin[k + 1]) boxMin[k + 1] = y;
    if (y > boxMax[k + 1]) boxMax[k + 1] = y;
    if (x < boxMin[k + 2]) boxMin[k + 2] = x;
    if (x > boxMax[k + 2]) boxMax[k + 2] = x;
  };
  let i = 0;
  for (let z = 0; z < D; z++) {
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++, i++) {
        const a = p[i];
        const b = t[i];
        predVoxels[a]++;
        targetVoxels[b]++;
        if (a === b) {
          intersection[a]++;
          if (a !== 0) grow(a, z, y, x);
        } else {
          if (a !== 0) grow(a, z, y, x);
          if (b !== 0) grow(b, z, y, x);
        }
      }
    }
  }
  // The background's box is the whole image wherever it occurs (the tables skip it for speed).
  if (predVoxels[0] + targetVoxels[0] > 0) {
    boxMin.set([0, 0, 0], 0);
    boxMax.set([D - 1, H - 1, W - 1], 0);
  }
  return { labels, predVoxels, targetVoxels, intersection, boxMin, boxMax, shape3 };
}

/** The largest label of a map; throws on a value that is not a label (negative, fractional, NaN, too large). */
function largestLabel(volume: LabelVolume, role: string): number {
  const data = volume.data;
  let top = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v > top || !(v >= 0)) {
      if (!(Number.isInteger(v) && v >= 0 && v <= MAX_LABEL)) {
        throw new CliError(
          `${role} ${volume.path}: voxel ${i} holds ${v}, which is not a label; label maps hold integer labels ` +
            `from 0 to ${MAX_LABEL} (0 is the background).`,
        );
      }
      top = v;
    }
  }
  // Fractional values below the largest label are caught here (a float map of 0.5s and 2s).
  if (data instanceof Float32Array || data instanceof Float64Array) {
    for (let i = 0; i < data.length; i++) {
      if (!Number.isInteger(data[i])) {
        throw new CliError(
          `${role} ${volume.path}: voxel ${i} holds ${data[i]}, which is not a label; label maps hold integer labels.`,
        );
      }
    }
  }
  return top;
}

/** A class's crop: its box grown by one voxel, clipped to the image. */
export interface ClassCrop {
  /** Outermost first, three axes (size 1 in front for 1D and 2D maps). */
  origin: [number, number, number];
  size: [number, number, number];
}

export function classCrop(stats: LabelStats, label: number): ClassCrop | null {
  const k = label * 3;
  if (label >= stats.labels || stats.boxMax[k] < 0) return null;
  const origin = [0, 0, 0] as [number, number, number];
  const size = [1, 1, 1] as [number, number, number];
  for (let a = 0; a < 3; a++) {
    const lo = Math.max(0, stats.boxMin[k + a] - 1);
    const hi = Math.min(stats.shape3[a] - 1, stats.boxMax[k + a] + 1);
    origin[a] = lo;
    size[a] = hi - lo + 1;
  }
  return { origin, size };
}

/** The class's binary masks (1 where the map holds `label`) inside its crop, row-major. */
export function cropMasks(
  pred: LabelVolume,
  target: LabelVolume,
  stats: LabelStats,
  label: number,
  crop: ClassCrop,
): { pred: Uint8Array; target: Uint8Array } {
  const [, H, W] = stats.shape3;
  const [d, h, w] = crop.size;
  const [z0, y0, x0] = crop.origin;
  const out = { pred: new Uint8Array(d * h * w), target: new Uint8Array(d * h * w) };
  const p = pred.data;
  const t = target.data;
  let o = 0;
  for (let z = 0; z < d; z++) {
    for (let y = 0; y < h; y++) {
      const row = ((z0 + z) * H + y0 + y) * W + x0;
      for (let x = 0; x < w; x++, o++) {
        if (p[row + x] === label) out.pred[o] = 1;
        if (t[row + x] === label) out.target[o] = 1;
      }
    }
  }
  return out;
}
