import { WgslDiceError } from '../core/errors.js';
import type { NormalizedLossOptions } from '../spec/family.js';
import { groupCount } from '../spec/family.js';
import type { NormalizedWassersteinOptions } from '../losses/wasserstein.js';
import { STATUS_BYTES } from '../runtime/submit.js';
import {
  backwardShaderFor,
  packBackwardParams,
  packFinalizeParams as packDiceFinalizeParams,
  packReduceParams,
  reduceFaultRecords,
  reduceShaderFor,
} from '../kernels/dice-kernels.js';
import {
  CLASS_BLOCK,
  finalizeConstants,
  packClassInfo,
  packFamilyParams,
  packFinalizeParams,
  packWassersteinFinalizeParams,
  voxelConstants,
  wassersteinConstants,
  type VoxelGrid,
} from '../kernels/family-kernels.js';
import { UNIFORM_STRIDE } from '../kernels/uniforms.js';
import { groupWeights, type NormalizedDiceOptions } from '../spec/seed.js';
import { MAX_SEQUENTIAL_ADDS, planDice, planRangeWindows, type BindingWindow, type DicePlan, type GridProfile } from './grids.js';
import type { BindingRef, DispatchPlan, LossProgram, PassPlan, TensorName, TensorSpec } from './program.js';

/**
 * Every loss as one discriminated spec: the entry points (engine.dice, engine.loss,
 * engine.metric, engine.wassersteinDice and the presets built on them) normalise their options
 * into one of these, and {@link planProgram} turns it into a {@link LossProgram}.
 */
export type LossSpec =
  | { readonly kind: 'seed'; readonly options: NormalizedDiceOptions }
  | { readonly kind: 'family'; readonly options: NormalizedLossOptions }
  | { readonly kind: 'wasserstein'; readonly options: NormalizedWassersteinOptions };

/** What the planner needs of a device: grid sizes and limits, and the subgroup size if subgroups may be used. */
export interface DeviceProfile extends GridProfile {
  readonly subgroupSize?: number;
}

/** The one planner: pure data in, pure data out. */
export function planProgram(spec: LossSpec, profile: DeviceProfile): LossProgram {
  switch (spec.kind) {
    case 'seed': return planSeedProgram(spec.options, profile);
    case 'family': return planFamilyProgram(spec.options, profile);
    case 'wasserstein': return planWassersteinProgram(spec.options, profile);
  }
}

const scratch = (name: string): BindingRef => ({ scratch: name });
const tensor = (name: TensorName, offset: number, size: number): BindingRef => ({ tensor: name, offset, size });

function uniformPass(
  name: string,
  kernel: PassPlan['kernel'],
  constants: PassPlan['constants'],
  uniforms: ArrayBuffer,
  dispatches: DispatchPlan[],
  backward = false,
): PassPlan {
  // Per-window blocks sit UNIFORM_STRIDE apart; a lone block is bound as packed.
  return { name, kernel, constants, uniforms, uniformBytes: Math.min(UNIFORM_STRIDE, uniforms.byteLength), dispatches, backward };
}

// ---------------------------------------------------------------------------------------------
// The seed's losses: column reduction over channels-last f32 (or f16) probabilities.

export function planSeedProgram(o: NormalizedDiceOptions, profile: DeviceProfile): LossProgram<DicePlan> {
  const { batch, spatial, classes, elements } = o.shape;
  const plan = planDice(batch, spatial * classes, o.reduce === 'global' ? 1 : classes, profile, o.predType);
  const groups = batch * plan.groupsPerSlab;
  const predBytesPerElement = o.predType === 'f16' ? 2 : 4;
  const words = (bytes: number) => Math.ceil(bytes / 4) * 4;
  // Binding sizes are whole words: an f16 window of odd length reads one element of slack,
  // which the binding of the whole tensor already holds.
  const window = (name: TensorName, w: BindingWindow, elementBytes = 4) =>
    tensor(name, w.elementBase * elementBytes, words(w.elementCount * elementBytes));
  const tensors: TensorSpec[] = [
    { name: 'pred', bytes: words(elements * predBytesPerElement), windowed: true, access: 'read', optional: false, host: { type: o.predType === 'f16' ? 'f16-bits' : 'f32', elements } },
    { name: 'target', bytes: elements * 4, windowed: true, access: 'read', optional: false, host: { type: 'f32', elements } },
    { name: 'loss', bytes: 4, windowed: false, access: 'write', optional: false },
    { name: 'grad', bytes: elements * 4, windowed: true, access: 'write', optional: true },
    { name: 'stats', bytes: groups * 16, windowed: false, access: 'write', optional: true },
  ];
  const passes: PassPlan[] = [
    uniformPass('reduce', reduceShaderFor(plan, o.predType, profile.subgroupSize), {}, packReduceParams(plan),
      plan.reduce.windows.map((w, block) => ({
        block,
        window: w,
        workgroups: [w.count, plan.reduce.colBlocks, 1],
        bindings: { pred: window('pred', w, predBytesPerElement), truth: window('target', w), partials: scratch('partials'), faults: scratch('faults') },
      }))),
    uniformPass('finalize', 'dice_finalize', {}, packDiceFinalizeParams(plan, o.smoothNumerator, o.smoothDenominator, profile.workgroupSize), [
      {
        block: 0,
        workgroups: [1, 1, 1],
        bindings: {
          partials: scratch('partials'), class_weights: scratch('group weights'), stats: tensor('stats', 0, groups * 16),
          coefs: scratch('coefs'), loss: tensor('loss', 0, 4), status: scratch('status'), faults: scratch('faults'),
        },
      },
    ]),
    uniformPass('backward', backwardShaderFor(plan), {}, packBackwardParams(plan),
      plan.backward.windows.map((w, block) => ({
        block,
        window: w,
        workgroups: [w.count, 1, 1],
        bindings: { truth: window('target', w), coefs: scratch('coefs'), grad: window('grad', w) },
      })), true),
  ];
  return {
    label: o.label,
    dims: o.shape.dims,
    layout: plan,
    tensors,
    scratch: [
      { name: 'partials', bytes: plan.reduce.partialVec4s * 16 },
      { name: 'group weights', bytes: 0, contents: groupWeights(o) },
      { name: 'coefs', bytes: groups * 16 },
      { name: 'faults', bytes: reduceFaultRecords(plan) * 32 },
      { name: 'status', bytes: STATUS_BYTES, readable: true },
      { name: 'stats', bytes: groups * 16, readable: true },
    ],
    passes,
    readback: ['stats'],
    // dice_backward: dL/dp = a·t + b with (a, b) per group from dice_finalize.
    gradientCoefficients: 'coefs',
    // The reduce dispatches have read all of pred before the backward writes grad.
    inPlace: [['pred', 'grad']],
  };
}

// ---------------------------------------------------------------------------------------------
// The loss family and Wasserstein Dice: voxel-major passes over logits or probabilities.

/** A voxel-major pass and the binding windows its dispatches run in. */
export interface VoxelPassPlan extends VoxelGrid {
  readonly windows: readonly BindingWindow[];
}

/**
 * How a family loss's passes are laid over the tensors, and cut in binding windows (see
 * src/plan.ts) when a tensor is larger than one storage binding. Both passes run voxel-major
 * over (sample, chunk) workgroups; window ranges (`elementBase`, `elementCount`) are in voxels:
 * a window binds voxels [v0, v0 + n) of the label map and a per-sample mask, and elements
 * [v0 * C, (v0 + n) * C) of pred, a dense target and grad (channels-first windows hold whole
 * samples, whose elements are contiguous).
 */
export interface FamilyPlan {
  /** Bytes per voxel of the widest windowed tensor: what a window's size is measured in. */
  readonly bytesPerVoxel: number;
  /** The forward reduction; wg.y runs the blocks of CLASS_BLOCK classes. */
  readonly forward: VoxelPassPlan & { readonly classBlocks: number };
  /** The elementwise backward pass: many more, smaller chunks (no barriers). */
  readonly backward: VoxelPassPlan;
}

/** The shape facts the voxel passes are planned from (family and Wasserstein options both have them). */
interface VoxelShape {
  readonly batch: number;
  readonly classes: number;
  readonly spatial: number;
  readonly channelsFirst: boolean;
}

/** Window starts are multiples of 256 voxels: a 256-byte offset into every tensor, u8 labels included. */
const WINDOW_ALIGN_VOXELS = 256;

/**
 * Plans the voxel passes for a profile: a reduction grid of few, long chunks (each lane adds at
 * most MAX_SEQUENTIAL_ADDS voxels) and an elementwise grid of many, and the binding windows of
 * both. Throws BINDING_TOO_LARGE when a channels-first sample does not fit in one window.
 */
export function planFamily(o: VoxelShape, profile: GridProfile): FamilyPlan {
  const bytesPerVoxel = 4 * o.classes;
  // Channels-last chunks fit in half a window, so every window holds at least one.
  const maxChunk = o.channelsFirst ? Infinity : Math.floor(profile.maxBindingBytes / 2 / bytesPerVoxel);
  const classBlocks = Math.ceil(o.classes / CLASS_BLOCK);
  const reduceGrid = planVoxelGrid(o.spatial, {
    wanted: Math.ceil(profile.targetWorkgroups / (o.batch * classBlocks)),
    // A thread reads C values a voxel: the work worth a workgroup is counted in elements.
    minVoxels: Math.ceil((profile.workgroupSize * profile.minRowsPerLane) / o.classes),
    maxVoxels: Math.min(maxChunk, profile.workgroupSize * MAX_SEQUENTIAL_ADDS),
    maxChunks: profile.maxWorkgroupsPerDimension,
  });
  const elementwiseGrid = planVoxelGrid(o.spatial, {
    wanted: Math.ceil(profile.elementwiseWorkgroups / o.batch),
    minVoxels: profile.workgroupSize * profile.minUnitsPerThread,
    maxVoxels: maxChunk,
    maxChunks: profile.maxWorkgroupsPerDimension,
  });
  return {
    bytesPerVoxel,
    forward: { ...reduceGrid, classBlocks, windows: voxelWindows(o, reduceGrid, bytesPerVoxel, profile) },
    backward: { ...elementwiseGrid, windows: voxelWindows(o, elementwiseGrid, bytesPerVoxel, profile) },
  };
}

/** Chunks of one sample's `spatial` voxels: about `wanted`, none shorter than `minVoxels` unless the sample is. */
function planVoxelGrid(
  spatial: number,
  limits: { wanted: number; minVoxels: number; maxVoxels: number; maxChunks: number },
): VoxelGrid {
  const worthwhile = Math.max(1, Math.floor(spatial / limits.minVoxels));
  const chunks = Math.max(1, Math.min(limits.wanted, worthwhile, limits.maxChunks));
  const voxelsPerChunk = Math.max(1, Math.min(limits.maxVoxels, Math.ceil(spatial / chunks)));
  return { chunks: Math.ceil(spatial / voxelsPerChunk), voxelsPerChunk };
}

function voxelWindows(o: VoxelShape, grid: VoxelGrid, bytesPerVoxel: number, profile: GridProfile): BindingWindow[] {
  const align = WINDOW_ALIGN_VOXELS;
  if (!o.channelsFirst) {
    return planRangeWindows(
      o.batch * grid.chunks,
      (linear) => {
        const sample = Math.floor(linear / grid.chunks);
        const lo = sample * o.spatial + (linear % grid.chunks) * grid.voxelsPerChunk;
        return [lo, Math.min(lo + grid.voxelsPerChunk, (sample + 1) * o.spatial)];
      },
      bytesPerVoxel,
      profile,
      align,
    );
  }
  // Channels-first: a voxel's classes lie S apart, so a window holds whole samples.
  let samples: BindingWindow[];
  try {
    samples = planRangeWindows(o.batch, (s) => [s * o.spatial, (s + 1) * o.spatial], bytesPerVoxel, profile, align, Infinity);
  } catch (error) {
    if (!(error instanceof WgslDiceError) || error.code !== 'BINDING_TOO_LARGE') throw error;
    throw new WgslDiceError(
      'BINDING_TOO_LARGE',
      `one channels-first sample (${o.classes} x ${o.spatial} elements; ${o.spatial * bytesPerVoxel} bytes) does not fit ` +
        `in the ${profile.maxBindingBytes}-byte binding window: channels-first losses are windowed by whole samples. ` +
        `Use layout: 'channels-last' for such volumes (windowed by voxel ranges, any size), or raise ` +
        `maxStorageBufferBindingSize (requestNodeDevice asks for the adapter's maximum).`,
    );
  }
  // Each sample window runs all its samples' workgroups, in dispatches of at most the grid limit.
  return samples.flatMap((w) => {
    const pieces: BindingWindow[] = [];
    const end = (w.linearBase + w.count) * grid.chunks;
    for (let linear = w.linearBase * grid.chunks; linear < end; linear += profile.maxWorkgroupsPerDimension) {
      const count = Math.min(profile.maxWorkgroupsPerDimension, end - linear);
      pieces.push({ linearBase: linear, count, elementBase: w.elementBase, elementCount: w.elementCount });
    }
    return pieces;
  });
}

type TargetKind = 'dense' | 'u8' | 'u16' | 'u32';

/** Bytes a target must hold: f32 per element, or the label map packed in whole words. */
export function targetBytes(kind: TargetKind, voxels: number, classes: number): number {
  switch (kind) {
    case 'u8': return Math.ceil(voxels / 4) * 4;
    case 'u16': return Math.ceil(voxels / 2) * 4;
    case 'u32': return voxels * 4;
    default: return voxels * classes * 4;
  }
}

/** The part of a windowed tensor a window (voxels [v0, v0 + n)) covers. */
function voxelWindow(name: TensorName, w: BindingWindow, kind: TargetKind | 'elements' | 'voxel-f32', classes: number): BindingRef {
  const { elementBase: v0, elementCount: n } = w;
  switch (kind) {
    case 'elements':
    case 'dense': return tensor(name, v0 * classes * 4, n * classes * 4);
    case 'u32':
    case 'voxel-f32': return tensor(name, v0 * 4, n * 4);
    case 'u16': return tensor(name, v0 * 2, Math.ceil(n / 2) * 4);
    case 'u8': return tensor(name, v0, Math.ceil(n / 4) * 4);
  }
}

export function planFamilyProgram(o: NormalizedLossOptions, profile: DeviceProfile): LossProgram<FamilyPlan> {
  const plan = planFamily(o, profile);
  const groups = groupCount(o);
  const pairs = o.batch * o.classes;
  const voxels = o.batch * o.spatial;
  const { forward, backward } = plan;
  const faultRecords = o.batch * forward.chunks * forward.classBlocks;
  const hasMask = o.mask !== 'none';
  // Metrics on binarised predictions have no gradient, so no grad tensor and no backward pass.
  const differentiable = o.activation !== 'argmax' && o.activation !== 'threshold';
  const maskBytes = (o.maskPerSample ? o.batch : 1) * o.spatial * 4;
  const tensors: TensorSpec[] = [
    { name: 'pred', bytes: o.elements * 4, windowed: true, access: 'read', optional: false, host: { type: 'f32', elements: o.elements } },
    {
      name: 'target', bytes: targetBytes(o.target, voxels, o.classes), windowed: true, access: 'read', optional: false,
      host: o.target === 'dense' ? { type: 'f32', elements: o.elements } : { type: o.target, elements: voxels },
    },
    ...(hasMask
      ? [{ name: 'mask', bytes: maskBytes, windowed: o.maskPerSample, access: 'read', optional: false, host: { type: 'f32', elements: maskBytes / 4 } } as const]
      : []),
    { name: 'loss', bytes: 4, windowed: false, access: 'write', optional: false },
    ...(!differentiable
      ? []
      : [{ name: 'grad', bytes: o.elements * 4, windowed: true, access: 'write', optional: true } as const]),
  ];
  // The bindings every voxel pass shares, for one window.
  const inputs = (w: BindingWindow): Record<string, BindingRef> => ({
    pred: voxelWindow('pred', w, 'elements', o.classes),
    truth: voxelWindow('target', w, o.target, o.classes),
    // A shared mask ([...spatial]) is bound whole; without a mask a dummy scratch stands in.
    mask: !hasMask ? scratch('no mask') : o.maskPerSample ? voxelWindow('mask', w, 'voxel-f32', o.classes) : tensor('mask', 0, maskBytes),
  });
  const voxel = voxelConstants(o);
  // Up to CLASS_BLOCK classes a voxel's per-class values stay in registers: loops run to C, a
  // constant of the pipeline (one pipeline per class count; wider axes share one).
  const inRegisters = { REGISTER_CLASSES: o.classes <= CLASS_BLOCK ? o.classes : 0 };
  // There, channels-last with whole vec4s of classes, pred and grad are read and written as
  // vec4s (shaders/lib/family_pred.wgsl); every window starts and ends on a voxel, so on a vec4.
  const quads = inRegisters.REGISTER_CLASSES % 4 === 0 && inRegisters.REGISTER_CLASSES !== 0 && !o.channelsFirst;
  return {
    label: o.label,
    dims: o.dims,
    layout: plan,
    tensors,
    scratch: [
      { name: 'partials', bytes: pairs * forward.chunks * 32 },
      { name: 'faults', bytes: faultRecords * 32 },
      { name: 'class info', bytes: 0, contents: packClassInfo(o) },
      { name: 'pair sums', bytes: pairs * 32, readable: true },
      { name: 'coefs', bytes: (2 * pairs + groups) * 16 },
      { name: 'no mask', bytes: 16 },
      { name: 'status', bytes: STATUS_BYTES, readable: true },
      { name: 'stats', bytes: groups * 32, readable: true },
    ],
    passes: [
      // Wider class axes: GPUs get the class-block loops unrolled (registers); software adapters
      // compile far faster without.
      uniformPass('forward', quads ? 'family_forward_quads' : 'family_forward', { ...voxel, ...inRegisters, UNROLL_CLASS_BLOCK: +!profile.software }, packFamilyParams(o, forward, forward.windows),
        forward.windows.map((w, block) => ({
          block,
          window: w,
          workgroups: [w.count, forward.classBlocks, 1],
          bindings: { ...inputs(w), partials: scratch('partials'), faults: scratch('faults') },
        }))),
      uniformPass('finalize', 'family_finalize', finalizeConstants(o), packFinalizeParams(o, forward.chunks, groups, faultRecords, profile.workgroupSize), [
        {
          block: 0,
          workgroups: [1, 1, 1],
          bindings: {
            partials: scratch('partials'), class_info: scratch('class info'), pair_sums: scratch('pair sums'), stats: scratch('stats'),
            coefs: scratch('coefs'), loss: tensor('loss', 0, 4), status: scratch('status'), faults: scratch('faults'),
          },
        },
      ]),
      ...(differentiable
        ? [uniformPass('backward', quads ? 'family_backward_quads' : 'family_backward', { ...voxel, ...inRegisters }, packFamilyParams(o, backward, backward.windows),
          backward.windows.map((w, block) => ({
            block,
            window: w,
            workgroups: [w.count, 1, 1] as const,
            bindings: { ...inputs(w), coefs: scratch('coefs'), grad: voxelWindow('grad', w, 'elements', o.classes) },
          })), true)]
        : []),
    ],
    readback: o.focal ? ['stats', 'pair sums'] : ['stats'],
    inPlace: [],
    // family_backward: every term of dL/dlogit is a coefficient times a function of the inputs.
    gradientCoefficients: 'coefs',
  };
}

export function planWassersteinProgram(o: NormalizedWassersteinOptions, profile: DeviceProfile): LossProgram<FamilyPlan> {
  const plan = planFamily(o, profile);
  const pairs = o.batch * o.classes;
  const voxels = o.batch * o.spatial;
  const { forward, backward } = plan;
  const faultRecords = o.batch * forward.chunks * forward.classBlocks;
  const inputs = (w: BindingWindow): Record<string, BindingRef> => ({
    pred: voxelWindow('pred', w, 'elements', o.classes),
    truth: voxelWindow('target', w, o.target, o.classes),
    mask: scratch('no mask'),
    distance: scratch('distances'),
  });
  const constants = wassersteinConstants(o);
  // The voxel passes share lib/family_voxel.wgsl's uniform block; the family's scalars stay 0.
  const voxelParams = (grid: VoxelPassPlan) => packFamilyParams(o, grid, grid.windows);
  return {
    label: o.label,
    dims: o.dims,
    layout: plan,
    tensors: [
      { name: 'pred', bytes: o.elements * 4, windowed: true, access: 'read', optional: false, host: { type: 'f32', elements: o.elements } },
      { name: 'target', bytes: targetBytes(o.target, voxels, o.classes), windowed: true, access: 'read', optional: false, host: { type: o.target, elements: voxels } },
      { name: 'loss', bytes: 4, windowed: false, access: 'write', optional: false },
      { name: 'grad', bytes: o.elements * 4, windowed: true, access: 'write', optional: true },
    ],
    scratch: [
      { name: 'distances', bytes: 0, contents: o.distances },
      { name: 'partials', bytes: pairs * forward.chunks * 32 },
      { name: 'faults', bytes: faultRecords * 32 },
      { name: 'class sums', bytes: pairs * 16 },
      { name: 'no mask', bytes: 16 },
      { name: 'status', bytes: STATUS_BYTES, readable: true },
      { name: 'stats', bytes: o.batch * 16, readable: true },
    ],
    passes: [
      uniformPass('forward', 'wasserstein_forward', constants, voxelParams(forward),
        forward.windows.map((w, block) => ({
          block,
          window: w,
          workgroups: [w.count, forward.classBlocks, 1],
          bindings: { ...inputs(w), partials: scratch('partials'), faults: scratch('faults') },
        }))),
      uniformPass('finalize', 'wasserstein_finalize', {}, packWassersteinFinalizeParams(o, forward.chunks, faultRecords), [
        {
          block: 0,
          workgroups: [1, 1, 1],
          bindings: {
            partials: scratch('partials'), class_sums: scratch('class sums'), stats: scratch('stats'), loss: tensor('loss', 0, 4),
            status: scratch('status'), faults: scratch('faults'),
          },
        },
      ]),
      uniformPass('backward', 'wasserstein_backward', constants, voxelParams(backward),
        backward.windows.map((w, block) => ({
          block,
          window: w,
          workgroups: [w.count, 1, 1],
          bindings: { ...inputs(w), class_sums: scratch('class sums'), grad: voxelWindow('grad', w, 'elements', o.classes) },
        })), true),
    ],
    readback: ['stats'],
    inPlace: [],
  };
}
