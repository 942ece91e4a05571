import { F32_MAX, STATUS_BYTES } from '../core/limits.js';
import {
  ACTIVATION,
  AUX_KIND,
  CLASS_WEIGHTING,
  FOCAL_KIND,
  MASK_MODE,
  TARGET_KIND,
  TRANSFORM,
} from '../kernels/modes.js';
import { packPerWindow, packUniform, type UniformValue } from '../kernels/uniforms.js';
import { groupCount, type NormalizedLossOptions } from '../spec/family.js';
import { withBoundaryTerm } from './boundary.js';
import { stageF16 } from './f16-convert.js';
import { foldLanes, type BindingWindow } from './grids.js';
import type { DeviceProfile } from './profile.js';
import {
  finalizePass,
  scratchRef,
  tensorRef,
  type BindingRef,
  type LossProgram,
  type PipelineConstants,
  type TensorSpec,
} from './program.js';
import {
  planVoxelPasses,
  voxelGridFields,
  voxelTensors,
  voxelWindow,
  type VoxelGrid,
  type VoxelGrids,
  type VoxelWindow,
} from './voxel.js';

// The loss family (engine.loss, engine.metric): a voxel-major forward reduction with the
// activation, targets, masks and auxiliary terms fused in, a one-workgroup finalize and an
// elementwise backward pass. Its modes are `override` constants of the kernels, with the values
// of src/kernels/modes.ts.

/** The cross-entropy on the logits, whatever the activation. */
function auxKind(o: NormalizedLossOptions): number {
  if (!o.crossEntropy) return AUX_KIND.values.none;
  return AUX_KIND.values[o.crossEntropy.form === 'softmax' ? 'softmax-ce' : 'binary-ce'];
}

function focalKind(o: NormalizedLossOptions): number {
  if (!o.focal) return FOCAL_KIND.values.none;
  return FOCAL_KIND.values[o.focal.useSoftmax ? 'softmax' : 'sigmoid'];
}

function classWeighting(o: NormalizedLossOptions): number {
  if (o.gdlWeight) return CLASS_WEIGHTING.values[o.gdlWeight];
  return CLASS_WEIGHTING.values[o.inverseFrequency ? 'inverse-frequency' : 'fixed'];
}

/**
 * M = sum w*g apart from G: only where they differ (squared or absolute sums); elsewhere the
 * finalize takes G for it (family_forward.wgsl's header).
 */
function separateMass(o: NormalizedLossOptions): boolean {
  return o.squared || o.softAbs;
}

/** The forward pass stores a second vec4 of sums (AUX, M, F+, F-): it holds one of them. */
function sumsB(o: NormalizedLossOptions): boolean {
  return o.crossEntropy !== undefined || separateMass(o) || o.focal !== undefined;
}

/** The sums a class of the forward's block accumulates: I or T, P, G, and AUX, M, F+, F- where needed. */
function sumsPerClass(o: NormalizedLossOptions): number {
  const focal = o.focal ? (o.focal.useSoftmax ? 1 : 2) : 0;
  return 3 + (o.crossEntropy ? 1 : 0) + (separateMass(o) ? 1 : 0) + focal;
}

/** The modes of the voxel passes (lib/family_voxel.wgsl), as pipeline-creation constants. */
export function voxelConstants(o: NormalizedLossOptions): PipelineConstants {
  return {
    ACTIVATION: ACTIVATION.values[o.activation],
    TARGET_KIND: TARGET_KIND.values[o.target],
    MASK_MODE: MASK_MODE.values[o.mask],
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
    TRANSFORM: TRANSFORM.values[o.value],
    EMPTY_ZERO: +o.emptyZero,
    CLASS_WEIGHTING: classWeighting(o),
    AUX_KIND: auxKind(o),
    FOCAL: +(o.focal !== undefined),
    SUMS_B: +sumsB(o),
    SEPARATE_MASS: +separateMass(o),
  };
}

/**
 * The power of two the forward sums cross-entropy and focal terms times: 2^-ceil(log2(elements)),
 * so no sum exceeds f32's range unless the mean does (family_forward.wgsl's header). An exact
 * scaling: the finalize divides it out and gets the unscaled quotient bit for bit.
 */
export function termScale(o: Pick<NormalizedLossOptions, 'elements'>): number {
  return 2 ** -Math.ceil(Math.log2(Math.max(1, o.elements)));
}

/**
 * Mirrors `FamilyParams` in lib/family_voxel.wgsl (forward and backward), one block per window:
 * the grid, then the family's scalars.
 */
export function familyParamsFields(o: NormalizedLossOptions, grid: VoxelGrid, w: VoxelWindow): UniformValue[] {
  return [
    ...voxelGridFields(o, grid, w),
    ['ignore_index', 'u32', o.ignoreIndex ?? 0],
    ['threshold', 'f32', o.threshold],
    ['focal_first_class', 'u32', o.focal?.firstClass ?? 0],
    ['focal_gamma', 'f32', o.focal?.gamma ?? 0],
    ['pos_weight', 'f32', o.crossEntropy?.posWeight ?? 1],
    ['label_smoothing', 'f32', o.crossEntropy?.labelSmoothing ?? 0],
    ['term_scale', 'f32', termScale(o)],
  ];
}

function packFamilyParams(o: NormalizedLossOptions, grid: VoxelGrid, windows: readonly VoxelWindow[]): ArrayBuffer {
  return packPerWindow(windows, (w) => familyParamsFields(o, grid, w));
}

/** Mirrors `FinalizeParams` in family_finalize.wgsl. */
export function familyFinalizeFields(
  o: NormalizedLossOptions,
  chunks: number,
  groups: number,
  faultRecords: number,
  workgroupSize: number,
): UniformValue[] {
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
    ['term_scale', 'f32', termScale(o)],
  ];
}

export function packFamilyFinalizeParams(
  o: NormalizedLossOptions,
  chunks: number,
  groups: number,
  faultRecords: number,
  workgroupSize: number,
): ArrayBuffer {
  return packUniform(familyFinalizeFields(o, chunks, groups, faultRecords, workgroupSize));
}

/**
 * The cross-entropy class weights as the finalize takes them. With torch's class-index mean (a
 * label map, divisor 0) the loss and its gradient do not change when every weight is scaled by
 * one factor: weights past 1 are scaled by a power of two to at most 1, exactly, so weights near
 * f32's limit (3e38) give the finite loss they define instead of an overflowing sum.
 */
function crossEntropyWeights(o: NormalizedLossOptions): Float64Array {
  const ce = o.crossEntropy;
  if (!ce) return new Float64Array(o.classes);
  const largest = ce.weights.reduce((m, w) => Math.max(m, w), 0);
  if (ce.divisor !== 0 || largest <= 1) return ce.weights;
  const scale = 2 ** -Math.ceil(Math.log2(largest));
  return ce.weights.map((w) => w * scale);
}

/** Per class, two vec4: (included, fixed group weight, cross-entropy weight, 0) and (focal F+ factor, focal F- factor, 0, 0). */
export function packClassInfo(o: NormalizedLossOptions): Float32Array<ArrayBuffer> {
  const info = new Float32Array(o.classes * 8);
  const ceWeights = crossEntropyWeights(o);
  for (let c = 0; c < o.classes; c++) {
    info[c * 8] = o.included[c] ? 1 : 0;
    info[c * 8 + 1] = c < o.groupWeights.length ? o.groupWeights[c] : 0;
    info[c * 8 + 2] = ceWeights[c];
    info[c * 8 + 4] = o.focal ? o.focal.positive[c] : 0;
    info[c * 8 + 5] = o.focal ? o.focal.negative[c] : 0;
  }
  return info;
}

export function planFamilyProgram(o: NormalizedLossOptions, profile: DeviceProfile): LossProgram<VoxelGrids> {
  // The boundary term's passes read pred and add to the gradient in f32 (shaders/field_*.wgsl):
  // with f16 types and a boundary term, the whole program is planned in f32 and staged.
  if (o.boundary && (o.predType === 'f16' || o.gradType === 'f16')) {
    const f32 = planFamilyProgram({ ...o, predType: 'f32', gradType: 'f32' }, profile);
    return stageF16(f32, o, o.elements, profile);
  }
  const voxel = planVoxelPasses(o, profile, sumsPerClass(o));
  const { grids, faultRecords } = voxel;
  const groups = groupCount(o);
  const pairs = o.batch * o.classes;
  const { forward, backward } = grids;
  const hasMask = o.mask !== 'none';
  // Metrics on binarised predictions have no gradient, so no grad tensor and no backward pass.
  const differentiable = o.activation !== 'argmax' && o.activation !== 'threshold';
  const maskBytes = (o.maskPerSample ? o.batch : 1) * o.spatial * 4;
  const { pred, target, loss, grad } = voxelTensors(o, differentiable);
  const mask: TensorSpec = {
    name: 'mask',
    bytes: maskBytes,
    windowed: o.maskPerSample,
    access: 'read',
    optional: false,
    host: { type: 'f32', elements: maskBytes / 4 },
  };
  const tensors = [pred, target, ...(hasMask ? [mask] : []), loss, ...(grad ? [grad] : [])];
  // The mask, in both voxel passes, for one window: a shared mask ([...spatial]) is bound whole;
  // without a mask a dummy scratch stands in.
  const maskWindow = (w: BindingWindow): Record<string, BindingRef> => ({
    mask: !hasMask
      ? scratchRef('no mask')
      : o.maskPerSample
        ? voxelWindow('mask', w, 'voxel-f32', o.classes)
        : tensorRef('mask', 0, maskBytes),
  });
  const modes = voxelConstants(o);
  const program: LossProgram<VoxelGrids> = {
    label: o.label,
    dims: o.dims,
    grids,
    tensors,
    scratch: [
      // Two vec4 of sums a class: (I or T, P, G, ·) and (AUX, M, F+, F-).
      ...voxel.forwardScratch(2),
      { name: 'class info', bytes: 0, contents: packClassInfo(o) },
      { name: 'pair sums', bytes: pairs * 32, readable: true },
      // Per pair two vec4, per group one, then the inverse-frequency class weights, four a vec4.
      { name: 'coefs', bytes: (2 * pairs + groups + Math.ceil(o.classes / 4)) * 16 },
      { name: 'no mask', bytes: 16 },
      { name: 'status', bytes: STATUS_BYTES, readable: true },
      { name: 'stats', bytes: groups * 32, readable: true },
    ],
    passes: [
      voxel.forwardPass(
        'family_forward',
        { ...modes, SEPARATE_MASS: +separateMass(o), SUMS_B: +sumsB(o) },
        packFamilyParams(o, forward, forward.windows),
        maskWindow,
      ),
      finalizePass(
        'family_finalize',
        finalizeConstants(o),
        packFamilyFinalizeParams(o, forward.chunks, groups, faultRecords, profile.workgroupSize),
        {
          partials: scratchRef('partials'),
          class_info: scratchRef('class info'),
          pair_sums: scratchRef('pair sums'),
          stats: scratchRef('stats'),
          coefs: scratchRef('coefs'),
          loss: tensorRef('loss', 0, 4),
        },
      ),
      ...(differentiable
        ? [
            voxel.backwardPass('family_backward', modes, packFamilyParams(o, backward, backward.windows), (w) => ({
              ...maskWindow(w),
              coefs: scratchRef('coefs'),
            })),
          ]
        : []),
    ],
    readback: o.focal ? ['stats', 'pair sums'] : ['stats'],
    inPlace: [],
    // family_backward: every term of dL/dlogit is a coefficient times a function of the inputs.
    gradientCoefficients: 'coefs',
  };
  return withBoundaryTerm(program, o, profile);
}
