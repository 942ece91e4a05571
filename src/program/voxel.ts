import { WgslDiceError } from '../core/errors.js';
import { CLASS_BLOCK } from '../core/limits.js';
import type { UniformValue } from '../kernels/uniforms.js';
import { MAX_SEQUENTIAL_ADDS, rangeWindows, type BindingWindow } from './grids.js';
import type { DeviceProfile, GridProfile } from './profile.js';
import {
  perWindowPass,
  scratchRef,
  tensorRef,
  type BindingRef,
  type PipelineConstants,
  type ProgramPass,
  type ScratchSpec,
  type TensorName,
  type TensorSpec,
} from './program.js';
import type { FamilyShaderName } from '../kernels/sources.js';

// The voxel-major passes the loss family and Wasserstein Dice share (shaders/lib/voxel_grid.wgsl):
// their grids and binding windows, the target encodings, and the grid part of their uniform blocks.

/**
 * A dispatch's binding window of a voxel pass. Its workgroups read the voxels of their chunk that
 * lie in [elementBase, elementBase + elementCount): all of them, except where a forward chunk is
 * cut by a window edge (channels-last tensors larger than a window). There each lane's running
 * sums go to the `carry` scratch at slot `carrySlot` and come back in the next window's dispatch
 * (slot `carrySlot - 1`), so the lane adds the same voxels in the same order as in one window:
 * chunk boundaries, and so every sum, do not depend on the windows.
 */
export interface VoxelWindow extends BindingWindow {
  /** This window's piece of the tensor: carries out to this slot, in from the one before. */
  readonly carrySlot: number;
  /** The first fault record of this dispatch's workgroups (one record per workgroup and class block). */
  readonly faultBase: number;
}

/** A voxel-major pass and the binding windows its dispatches run in. */
export interface VoxelPassGrid extends VoxelGrid {
  readonly windows: readonly VoxelWindow[];
}

/**
 * How a family loss's passes are laid over the tensors, and cut in binding windows (see
 * src/program/grids.ts) when a tensor is larger than one storage binding. Both passes run voxel-major
 * over (sample, chunk) workgroups; window ranges (`elementBase`, `elementCount`) are in voxels:
 * a window binds voxels [v0, v0 + n) of the label map and a per-sample mask, and elements
 * [v0 * C, (v0 + n) * C) of pred, a dense target and grad (channels-first windows hold whole
 * samples, whose elements are contiguous).
 */
export interface VoxelGrids {
  /** Bytes per voxel of the widest windowed tensor: what a window's size is measured in. */
  readonly bytesPerVoxel: number;
  /** The forward reduction; wg.y runs the blocks of `blockClasses` classes. */
  readonly forward: VoxelPassGrid & {
    readonly classBlocks: number;
    readonly blockClasses: number;
    /** Window edges that cut a chunk: slots of the `carry` scratch (0 in one window). */
    readonly carrySlots: number;
    /** Workgroups the forward dispatches, each writing one fault record a class block. */
    readonly dispatchedWorkgroups: number;
  };
  /** The elementwise backward pass: many more, smaller chunks (no barriers). */
  readonly backward: VoxelPassGrid;
}

/** The shape facts the voxel passes are planned from (family and Wasserstein options both have them). */
export interface VoxelShape {
  readonly batch: number;
  readonly classes: number;
  readonly spatial: number;
  readonly channelsFirst: boolean;
}

/** Window starts are multiples of 256 voxels: a 256-byte offset into every tensor, u8 labels included. */
const WINDOW_ALIGN_VOXELS = 256;

/**
 * Per-class state, in f32, a GPU forward thread may keep for its class block: its sums and one
 * logit a class. Past it (RDNA3: about 96 VGPRs) fewer than 16 subgroups fit a SIMD
 * (`npm run kernel-stats`), so the block shrinks instead.
 */
export const GPU_CLASS_STATE_BUDGET = 64;

/**
 * Classes a forward workgroup row accumulates (wg.y runs the blocks): CLASS_BLOCK on software
 * adapters; on GPUs the largest power of two up to CLASS_BLOCK whose state (`sumsPerClass` sums
 * and one logit a class, for the classes the block holds) fits GPU_CLASS_STATE_BUDGET. A loss
 * that needs few sums keeps 16 classes a block; softmax Dice with cross-entropy and focal terms
 * (7 sums) gets 8.
 */
export function forwardBlockClasses(classes: number, sumsPerClass: number, profile: GridProfile): number {
  let block = CLASS_BLOCK;
  if (profile.software) return block;
  while (block > 1 && Math.min(block, classes) * (sumsPerClass + 1) > GPU_CLASS_STATE_BUDGET) block /= 2;
  return block;
}

/**
 * Plans the voxel passes for a profile: a reduction grid of few, long chunks (each lane adds at
 * most MAX_SEQUENTIAL_ADDS voxels) over blocks of `blockClasses` classes, an elementwise grid of
 * many, and the binding windows of both. The reduction's chunks never depend on the window size
 * (a window edge inside a chunk carries the lanes' sums over: see VoxelWindow), so every window
 * size gives bitwise the same sums. Throws BINDING_TOO_LARGE when a channels-first sample does
 * not fit in one window.
 */
export function voxelGrids(o: VoxelShape, profile: GridProfile, blockClasses = CLASS_BLOCK): VoxelGrids {
  const bytesPerVoxel = 4 * o.classes;
  // The backward's chunks fit in half a window, so every window holds at least one (its results
  // do not depend on its chunks: each voxel's gradient is its own).
  const maxChunk = o.channelsFirst ? Infinity : Math.floor(profile.maxBindingBytes / 2 / bytesPerVoxel);
  const classBlocks = Math.ceil(o.classes / blockClasses);
  const reduceGrid = voxelChunks(o.spatial, {
    wanted: Math.ceil(profile.targetWorkgroups / (o.batch * classBlocks)),
    // A thread reads C values a voxel: the work worth a workgroup is counted in elements.
    minVoxels: Math.ceil((profile.workgroupSize * profile.minRowsPerLane) / o.classes),
    maxVoxels: profile.workgroupSize * MAX_SEQUENTIAL_ADDS,
    maxChunks: profile.maxWorkgroupsPerDimension,
  });
  const forwardWindows = o.channelsFirst
    ? voxelWindows(o, reduceGrid, bytesPerVoxel, profile)
    : pieceWindows(o, reduceGrid, bytesPerVoxel, profile);
  const elementwiseGrid = voxelChunks(o.spatial, {
    wanted: Math.ceil(profile.elementwiseWorkgroups / o.batch),
    minVoxels: profile.workgroupSize * profile.minUnitsPerThread,
    maxVoxels: maxChunk,
    maxChunks: profile.maxWorkgroupsPerDimension,
  });
  return {
    bytesPerVoxel,
    forward: {
      ...reduceGrid,
      classBlocks,
      blockClasses,
      windows: forwardWindows,
      carrySlots: forwardWindows.reduce((n, w) => Math.max(n, w.carrySlot), 0),
      dispatchedWorkgroups: forwardWindows.reduce((n, w) => n + w.count, 0),
    },
    backward: { ...elementwiseGrid, windows: voxelWindows(o, elementwiseGrid, bytesPerVoxel, profile) },
  };
}

/** Chunks of one sample's `spatial` voxels: about `wanted`, none shorter than `minVoxels` unless the sample is. */
function voxelChunks(
  spatial: number,
  limits: { wanted: number; minVoxels: number; maxVoxels: number; maxChunks: number },
): VoxelGrid {
  const worthwhile = Math.max(1, Math.floor(spatial / limits.minVoxels));
  const chunks = Math.max(1, Math.min(limits.wanted, worthwhile, limits.maxChunks));
  const voxelsPerChunk = Math.max(1, Math.min(limits.maxVoxels, Math.ceil(spatial / chunks)));
  return { chunks: Math.ceil(spatial / voxelsPerChunk), voxelsPerChunk };
}

/**
 * A channels-last reduction's windows: the tensor cut into pieces of whole 256-voxel runs, as
 * large as one binding allows, whatever the chunks; each piece's dispatches run every chunk that
 * meets it (several dispatches where they are more than one dispatch allows). A chunk cut by a
 * piece's edge carries its lanes' sums over (VoxelWindow).
 */
function pieceWindows(o: VoxelShape, grid: VoxelGrid, bytesPerVoxel: number, profile: GridProfile): VoxelWindow[] {
  const voxels = o.batch * o.spatial;
  const pieceVoxels = Math.floor(profile.maxBindingBytes / bytesPerVoxel / WINDOW_ALIGN_VOXELS) * WINDOW_ALIGN_VOXELS;
  if (pieceVoxels === 0) {
    throw new WgslDiceError(
      'BINDING_TOO_LARGE',
      `one window must hold ${WINDOW_ALIGN_VOXELS} voxels (${WINDOW_ALIGN_VOXELS * bytesPerVoxel} bytes at C = ${o.classes}), ` +
        `more than the ${profile.maxBindingBytes}-byte binding window.`,
    );
  }
  const chunkOf = (voxel: number) => {
    const sample = Math.floor(voxel / o.spatial);
    return sample * grid.chunks + Math.floor((voxel - sample * o.spatial) / grid.voxelsPerChunk);
  };
  const windows: VoxelWindow[] = [];
  let faultBase = 0;
  for (let begin = 0, slot = 0; begin < voxels; begin += pieceVoxels, slot++) {
    const end = Math.min(begin + pieceVoxels, voxels);
    const last = chunkOf(end - 1);
    for (let linear = chunkOf(begin); linear <= last; linear += profile.maxWorkgroupsPerDimension) {
      const count = Math.min(profile.maxWorkgroupsPerDimension, last + 1 - linear);
      windows.push({
        linearBase: linear,
        count,
        elementBase: begin,
        elementCount: end - begin,
        carrySlot: slot,
        faultBase,
      });
      faultBase += count;
    }
  }
  return windows;
}

/** Windows that hold whole chunks (no carry), each workgroup in one dispatch: fault record = workgroup. */
function withoutCarry(windows: readonly BindingWindow[]): VoxelWindow[] {
  return windows.map((w) => ({ ...w, carrySlot: 0, faultBase: w.linearBase }));
}

function voxelWindows(o: VoxelShape, grid: VoxelGrid, bytesPerVoxel: number, profile: GridProfile): VoxelWindow[] {
  return withoutCarry(wholeChunkWindows(o, grid, bytesPerVoxel, profile));
}

function wholeChunkWindows(
  o: VoxelShape,
  grid: VoxelGrid,
  bytesPerVoxel: number,
  profile: GridProfile,
): BindingWindow[] {
  const align = WINDOW_ALIGN_VOXELS;
  if (!o.channelsFirst) {
    return rangeWindows(
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
    samples = rangeWindows(
      o.batch,
      (s) => [s * o.spatial, (s + 1) * o.spatial],
      bytesPerVoxel,
      profile,
      align,
      Infinity,
    );
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
    case 'u8':
      return Math.ceil(voxels / 4) * 4;
    case 'u16':
      return Math.ceil(voxels / 2) * 4;
    case 'u32':
      return voxels * 4;
    default:
      return voxels * classes * 4;
  }
}

/** Bytes of `count` f32 or f16 elements, in whole words (a binding's size is a multiple of 4). */
export function elementBytes(count: number, type: 'f32' | 'f16'): number {
  return type === 'f16' ? Math.ceil(count / 2) * 4 : count * 4;
}

/**
 * The part of a windowed tensor a window (voxels [v0, v0 + n)) covers: pred and grad as
 * 'elements' of `type` (an f16 window of odd length binds one element of slack, which it never
 * reads or writes), a dense target, a label map, or a per-sample mask ('voxel-f32').
 */
export function voxelWindow(
  name: TensorName,
  w: BindingWindow,
  kind: TargetKind | 'elements' | 'voxel-f32',
  classes: number,
  type: 'f32' | 'f16' = 'f32',
): BindingRef {
  const { elementBase: v0, elementCount: n } = w;
  switch (kind) {
    case 'elements':
      return tensorRef(name, v0 * classes * (type === 'f16' ? 2 : 4), elementBytes(n * classes, type));
    case 'dense':
      return tensorRef(name, v0 * classes * 4, n * classes * 4);
    case 'u32':
    case 'voxel-f32':
      return tensorRef(name, v0 * 4, n * 4);
    case 'u16':
      return tensorRef(name, v0 * 2, Math.ceil(n / 2) * 4);
    case 'u8':
      return tensorRef(name, v0, Math.ceil(n / 4) * 4);
  }
}

/**
 * The grid of a voxel-major pass: per sample, `chunks` chunks of `voxelsPerChunk` voxels,
 * run sample-major (workgroup `linear` = sample * chunks + chunk).
 */
export interface VoxelGrid {
  readonly chunks: number;
  readonly voxelsPerChunk: number;
}

/**
 * The grid fields that open the voxel passes' uniform blocks (`FamilyParams` in
 * lib/family_voxel.wgsl, `WassersteinParams` in lib/wasserstein.wgsl; lib/voxel_grid.wgsl reads
 * them), for one window. A window's `elementBase` is in voxels here (see voxelWindow); the
 * kernels get it as voxel_base and, times C, as element_base.
 */
export function voxelGridFields(
  o: Pick<VoxelShape, 'classes' | 'spatial'>,
  grid: VoxelGrid,
  w: VoxelWindow,
): UniformValue[] {
  return [
    ['classes', 'u32', o.classes],
    ['spatial', 'u32', o.spatial],
    ['chunks', 'u32', grid.chunks],
    ['voxels_per_chunk', 'u32', grid.voxelsPerChunk],
    ['linear_base', 'u32', w.linearBase],
    ['voxel_base', 'u32', w.elementBase],
    ['voxel_end', 'u32', w.elementBase + w.elementCount],
    ['element_base', 'u32', w.elementBase * o.classes],
    ['carry_slot', 'u32', w.carrySlot],
    ['fault_base', 'u32', w.faultBase],
  ];
}

/**
 * The `carry` scratch of a forward pass: per window edge that cuts a chunk, per class block, per
 * lane, `vec4sPerClass` vec4 for each class of the block (16 bytes where nothing is carried).
 */
function carryBytes(grid: VoxelGrids['forward'], workgroupSize: number, vec4sPerClass: number): number {
  return Math.max(16, grid.carrySlots * grid.classBlocks * workgroupSize * grid.blockClasses * vec4sPerClass * 16);
}

/** The tensors every voxel-major loss binds: pred and its target (windowed), the loss, and the optional grad. */
export function voxelTensors(
  o: VoxelShape & VoxelElementTypes & { readonly elements: number; readonly target: TargetKind },
  withGrad = true,
): { pred: TensorSpec; target: TensorSpec; loss: TensorSpec; grad?: TensorSpec } {
  const voxels = o.batch * o.spatial;
  return {
    pred: {
      name: 'pred',
      bytes: elementBytes(o.elements, o.predType),
      windowed: true,
      access: 'read',
      optional: false,
      // f16 predictions are given as their bits (a Float32Array is rounded for you).
      host: { type: o.predType === 'f16' ? 'f16-bits' : 'f32', elements: o.elements },
    },
    target: {
      name: 'target',
      bytes: targetBytes(o.target, voxels, o.classes),
      windowed: true,
      access: 'read',
      optional: false,
      host: o.target === 'dense' ? { type: 'f32', elements: o.elements } : { type: o.target, elements: voxels },
    },
    loss: { name: 'loss', bytes: 4, windowed: false, access: 'write', optional: false },
    grad: withGrad
      ? { name: 'grad', bytes: elementBytes(o.elements, o.gradType), windowed: true, access: 'write', optional: true }
      : undefined,
  };
}

/** What the voxel passes need of a loss's options: its shape, element types and target encoding. */
export type VoxelLoss = VoxelShape & VoxelElementTypes & { readonly target: TargetKind };

/** pred and its target (`truth`) for one window: the bindings of every voxel pass. */
function predAndTruth(o: VoxelLoss, w: VoxelWindow): Record<string, BindingRef> {
  return {
    pred: voxelWindow('pred', w, 'elements', o.classes, o.predType),
    truth: voxelWindow('target', w, o.target, o.classes),
  };
}

/**
 * The forward reduction over every window of its grid, in the kernel variant voxelForwardKernel
 * picks (its register constants after the loss's `modes`): pred and truth, the loss's own
 * bindings (`inputs`), and what lib/voxel_grid.wgsl's reduction writes: per (sample, chunk,
 * class) `partials`, the lanes' `carry` across a window edge that cuts a chunk, and one fault
 * record a workgroup and class block.
 */
function voxelForwardPass(
  base: 'family_forward' | 'wasserstein_forward',
  o: VoxelLoss,
  profile: DeviceProfile,
  grid: VoxelGrids['forward'],
  modes: PipelineConstants,
  uniforms: ArrayBuffer,
  inputs: (window: VoxelWindow) => Record<string, BindingRef>,
): ProgramPass {
  const variant = voxelForwardKernel(base, o, grid, profile);
  const bind = (w: VoxelWindow) => ({
    ...predAndTruth(o, w),
    ...inputs(w),
    partials: scratchRef('partials'),
    faults: scratchRef('faults'),
    carry: scratchRef('carry'),
  });
  // The class blocks run along wg.y.
  const constants = { ...modes, ...variant.constants };
  return perWindowPass('forward', variant.kernel, constants, uniforms, grid.windows, bind, { rows: grid.classBlocks });
}

/**
 * The elementwise backward over every window of its grid, in the kernel variant
 * voxelBackwardKernel picks: pred and truth, the loss's own bindings (`inputs`), and grad's window.
 */
function voxelBackwardPass(
  base: 'family_backward' | 'wasserstein_backward',
  o: VoxelLoss,
  grid: VoxelPassGrid,
  modes: PipelineConstants,
  uniforms: ArrayBuffer,
  inputs: (window: VoxelWindow) => Record<string, BindingRef>,
): ProgramPass {
  const variant = voxelBackwardKernel(base, o);
  const bind = (w: VoxelWindow) => ({
    ...predAndTruth(o, w),
    ...inputs(w),
    grad: voxelWindow('grad', w, 'elements', o.classes, o.gradType),
  });
  const constants = { ...modes, ...variant.constants };
  return perWindowPass('backward', variant.kernel, constants, uniforms, grid.windows, bind, { group: 'backward' });
}

/**
 * The voxel passes of one loss, planned once: its grids, with forward class blocks sized to the
 * sums a class keeps, the fault records the forward writes, and the scratch and passes over them.
 */
export interface VoxelPlan {
  readonly grids: VoxelGrids;
  /** One a dispatched forward workgroup and class block. */
  readonly faultRecords: number;
  /** The forward's `partials` and `carry`, for `vec4sPerClass` vec4 of sums a class, and `faults`. */
  forwardScratch(vec4sPerClass: number): ScratchSpec[];
  /** The forward reduction (voxelForwardPass) with the loss's `modes` and own bindings. */
  forwardPass(
    base: 'family_forward' | 'wasserstein_forward',
    modes: PipelineConstants,
    uniforms: ArrayBuffer,
    inputs: (window: VoxelWindow) => Record<string, BindingRef>,
  ): ProgramPass;
  /** The elementwise backward (voxelBackwardPass) with the loss's `modes` and own bindings. */
  backwardPass(
    base: 'family_backward' | 'wasserstein_backward',
    modes: PipelineConstants,
    uniforms: ArrayBuffer,
    inputs: (window: VoxelWindow) => Record<string, BindingRef>,
  ): ProgramPass;
}

/** Plans a loss's voxel passes for a profile: `sumsPerClass` sizes the forward's class blocks (forwardBlockClasses). */
export function planVoxelPasses(o: VoxelLoss, profile: DeviceProfile, sumsPerClass: number): VoxelPlan {
  const grids = voxelGrids(o, profile, forwardBlockClasses(o.classes, sumsPerClass, profile));
  const { forward, backward } = grids;
  const faultRecords = forward.dispatchedWorkgroups * forward.classBlocks;
  return {
    grids,
    faultRecords,
    forwardScratch: (vec4sPerClass) => [
      { name: 'partials', bytes: o.batch * o.classes * forward.chunks * vec4sPerClass * 16 },
      { name: 'carry', bytes: carryBytes(forward, profile.workgroupSize, vec4sPerClass) },
      { name: 'faults', bytes: faultRecords * 32 },
    ],
    forwardPass: (base, modes, uniforms, inputs) =>
      voxelForwardPass(base, o, profile, forward, modes, uniforms, inputs),
    backwardPass: (base, modes, uniforms, inputs) => voxelBackwardPass(base, o, backward, modes, uniforms, inputs),
  };
}

/** The element types of pred and grad a loss was created with. */
export interface VoxelElementTypes {
  readonly predType: 'f32' | 'f16';
  readonly gradType: 'f32' | 'f16';
}

/**
 * Whether a voxel pass reads pred and writes grad as vec4s: channels-last with the class count
 * in registers a multiple of 4 (shaders/lib/voxel_pred.wgsl); every window starts and ends on a
 * voxel, so on a vec4.
 */
function inQuads(registerClasses: number, channelsFirst: boolean): boolean {
  return registerClasses !== 0 && registerClasses % 4 === 0 && !channelsFirst;
}

/**
 * The kernel variant and register constants of a voxel forward pass. Up to its block's class
 * count, a voxel's classes stay in registers (REGISTER_CLASSES: loops run to C, a constant of the
 * pipeline, so one pipeline per class count, wider axes share one); GPUs get the class-block
 * loops unrolled and, where the adapter has subgroups, the subgroup sums; software adapters
 * compile far faster without either.
 */
function voxelForwardKernel(
  base: 'family_forward' | 'wasserstein_forward',
  o: VoxelShape & VoxelElementTypes,
  grid: VoxelGrids['forward'],
  profile: DeviceProfile,
): { kernel: FamilyShaderName; constants: PipelineConstants } {
  const registerClasses = o.classes <= grid.blockClasses ? o.classes : 0;
  const subgroups = !profile.software && profile.subgroupSize !== undefined;
  const kernel = `${base}${inQuads(registerClasses, o.channelsFirst) ? '_quads' : ''}${
    o.predType === 'f16' ? '_f16' : ''
  }${subgroups ? '_subgroups' : ''}` as FamilyShaderName;
  return {
    kernel,
    constants: {
      BLOCK_CLASSES: grid.blockClasses,
      REGISTER_CLASSES: registerClasses,
      UNROLL_CLASS_BLOCK: +!profile.software,
      ...(subgroups ? { SUBGROUP_MIN_SIZE: profile.subgroupSize! } : {}),
    },
  };
}

/** The kernel variant and register constants of a voxel backward pass: up to CLASS_BLOCK classes in registers. */
function voxelBackwardKernel(
  base: 'family_backward' | 'wasserstein_backward',
  o: VoxelShape & VoxelElementTypes,
): { kernel: FamilyShaderName; constants: PipelineConstants } {
  const registerClasses = o.classes <= CLASS_BLOCK ? o.classes : 0;
  const kernel = `${base}${inQuads(registerClasses, o.channelsFirst) ? '_quads' : ''}${
    o.predType === 'f16' ? '_f16' : ''
  }${o.gradType === 'f16' ? '_f16grad' : ''}` as FamilyShaderName;
  return { kernel, constants: { REGISTER_CLASSES: registerClasses } };
}
