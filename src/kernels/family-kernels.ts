import backwardSource from '../../shaders/family_backward.wgsl';
import finalizeSource from '../../shaders/family_finalize.wgsl';
import reduceSource from '../../shaders/family_reduce.wgsl';
import voxelStatsSource from '../../shaders/family_voxel_stats.wgsl';
import wassersteinBackwardSource from '../../shaders/wasserstein_backward.wgsl';
import wassersteinFinalizeSource from '../../shaders/wasserstein_finalize.wgsl';
import wassersteinReduceSource from '../../shaders/wasserstein_reduce.wgsl';
import type { NormalizedLossOptions } from '../family/options.js';
import type { NormalizedWassersteinOptions } from '../family/wasserstein.js';
import type { BindingWindow, ColumnGrid } from '../plan.js';
import { UNIFORM_STRIDE } from './dice-kernels.js';

/**
 * The loss-family kernels (and the Generalized Wasserstein Dice set): sources by name and the
 * uniform blocks, packed field by field in the order of the WGSL structs they mirror.
 */
export const familyShaders = {
  family_voxel_stats: voxelStatsSource,
  family_reduce: reduceSource,
  family_finalize: finalizeSource,
  family_backward: backwardSource,
  wasserstein_reduce: wassersteinReduceSource,
  wasserstein_finalize: wassersteinFinalizeSource,
  wasserstein_backward: wassersteinBackwardSource,
} as const;

export type FamilyShaderName = keyof typeof familyShaders;

const ACTIVATION = { none: 0, sigmoid: 1, softmax: 2, argmax: 3, threshold: 4, tanh: 5 } as const;
const TARGET = { dense: 0, u8: 1, u16: 2, u32: 3 } as const;
const MASK = { none: 0, weight: 1, logits: 2 } as const;
const VALUE = { 'one-minus': 0, 'negative-log': 1, negative: 2 } as const;
const GDL = { square: 1, simple: 2, uniform: 3 } as const;

/** 0 none, 1 softmax cross-entropy, 2 binary cross-entropy. */
export function auxKind(o: NormalizedLossOptions): number {
  if (!o.crossEntropy) return 0;
  return o.crossEntropy.form === 'softmax' ? 1 : 2;
}

/** 0 none, 1 sigmoid form, 2 softmax form. */
export function focalKind(o: NormalizedLossOptions): number {
  if (!o.focal) return 0;
  return o.focal.useSoftmax ? 2 : 1;
}

/** Whether the voxel pre-pass runs: softmax or argmax activations, softmax cross-entropy, or the softmax-form focal term. */
export function needsVoxelStats(o: NormalizedLossOptions): boolean {
  return o.activation === 'softmax' || o.activation === 'argmax' || auxKind(o) === 1 || focalKind(o) === 2;
}

/** The largest finite f32: stands for "no lower clamp" in a uniform. */
const F32_MAX = 3.4028234663852886e38;

/** Writes u32 and f32 fields into one uniform block, 16-byte padded. */
function pack(fields: readonly ['u' | 'f', number][]): ArrayBuffer {
  const bytes = new ArrayBuffer(Math.ceil((fields.length * 4) / 16) * 16);
  const view = new DataView(bytes);
  fields.forEach(([kind, value], i) => {
    if (kind === 'u') view.setUint32(i * 4, value, true);
    else view.setFloat32(i * 4, value, true);
  });
  return bytes;
}

/**
 * The grid of the voxel-major passes (voxel statistics, backward): `slabs` runs of
 * `slabVoxels` voxels (the whole batch channels-last, one sample channels-first), each cut in
 * `chunks` chunks of `voxelsPerChunk`, run slab-major.
 */
export interface VoxelGrid {
  readonly slabVoxels: number;
  readonly chunks: number;
  readonly voxelsPerChunk: number;
}

/**
 * One uniform block per binding window, UNIFORM_STRIDE apart. A window's `elementBase` is in
 * voxels here (see src/family/loss.ts); the kernels get it as voxel_base and, times C, as
 * element_base.
 */
function perWindow(
  o: NormalizedLossOptions,
  windows: readonly BindingWindow[],
  fields: readonly ['u' | 'f', number][],
): ArrayBuffer {
  const bytes = new ArrayBuffer(windows.length * UNIFORM_STRIDE);
  windows.forEach((w, i) => {
    const block = pack([...fields, ['u', w.linearBase], ['u', w.elementBase], ['u', w.elementBase * o.classes]]);
    if (block.byteLength > UNIFORM_STRIDE) throw new Error('family uniform block larger than UNIFORM_STRIDE');
    new Uint8Array(bytes, i * UNIFORM_STRIDE, block.byteLength).set(new Uint8Array(block));
  });
  return bytes;
}

/** Mirrors `VoxelParams` in family_voxel_stats.wgsl, one block per window. */
export function packVoxelParams(o: NormalizedLossOptions, grid: VoxelGrid, windows: readonly BindingWindow[]): ArrayBuffer {
  return perWindow(o, windows, [
    ['u', o.batch * o.spatial], ['u', o.classes], ['u', o.spatial], ['u', +o.channelsFirst],
    // focal_first_class = classes tells the pass that no softmax-form focal term needs its lse.
    ['u', grid.voxelsPerChunk], ['u', focalKind(o) === 2 ? o.focal!.firstClass : o.classes], ['u', +(o.mask === 'logits')], ['u', +o.maskPerSample],
    ['u', grid.slabVoxels], ['u', grid.chunks],
  ]);
}

/** Mirrors `FamilyParams` in family_reduce.wgsl, one block per window. */
export function packReduceParams(o: NormalizedLossOptions, grid: ColumnGrid, windows: readonly BindingWindow[]): ArrayBuffer {
  return perWindow(o, windows, [
    ['u', grid.rows], ['u', grid.cols], ['u', grid.colsPerGroup], ['u', grid.lanes],
    ['u', grid.rowsPerChunk], ['u', grid.chunks], ['u', grid.treeStart], ['u', o.classes],
    ['u', o.spatial], ['u', +o.channelsFirst], ['u', ACTIVATION[o.activation]], ['u', TARGET[o.target]],
    ['u', o.ignoreIndex ?? 0], ['u', +(o.ignoreIndex !== undefined)], ['u', MASK[o.mask]], ['u', +o.maskPerSample],
    ['u', o.squared ? 2 : 1], ['u', auxKind(o)], ['f', o.threshold], ['u', focalKind(o)],
    ['u', o.focal?.firstClass ?? 0], ['f', o.focal?.gamma ?? 0], ['f', o.crossEntropy?.posWeight ?? 1],
    ['f', o.crossEntropy?.labelSmoothing ?? 0], ['u', +o.softAbs],
  ]);
}

/** Mirrors `FinalizeParams` in family_finalize.wgsl. */
export function packFinalizeParams(o: NormalizedLossOptions, chunks: number, groups: number): ArrayBuffer {
  const weighting = o.gdlWeight ? GDL[o.gdlWeight] : o.inverseFrequency ? 4 : 0;
  return pack([
    ['u', o.batch], ['u', o.classes], ['u', chunks], ['u', +o.channelsFirst],
    ['u', +o.poolBatch], ['u', +o.poolClasses], ['u', groups], ['u', +o.softLabel],
    ['u', VALUE[o.value]], ['u', +o.emptyZero], ['u', weighting], ['u', auxKind(o)],
    ['f', o.score.numTp], ['f', o.score.denTp], ['f', o.score.denFp], ['f', o.score.denFn],
    ['f', o.smoothNumerator], ['f', o.smoothDenominator], ['f', Math.max(o.denominatorMin, -F32_MAX)], ['f', o.logEps],
    ['f', o.gamma], ['f', o.lambdaDice], ['f', o.crossEntropy?.lambda ?? 0], ['f', o.crossEntropy?.divisor ?? 0],
    ['u', focalKind(o)], ['f', o.focal?.lambda ?? 0], ['f', o.focal ? 1 / o.focal.normaliser : 0], ['f', Math.max(o.tpMin, -F32_MAX)],
  ]);
}

/** Mirrors `BackwardParams` in family_backward.wgsl, one block per window. */
export function packBackwardParams(o: NormalizedLossOptions, grid: VoxelGrid, windows: readonly BindingWindow[]): ArrayBuffer {
  return perWindow(o, windows, [
    ['u', o.batch * o.spatial], ['u', o.classes], ['u', o.spatial], ['u', +o.channelsFirst],
    ['u', ACTIVATION[o.activation]], ['u', TARGET[o.target]], ['u', o.ignoreIndex ?? 0], ['u', +(o.ignoreIndex !== undefined)],
    ['u', MASK[o.mask]], ['u', +o.maskPerSample], ['u', o.squared ? 2 : 1], ['u', grid.voxelsPerChunk],
    ['u', focalKind(o)], ['u', o.focal?.firstClass ?? 0], ['f', o.focal?.gamma ?? 0], ['f', o.crossEntropy?.posWeight ?? 1],
    ['f', o.crossEntropy?.labelSmoothing ?? 0], ['u', grid.slabVoxels], ['u', grid.chunks], ['u', auxKind(o)],
    ['u', +o.softAbs],
  ]);
}

/** Per class, two vec4: (included, fixed group weight, cross-entropy weight, 0) and (focal F+ factor, focal F- factor, 0, 0). */
export function packClassInfo(o: NormalizedLossOptions): Float32Array<ArrayBuffer> {
  const info = new Float32Array(o.classes * 8);
  for (let c = 0; c < o.classes; c++) {
    info[c * 8] = o.included[c] ? 1 : 0;
    info[c * 8 + 1] = c < o.groupWeights.length ? o.groupWeights[c] : 0;
    info[c * 8 + 2] = o.crossEntropy ? o.crossEntropy.weights[c] : 0;
    info[c * 8 + 4] = o.focal ? o.focal.positive[c] : 0;
    info[c * 8 + 5] = o.focal ? o.focal.negative[c] : 0;
  }
  return info;
}

/** Mirrors `WassersteinParams` in wasserstein_reduce.wgsl. */
export function packWassersteinReduceParams(o: NormalizedWassersteinOptions, grid: ColumnGrid): ArrayBuffer {
  return pack([
    ['u', grid.rows], ['u', grid.cols], ['u', grid.colsPerGroup], ['u', grid.lanes],
    ['u', grid.rowsPerChunk], ['u', grid.chunks], ['u', grid.treeStart], ['u', o.classes],
    ['u', o.spatial], ['u', +o.channelsFirst], ['u', TARGET[o.target]], ['u', 0],
  ]);
}

/** Mirrors `FinalizeParams` in wasserstein_finalize.wgsl. */
export function packWassersteinFinalizeParams(o: NormalizedWassersteinOptions, chunks: number): ArrayBuffer {
  return pack([
    ['u', o.batch], ['u', o.classes], ['u', chunks], ['u', o.weighting === 'GDL' ? 1 : 0],
    ['f', o.smoothNumerator], ['f', o.smoothDenominator], ['f', o.reduction === 'mean' ? 1 / o.batch : 1], ['u', 0],
  ]);
}

/** Mirrors `BackwardParams` in wasserstein_backward.wgsl. */
export function packWassersteinBackwardParams(o: NormalizedWassersteinOptions, voxelsPerChunk: number): ArrayBuffer {
  return pack([
    ['u', o.batch * o.spatial], ['u', o.classes], ['u', o.spatial], ['u', +o.channelsFirst],
    ['u', TARGET[o.target]], ['u', voxelsPerChunk], ['u', 0], ['u', 0],
  ]);
}
