import backwardSource from '../../shaders/family_backward.wgsl';
import finalizeSource from '../../shaders/family_finalize.wgsl';
import forwardSource from '../../shaders/family_forward.wgsl';
import wassersteinBackwardSource from '../../shaders/wasserstein_backward.wgsl';
import wassersteinFinalizeSource from '../../shaders/wasserstein_finalize.wgsl';
import wassersteinForwardSource from '../../shaders/wasserstein_forward.wgsl';
import type { NormalizedLossOptions } from '../spec/family.js';
import type { NormalizedWassersteinOptions } from '../losses/wasserstein.js';
import { foldLanes, type BindingWindow } from '../program/grids.js';
import { packPerWindow, packUniform, type UniformField } from './uniforms.js';

/**
 * The loss-family kernels (and the Generalized Wasserstein Dice set): sources by name, the
 * `override` constants that fix a pipeline's modes, and the uniform blocks (shapes and
 * scalars), packed from field tables named as the WGSL structs they mirror.
 */
export const familyShaders = {
  family_forward: forwardSource,
  family_forward_quads: forwardSource,
  family_finalize: finalizeSource,
  family_backward: backwardSource,
  family_backward_quads: backwardSource,
  wasserstein_forward: wassersteinForwardSource,
  wasserstein_finalize: wassersteinFinalizeSource,
  wasserstein_backward: wassersteinBackwardSource,
} as const;

export type FamilyShaderName = keyof typeof familyShaders;

/**
 * Kernels composed with other libraries in place of some includes: the `_quads` voxel passes
 * read pred and write grad as vec4s (shaders/lib/family_pred.wgsl says where they apply).
 */
const QUADS = { 'lib/family_pred.wgsl': 'lib/family_pred_quads.wgsl', 'lib/family_grad.wgsl': 'lib/family_grad_quads.wgsl' };
export const familyLibraryVariants: Partial<Record<FamilyShaderName, Readonly<Record<string, string>>>> = {
  family_forward_quads: QUADS,
  family_backward_quads: QUADS,
};

/**
 * Largest class count a family kernel takes: the finalize keeps one workgroup word per class
 * (`MAX_CLASSES` in family_finalize.wgsl).
 */
export const MAX_CLASSES = 256;

/** Classes a voxel pass keeps in per-thread arrays (`CLASS_BLOCK` in shaders/lib/family_voxel.wgsl). */
export const CLASS_BLOCK = 16;

const ACTIVATION = { none: 0, sigmoid: 1, softmax: 2, argmax: 3, threshold: 4, tanh: 5 } as const;
const TARGET = { dense: 0, u8: 1, u16: 2, u32: 3 } as const;
const MASK = { none: 0, weight: 1, logits: 2 } as const;
const VALUE = { 'one-minus': 0, 'negative-log': 1, negative: 2 } as const;
const GDL = { square: 1, simple: 2, uniform: 3 } as const;

/** 0 none, 1 softmax cross-entropy, 2 binary cross-entropy (on the logits, whatever the activation). */
function auxKind(o: NormalizedLossOptions): number {
  if (!o.crossEntropy) return 0;
  return o.crossEntropy.form === 'softmax' ? 1 : 2;
}

/** 0 none, 1 sigmoid form, 2 softmax form. */
function focalKind(o: NormalizedLossOptions): number {
  if (!o.focal) return 0;
  return o.focal.useSoftmax ? 2 : 1;
}

export type PipelineConstants = Readonly<Record<string, number>>;

/** The modes of the voxel passes (lib/family_voxel.wgsl), as pipeline-creation constants. */
export function voxelConstants(o: NormalizedLossOptions): PipelineConstants {
  return {
    ACTIVATION: ACTIVATION[o.activation],
    TARGET_KIND: TARGET[o.target],
    MASK_MODE: MASK[o.mask],
    MASK_PER_SAMPLE: +o.maskPerSample,
    HAS_IGNORE: +(o.ignoreIndex !== undefined),
    SQUARED: +o.squared,
    SOFT_ABS: +o.softAbs,
    SOFT_L1: +o.softLabel,
    AUX_KIND: auxKind(o),
    FOCAL_KIND: focalKind(o),
    CHANNELS_FIRST: +o.channelsFirst,
  };
}

/** The modes of family_finalize.wgsl. */
export function finalizeConstants(o: NormalizedLossOptions): PipelineConstants {
  return {
    POOL_BATCH: +o.poolBatch,
    POOL_CLASSES: +o.poolClasses,
    SOFT_L1: +o.softLabel,
    TRANSFORM: VALUE[o.value],
    EMPTY_ZERO: +o.emptyZero,
    CLASS_WEIGHTING: o.gdlWeight ? GDL[o.gdlWeight] : o.inverseFrequency ? 4 : 0,
    AUX_KIND: auxKind(o),
    FOCAL: +(o.focal !== undefined),
  };
}

/** The largest finite f32: stands for "no lower clamp" in a uniform. */
const F32_MAX = 3.4028234663852886e38;

/**
 * The grid of a voxel-major pass: per sample, `chunks` chunks of `voxelsPerChunk` voxels,
 * run sample-major (workgroup `linear` = sample * chunks + chunk).
 */
export interface VoxelGrid {
  readonly chunks: number;
  readonly voxelsPerChunk: number;
}

/** What the voxel passes' uniform block holds: the shape and the family's scalars (absent for Wasserstein Dice). */
export type VoxelScalars = Pick<NormalizedLossOptions, 'classes' | 'spatial'> &
  Partial<Pick<NormalizedLossOptions, 'ignoreIndex' | 'threshold' | 'focal' | 'crossEntropy'>>;

/**
 * Mirrors `FamilyParams` in lib/family_voxel.wgsl (forward and backward), one block per
 * window. A window's `elementBase` is in voxels here (see src/family/loss.ts); the kernels get
 * it as voxel_base and, times C, as element_base.
 */
export function familyParamsFields(o: VoxelScalars, grid: VoxelGrid, w: BindingWindow): UniformField[] {
  return [
    ['classes', 'u32', o.classes],
    ['spatial', 'u32', o.spatial],
    ['chunks', 'u32', grid.chunks],
    ['voxels_per_chunk', 'u32', grid.voxelsPerChunk],
    ['ignore_index', 'u32', o.ignoreIndex ?? 0],
    ['threshold', 'f32', o.threshold ?? 0],
    ['focal_first_class', 'u32', o.focal?.firstClass ?? 0],
    ['focal_gamma', 'f32', o.focal?.gamma ?? 0],
    ['pos_weight', 'f32', o.crossEntropy?.posWeight ?? 1],
    ['label_smoothing', 'f32', o.crossEntropy?.labelSmoothing ?? 0],
    ['linear_base', 'u32', w.linearBase],
    ['voxel_base', 'u32', w.elementBase],
    ['element_base', 'u32', w.elementBase * o.classes],
  ];
}

export function packFamilyParams(o: VoxelScalars, grid: VoxelGrid, windows: readonly BindingWindow[]): ArrayBuffer {
  return packPerWindow(windows, (w) => familyParamsFields(o, grid, w));
}

/** Mirrors `FinalizeParams` in family_finalize.wgsl. */
export function finalizeParamsFields(o: NormalizedLossOptions, chunks: number, groups: number, faultRecords: number, workgroupSize: number): UniformField[] {
  return [
    ['batch', 'u32', o.batch],
    ['classes', 'u32', o.classes],
    ['chunks', 'u32', chunks],
    ['group_count', 'u32', groups],
    ['num_tp', 'f32', o.score.numTp],
    ['den_tp', 'f32', o.score.denTp],
    ['den_fp', 'f32', o.score.denFp],
    ['den_fn', 'f32', o.score.denFn],
    ['smooth_nr', 'f32', o.smoothNumerator],
    ['smooth_dr', 'f32', o.smoothDenominator],
    ['den_min', 'f32', Math.max(o.denominatorMin, -F32_MAX)],
    ['tp_min', 'f32', Math.max(o.tpMin, -F32_MAX)],
    ['log_eps', 'f32', o.logEps],
    ['gamma', 'f32', o.gamma],
    ['lambda_dice', 'f32', o.lambdaDice],
    ['lambda_aux', 'f32', o.crossEntropy?.lambda ?? 0],
    ['ce_divisor', 'f32', o.crossEntropy?.divisor ?? 0],
    ['lambda_focal', 'f32', o.focal?.lambda ?? 0],
    ['focal_norm', 'f32', o.focal ? 1 / o.focal.normaliser : 0],
    ['fault_records', 'u32', faultRecords],
    ['fold_lanes', 'u32', foldLanes(chunks, workgroupSize)],
  ];
}

export function packFinalizeParams(o: NormalizedLossOptions, chunks: number, groups: number, faultRecords: number, workgroupSize: number): ArrayBuffer {
  return packUniform(finalizeParamsFields(o, chunks, groups, faultRecords, workgroupSize));
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

/** The modes of the Wasserstein passes: lib/family_voxel.wgsl's, on logits and a label map. */
export function wassersteinConstants(o: NormalizedWassersteinOptions): PipelineConstants {
  return { TARGET_KIND: TARGET[o.target], CHANNELS_FIRST: +o.channelsFirst };
}

/** Mirrors `FinalizeParams` in wasserstein_finalize.wgsl. */
export function wassersteinFinalizeFields(o: NormalizedWassersteinOptions, chunks: number, faultRecords: number): UniformField[] {
  return [
    ['batch', 'u32', o.batch],
    ['classes', 'u32', o.classes],
    ['chunks', 'u32', chunks],
    ['weighting', 'u32', o.weighting === 'GDL' ? 1 : 0],
    ['smooth_nr', 'f32', o.smoothNumerator],
    ['smooth_dr', 'f32', o.smoothDenominator],
    ['scale', 'f32', o.reduction === 'mean' ? 1 / o.batch : 1],
    ['fault_records', 'u32', faultRecords],
  ];
}

export function packWassersteinFinalizeParams(o: NormalizedWassersteinOptions, chunks: number, faultRecords: number): ArrayBuffer {
  return packUniform(wassersteinFinalizeFields(o, chunks, faultRecords));
}
