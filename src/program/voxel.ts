import { WgslDiceError } from '../core/errors.js';
import { CLASS_BLOCK } from '../core/limits.js';
import type { UniformValue } from '../kernels/uniforms.js';
import { MAX_SEQUENTIAL_ADDS, rangeWindows, type BindingWindow } from './grids.js';
import type { GridProfile } from './profile.js';
import {
  tensorRef,
  uniformPass,
  type BindingRef,
  type PipelineConstants,
  type ProgramPass,
  type TensorName,
  type TensorSpec,
} from './program.js';
import type { KernelName } from '../kernels/sources.js';

// The voxel-major passes the loss family and Wasserstein Dice share (shaders/lib/voxel_grid.wgsl):
// their grids and binding windows, the target encodings, and the grid part of their uniform blocks.

/** A voxel-major pass and the binding windows its dispatches run in. */
export interface VoxelPassGrid extends VoxelGrid {
  readonly windows: readonly BindingWindow[];
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
  /** The forward reduction; wg.y runs the blocks of CLASS_BLOCK classes. */
  readonly forward: VoxelPassGrid & { readonly classBlocks: number };
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
 * Plans the voxel passes for a profile: a reduction grid of few, long chunks (each lane adds at
 * most MAX_SEQUENTIAL_ADDS voxels) and an elementwise grid of many, and the binding windows of
 * both. Throws BINDING_TOO_LARGE when a channels-first sample does not fit in one window.
 */
export function voxelGrids(o: VoxelShape, profile: GridProfile): VoxelGrids {
  const bytesPerVoxel = 4 * o.classes;
  // Channels-last chunks fit in half a window, so every window holds at least one.
  const maxChunk = o.channelsFirst ? Infinity : Math.floor(profile.maxBindingBytes / 2 / bytesPerVoxel);
  const classBlocks = Math.ceil(o.classes / CLASS_BLOCK);
  const reduceGrid = voxelChunks(o.spatial, {
    wanted: Math.ceil(profile.targetWorkgroups / (o.batch * classBlocks)),
    // A thread reads C values a voxel: the work worth a workgroup is counted in elements.
    minVoxels: Math.ceil((profile.workgroupSize * profile.minRowsPerLane) / o.classes),
    maxVoxels: Math.min(maxChunk, profile.workgroupSize * MAX_SEQUENTIAL_ADDS),
    maxChunks: profile.maxWorkgroupsPerDimension,
  });
  const elementwiseGrid = voxelChunks(o.spatial, {
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
function voxelChunks(
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

/** The part of a windowed tensor a window (voxels [v0, v0 + n)) covers. */
export function voxelWindow(
  name: TensorName,
  w: BindingWindow,
  kind: TargetKind | 'elements' | 'voxel-f32',
  classes: number,
): BindingRef {
  const { elementBase: v0, elementCount: n } = w;
  switch (kind) {
    case 'elements':
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
  w: BindingWindow,
): UniformValue[] {
  return [
    ['classes', 'u32', o.classes],
    ['spatial', 'u32', o.spatial],
    ['chunks', 'u32', grid.chunks],
    ['voxels_per_chunk', 'u32', grid.voxelsPerChunk],
    ['linear_base', 'u32', w.linearBase],
    ['voxel_base', 'u32', w.elementBase],
    ['element_base', 'u32', w.elementBase * o.classes],
  ];
}

/** The tensors every voxel-major loss binds: pred and its target (windowed), the loss, and the optional grad. */
export function voxelTensors(
  o: VoxelShape & { readonly elements: number; readonly target: TargetKind },
  withGrad = true,
): { pred: TensorSpec; target: TensorSpec; loss: TensorSpec; grad?: TensorSpec } {
  const voxels = o.batch * o.spatial;
  return {
    pred: {
      name: 'pred',
      bytes: o.elements * 4,
      windowed: true,
      access: 'read',
      optional: false,
      host: { type: 'f32', elements: o.elements },
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
      ? { name: 'grad', bytes: o.elements * 4, windowed: true, access: 'write', optional: true }
      : undefined,
  };
}

/**
 * A voxel-major pass over every binding window of its grid, each window one dispatch with the
 * bindings `bind` gives it; a forward grid's class blocks run along wg.y.
 */
export function voxelPass(
  name: string,
  kernel: KernelName,
  constants: PipelineConstants,
  uniforms: ArrayBuffer,
  grid: VoxelPassGrid & { readonly classBlocks?: number },
  bind: (window: BindingWindow) => Record<string, BindingRef>,
  backward = false,
): ProgramPass {
  const dispatches = grid.windows.map((w, block) => ({
    block,
    window: w,
    workgroups: [w.count, grid.classBlocks ?? 1, 1] as const,
    bindings: bind(w),
  }));
  return uniformPass(name, kernel, constants, uniforms, dispatches, backward);
}
