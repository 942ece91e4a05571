import { WgslDiceError } from '../core/errors.js';
import { MIN_BINDING_BYTES } from '../core/limits.js';
import type { KernelName } from '../kernels/sources.js';
import type { UniformValue } from '../kernels/uniforms.js';
import type { NormalizedClDiceOptions } from '../spec/cldice.js';
import { elementwiseGrid, rangeWindows, type BindingWindow } from './grids.js';
import type { GridProfile } from './profile.js';
import {
  perWindowPass,
  scratchRef,
  tensorRef,
  type BindingRef,
  type PassGroup,
  type PipelineConstants,
  type ProgramPass,
  type TensorName,
} from './program.js';

// What clDice's plans share (src/program/cldice.ts assembles them): whole-tensor volumes bound
// window by window, passes over every window of a grid, the elementwise grid of the sums (and
// of the software plans' level steps), and the level passes' contract.

/** Window starts are multiples of 64 elements: 256-byte binding offsets. */
export const WINDOW_ALIGN = 64;

/** A whole-tensor volume (a caller's tensor or a scratch buffer of the loss), bound window by window. */
export type Volume =
  { readonly volume: 'tensor'; readonly name: TensorName } | { readonly volume: 'scratch'; readonly name: string };

export const tensorVolume = (name: TensorName): Volume => ({ volume: 'tensor', name });
export const scratchVolume = (name: string): Volume => ({ volume: 'scratch', name });

function windowOf(v: Volume, w: BindingWindow): BindingRef {
  const [offset, size] = [w.elementBase * 4, w.elementCount * 4];
  return v.volume === 'tensor' ? tensorRef(v.name, offset, size) : scratchRef(v.name, offset, size);
}

/** A uniform block by name (shared by the passes that name it) and its bytes, one block per window. */
export interface UniformBlock {
  readonly block: string;
  readonly bytes: ArrayBuffer;
}

/** A pass over every binding window of a grid; `bind` names each binding's volume or whole scratch. */
export function windowedPass(
  name: string,
  kernel: KernelName,
  constants: PipelineConstants,
  group: PassGroup,
  windows: readonly BindingWindow[],
  uniforms: UniformBlock,
  bind: Readonly<Record<string, Volume | BindingRef>>,
): ProgramPass {
  const bindWindow = (w: BindingWindow) =>
    Object.fromEntries(Object.entries(bind).map(([binding, v]) => [binding, 'volume' in v ? windowOf(v, w) : v]));
  return {
    ...perWindowPass(name, kernel, constants, uniforms.bytes, windows, bindWindow, { group }),
    uniformBlock: uniforms.block,
  };
}

/**
 * The level passes of a plan: the soft skeleton of a source, K + 1 levels into `out` (the forward
 * levels' scratch: `eroded k`, `delta k`, `skeleton k`), and the backward from the top level down
 * to dL/d pred in the grad tensor, with the scratch volumes they add.
 */
export interface LevelPlan {
  readonly scratch: readonly string[];
  skeleton(who: string, group: PassGroup, source: Volume, out: Volume): ProgramPass[];
  backward(): ProgramPass[];
}

/** The volumes every plan reads besides its levels, and the gradient it writes. */
export const LOSS_INPUTS = {
  pred: tensorVolume('pred'),
  grad: tensorVolume('grad'),
  target: tensorVolume('target'),
  targetSkeleton: tensorVolume('targetSkeleton'),
  coefficients: scratchRef('coefficients'),
} as const;

/**
 * BINDING_TOO_LARGE for a volume (a sample channels-last) that no binding window holds: every
 * stencil reads a whole one.
 */
export function volumeTooLarge(o: NormalizedClDiceOptions, profile: GridProfile): WgslDiceError {
  const cells = o.size[0] * o.size[1] * o.size[2];
  return new WgslDiceError(
    'BINDING_TOO_LARGE',
    `clDice binds whole ${o.channelsFirst ? '(sample, class) volumes' : 'samples'} (${(o.channelsFirst ? cells : cells * o.classes) * 4} bytes here) in one binding, ` +
      `but bindings are limited to ${profile.maxBindingBytes} bytes; ` +
      (o.channelsFirst
        ? 'use smaller volumes or raise maxStorageBufferBindingSize.'
        : "use layout 'channels-first' (windows per class volume) or smaller samples."),
  );
}

/**
 * The most elements a run of small volumes takes: it fits the smallest binding window the engine
 * allows from a 256-byte-aligned start.
 */
const MAX_RUN = (MIN_BINDING_BYTES - 256) / 4;

/** How an elementwise grid (the sums; the software plans' level steps) lies over the tensors. */
export interface ElementwiseGrid {
  /** Elements of a slab: a run of whole volumes (samples channels-last); the last may be shorter. */
  readonly slabElements: number;
  readonly chunksPerSlab: number;
  readonly elementsPerWorkgroup: number;
  readonly elements: number;
  readonly workgroups: number;
  readonly windows: readonly BindingWindow[];
}

/**
 * The elementwise grid, planned by elements: slabs of one volume when it is worth several
 * workgroups, else of as many small volumes as make one workgroup's work (8192 volumes of 4x4
 * used to take 8192 workgroups of 16 elements each, in every pass), each cut in chunks of whole
 * workgroups. Its chunks, and so the order of the sums, never depend on the binding limit:
 * bitwise the same loss whatever the windows.
 */
export function elementwiseVolumes(o: NormalizedClDiceOptions, profile: GridProfile): ElementwiseGrid {
  // The granule: a (sample, class) volume channels-first, a sample channels-last (its classes
  // interleave). A stencil never reads across one.
  const volume = o.size[0] * o.size[1] * o.size[2] * (o.channelsFirst ? 1 : o.classes);
  const worth = Math.min(MAX_RUN, profile.workgroupSize * profile.minUnitsPerThread);
  const perSlab = Math.max(1, Math.floor(worth / volume));
  const slab = perSlab * volume;
  const slabs = Math.ceil(o.elements / slab);
  // Workgroups never straddle two slabs, so a window needs no more than one slab.
  const grid = elementwiseGrid(slabs, slab, profile);
  const range = (k: number): [number, number] => {
    const first = Math.floor(k / grid.chunks) * slab;
    return [first, Math.min(first + slab, o.elements)];
  };
  let windows: BindingWindow[];
  try {
    windows = rangeWindows(slabs * grid.chunks, range, 4, profile, WINDOW_ALIGN);
  } catch (error) {
    if (!(error instanceof WgslDiceError) || error.code !== 'BINDING_TOO_LARGE') throw error;
    throw volumeTooLarge(o, profile);
  }
  return {
    slabElements: slab,
    chunksPerSlab: grid.chunks,
    elementsPerWorkgroup: grid.unitsPerChunk,
    elements: o.elements,
    workgroups: slabs * grid.chunks,
    windows,
  };
}

/** The layout fields both stencil blocks (`ClDiceParams`, `TileParams`) begin with: volume sizes, classes, strides. */
export function layoutFields(o: NormalizedClDiceOptions): UniformValue[] {
  const [D, H, W] = o.size;
  const C = o.classes;
  const strides = o.channelsFirst ? [H * W, W, 1] : [H * W * C, W * C, C];
  return [
    ['size_d', 'u32', D],
    ['size_h', 'u32', H],
    ['size_w', 'u32', W],
    ['classes', 'u32', C],
    ['stride_d', 'u32', strides[0]],
    ['stride_h', 'u32', strides[1]],
    ['stride_w', 'u32', strides[2]],
    // Element offset between the classes of a sample.
    ['channel_stride', 'u32', o.channelsFirst ? D * H * W : 1],
  ];
}

/** The fields of an elementwise grid's uniform block (`SumsParams`, `ClDiceParams`) after the layout's. */
export function elementwiseFields(g: ElementwiseGrid, w: BindingWindow): UniformValue[] {
  return [
    ['slab_elements', 'u32', g.slabElements],
    ['chunks_per_slab', 'u32', g.chunksPerSlab],
    ['elements_per_workgroup', 'u32', g.elementsPerWorkgroup],
    ['elements', 'u32', g.elements],
    ['linear_base', 'u32', w.linearBase],
    ['element_base', 'u32', w.elementBase],
  ];
}
