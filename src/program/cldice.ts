import { WgslDiceError } from '../core/errors.js';
import { UNIFORM_STRIDE } from '../core/limits.js';
import type { KernelName } from '../kernels/sources.js';
import type { NormalizedClDiceOptions } from '../spec/cldice.js';
import { elementwiseGrid, rangeWindows, type BindingWindow } from './grids.js';
import type { GridProfile } from './profile.js';

/**
 * clDice's spec → passes mapping, until it runs on the program runtime: its kernels and their
 * modes, its elementwise grid and binding windows, and its uniform blocks. Its own runtime
 * (src/losses/cldice.ts) records them.
 */

/**
 * The clDice kernels (shaders/cldice_*.wgsl, which include lib/cldice_common.wgsl, _pool and
 * _tree as they need), each with the `override` modes of its pipelines.
 */
export const CLDICE_KERNELS = {
  erode: { file: 'cldice_erode', modes: {} },
  skeleton_first: { file: 'cldice_skeleton', modes: { FIRST_LEVEL: 1 } },
  skeleton: { file: 'cldice_skeleton', modes: { FIRST_LEVEL: 0 } },
  sums: { file: 'cldice_sums', modes: {} },
  finalize: { file: 'cldice_finalize', modes: {} },
  skeleton_backward_top: { file: 'cldice_skeleton_backward', modes: { FROM_LOSS: 1, FIRST_LEVEL: 0 } },
  skeleton_backward: { file: 'cldice_skeleton_backward', modes: { FROM_LOSS: 0, FIRST_LEVEL: 0 } },
  skeleton_backward_first: { file: 'cldice_skeleton_backward', modes: { FROM_LOSS: 0, FIRST_LEVEL: 1 } },
  skeleton_backward_only: { file: 'cldice_skeleton_backward', modes: { FROM_LOSS: 1, FIRST_LEVEL: 1 } },
  dilate_choice: { file: 'cldice_dilate_choice', modes: {} },
  dilate_backward_first: { file: 'cldice_dilate_backward', modes: { ACCUMULATE: 0 } },
  dilate_backward: { file: 'cldice_dilate_backward', modes: { ACCUMULATE: 1 } },
  erode_backward: { file: 'cldice_erode_backward', modes: { FINAL: 0 } },
  erode_backward_final: { file: 'cldice_erode_backward', modes: { FINAL: 1 } },
} as const satisfies Record<string, { file: KernelName; modes: Record<string, number> }>;

export type ClDiceKernel = keyof typeof CLDICE_KERNELS;

/**
 * The slab of the grid and the granule of the binding windows: a (sample, class) volume
 * channels-first, a sample channels-last (its classes interleave).
 */
function windowUnit(o: NormalizedClDiceOptions): number {
  const volume = o.size[0] * o.size[1] * o.size[2];
  return o.channelsFirst ? volume : volume * o.classes;
}

/** Window starts are multiples of 64 elements: 256-byte binding offsets. */
const WINDOW_ALIGN = 64;

export interface ClDiceGrids {
  geometry: ClDiceGeometry;
  workgroups: number;
  windows: readonly BindingWindow[];
}

/** The grid, binding windows and kernel geometry of a clDice loss on a device of `profile`. */
export function clDiceGrids(o: NormalizedClDiceOptions, profile: GridProfile): ClDiceGrids {
  const slab = windowUnit(o);
  const slabs = o.elements / slab;
  // Workgroups never straddle two slabs, so a window needs no more than one slab.
  const grid = elementwiseGrid(slabs, slab, profile);
  const range = (k: number): [number, number] => {
    const first = Math.floor(k / grid.chunks) * slab;
    return [first, first + slab];
  };
  let windows: BindingWindow[];
  try {
    windows = rangeWindows(slabs * grid.chunks, range, 4, profile, WINDOW_ALIGN);
  } catch (error) {
    if (!(error instanceof WgslDiceError) || error.code !== 'BINDING_TOO_LARGE') throw error;
    throw new WgslDiceError(
      'BINDING_TOO_LARGE',
      `clDice binds whole ${o.channelsFirst ? '(sample, class) volumes' : 'samples'} (${slab * 4} bytes here) in one binding, ` +
        `but bindings are limited to ${profile.maxBindingBytes} bytes; ` +
        (o.channelsFirst
          ? 'use smaller volumes or raise maxStorageBufferBindingSize.'
          : "use layout 'channels-first' (windows per class volume) or smaller samples."),
    );
  }
  const [D, H, W] = o.size;
  const C = o.classes;
  return {
    geometry: {
      size: o.size,
      strides: o.channelsFirst ? [H * W, W, 1] : [H * W * C, W * C, C],
      classes: C,
      channelStride: o.channelsFirst ? D * H * W : 1,
      slabElements: slab,
      chunksPerSlab: grid.chunks,
      elementsPerWorkgroup: grid.unitsPerChunk,
    },
    workgroups: slabs * grid.chunks,
    windows,
  };
}

/** How the elementwise grid and the tensors' layout look to the kernels. */
export interface ClDiceGeometry {
  /** (D, H, W); D = 1 in 2D. */
  size: readonly [number, number, number];
  /** Element strides of d, h, w. */
  strides: readonly [number, number, number];
  classes: number;
  channelStride: number;
  /** Elements of a slab: one (sample, class) volume channels-first, one sample channels-last. */
  slabElements: number;
  chunksPerSlab: number;
  elementsPerWorkgroup: number;
}

/** Mirrors `ClDiceParams` in cldice_common.wgsl, one block per binding window. */
export function packClDiceParams(g: ClDiceGeometry, windows: readonly BindingWindow[]): ArrayBuffer {
  const bytes = new ArrayBuffer(windows.length * UNIFORM_STRIDE);
  windows.forEach((w, i) => {
    new Uint32Array(bytes, i * UNIFORM_STRIDE, 13).set([
      ...g.size,
      g.classes,
      ...g.strides,
      g.channelStride,
      g.slabElements,
      g.chunksPerSlab,
      g.elementsPerWorkgroup,
      w.linearBase,
      w.elementBase,
    ]);
  });
  return bytes;
}

/** Mirrors `FinalizeParams` in cldice_finalize.wgsl. */
export function packClDiceFinalizeParams(partialPairs: number, smooth: number, alpha: number): ArrayBuffer {
  const bytes = new ArrayBuffer(16);
  new Uint32Array(bytes, 0, 1)[0] = partialPairs;
  new Float32Array(bytes, 4, 2).set([smooth, alpha]);
  return bytes;
}
