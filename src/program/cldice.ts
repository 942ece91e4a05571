import { WgslDiceError } from '../core/errors.js';
import { MIN_BINDING_BYTES } from '../core/limits.js';
import { packPerWindow, packUniform, type UniformValue } from '../kernels/uniforms.js';
import type { NormalizedClDiceOptions } from '../spec/cldice.js';
import { elementwiseGrid, rangeWindows, type BindingWindow } from './grids.js';
import type { GridProfile } from './profile.js';
import {
  scratchRef,
  statusScratch,
  tensorRef,
  uniformPass,
  type BindingRef,
  type LossProgram,
  type PassGroup,
  type PipelineConstants,
  type ProgramPass,
  type TensorName,
  type TensorSpec,
} from './program.js';
import type { KernelName } from '../kernels/sources.js';

// clDice's spec -> program mapping (MONAI's SoftclDiceLoss / SoftDiceclDiceLoss): the soft
// skeletons of target (group 'target-skeleton', skipped when the caller gives targetSkeleton)
// and pred by stencil passes, K + 1 levels each (erode, then dilate fused with the skeleton
// update); the foreground sums per workgroup with the input faults; one finalize; and, with a
// gradient, levels K down to 0 of the backward: the skeleton recurrence, the dilation's
// choices, and two gathers that route gradients through them with torch's tie rules. Every
// pass runs in binding windows of whole volumes, scratch included; no atomics on values.

/**
 * The granule of the grid and of the binding windows: a (sample, class) volume channels-first,
 * a sample channels-last (its classes interleave). A stencil never reads across one.
 */
function volumeUnit(o: NormalizedClDiceOptions): number {
  const volume = o.size[0] * o.size[1] * o.size[2];
  return o.channelsFirst ? volume : volume * o.classes;
}

/** Window starts are multiples of 64 elements: 256-byte binding offsets. */
const WINDOW_ALIGN = 64;

/**
 * The most elements a run of small volumes takes: it fits the smallest binding window the engine
 * allows from a 256-byte-aligned start.
 */
const MAX_RUN = (MIN_BINDING_BYTES - 256) / 4;

/** How the elementwise grid and the tensors' layout look to the kernels. */
export interface ClDiceGeometry {
  /** (D, H, W); D = 1 in 2D. */
  readonly size: readonly [number, number, number];
  /** Element strides of d, h, w. */
  readonly strides: readonly [number, number, number];
  readonly classes: number;
  readonly channelStride: number;
  /**
   * Elements of a slab: a run of whole volumes (samples channels-last), one when it is worth
   * several workgroups, else as many as make one workgroup's work. The last may be shorter.
   */
  readonly slabElements: number;
  readonly chunksPerSlab: number;
  readonly elementsPerWorkgroup: number;
  readonly elements: number;
}

export interface ClDiceGrids {
  readonly geometry: ClDiceGeometry;
  /** Workgroups of every elementwise pass (one fault record and one partial pair each in the sums). */
  readonly workgroups: number;
  readonly windows: readonly BindingWindow[];
}

/**
 * The grid, binding windows and kernel geometry of a clDice loss on a device of `profile`,
 * planned by elements: a workgroup gets about the same work whether the tensor is one large
 * volume or thousands of tiny ones (8192 volumes of 4x4 used to take 8192 workgroups of 16
 * elements each, in every one of the 8(K + 1) passes).
 */
export function clDiceGrids(o: NormalizedClDiceOptions, profile: GridProfile): ClDiceGrids {
  const volume = volumeUnit(o);
  const volumes = o.elements / volume;
  // Small volumes run several to a slab: a workgroup's worth (enough for every thread), capped
  // so that the grid never depends on the binding limit (sums in the same order whatever the
  // windows).
  const worth = Math.min(MAX_RUN, profile.workgroupSize * profile.minUnitsPerThread);
  const perSlab = Math.max(1, Math.floor(worth / volume));
  const slab = perSlab * volume;
  const slabs = Math.ceil(volumes / perSlab);
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
    throw new WgslDiceError(
      'BINDING_TOO_LARGE',
      `clDice binds whole ${o.channelsFirst ? '(sample, class) volumes' : 'samples'} (${volume * 4} bytes here) in one binding, ` +
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
      elements: o.elements,
    },
    workgroups: slabs * grid.chunks,
    windows,
  };
}

/** Mirrors `ClDiceParams` in lib/cldice_common.wgsl: one block per binding window, shared by every windowed pass. */
export function clDiceParamsFields(g: ClDiceGeometry, w: BindingWindow): UniformValue[] {
  return [
    ['size_d', 'u32', g.size[0]],
    ['size_h', 'u32', g.size[1]],
    ['size_w', 'u32', g.size[2]],
    ['classes', 'u32', g.classes],
    ['stride_d', 'u32', g.strides[0]],
    ['stride_h', 'u32', g.strides[1]],
    ['stride_w', 'u32', g.strides[2]],
    ['channel_stride', 'u32', g.channelStride],
    ['slab_elements', 'u32', g.slabElements],
    ['chunks_per_slab', 'u32', g.chunksPerSlab],
    ['elements_per_workgroup', 'u32', g.elementsPerWorkgroup],
    ['elements', 'u32', g.elements],
    ['linear_base', 'u32', w.linearBase],
    ['element_base', 'u32', w.elementBase],
  ];
}

/** Mirrors `FinalizeParams` in cldice_finalize.wgsl. */
export function clDiceFinalizeFields(o: NormalizedClDiceOptions, grids: ClDiceGrids): UniformValue[] {
  return [
    ['partial_pairs', 'u32', grids.workgroups],
    ['smoothing', 'f32', o.smooth],
    ['alpha', 'f32', o.alpha],
    ['fault_records', 'u32', grids.workgroups],
  ];
}

/** The planned clDice loss: its program, with the grids the passes were cut from. */
export function planClDiceProgram(o: NormalizedClDiceOptions, profile: GridProfile): LossProgram<ClDiceGrids> {
  const grids = clDiceGrids(o, profile);
  const K = o.skeletonIterations;
  const bytes = o.elements * 4;
  const params = packPerWindow(grids.windows, (w) => clDiceParamsFields(grids.geometry, w));
  // The modes every kernel over the volumes takes: soft_erode pools along H, W (2D) or D, H, W.
  const volumeModes = { SPATIAL_DIMS: o.rank };

  /** A pass over every binding window; `bind` names each binding's tensor or scratch volume. */
  const windowed = (
    name: string,
    kernel: KernelName,
    modes: PipelineConstants,
    group: PassGroup,
    bind: Record<string, Volume | BindingRef>,
  ): ProgramPass => ({
    ...uniformPass(
      name,
      kernel,
      { ...volumeModes, ...modes },
      params,
      grids.windows.map((w, block) => ({
        block,
        window: w,
        workgroups: [w.count, 1, 1] as const,
        bindings: Object.fromEntries(
          Object.entries(bind).map(([binding, v]) => [binding, 'volume' in v ? windowOf(v, w) : v]),
        ),
      })),
      group,
    ),
    uniformBlock: 'params',
  });

  /** soft_skel(source) into `out` (k = K), keeping every level for the backward pass. */
  const skeletonPasses = (who: string, group: PassGroup, source: Volume, out: Volume): ProgramPass[] => {
    const level = (k: number) => (k === 0 ? source : scratchVolume(`eroded ${k - 1}`));
    const skeleton = (k: number) => (k === K ? out : scratchVolume(`skeleton ${k}`));
    return Array.from({ length: K + 1 }, (_, k) => {
      const next = scratchVolume(`eroded ${k}`);
      return [
        windowed(`${who} erode ${k}`, 'cldice_erode', {}, group, { pooled: level(k), eroded: next }),
        windowed(`${who} skeleton ${k}`, 'cldice_skeleton', { FIRST_LEVEL: +(k === 0) }, group, {
          pooled: next,
          level: level(k),
          previous: k === 0 ? next : skeleton(k - 1),
          delta: scratchVolume(`delta ${k}`),
          skeleton: skeleton(k),
        }),
      ];
    }).flat();
  };

  const pred = tensorVolume('pred');
  const target = tensorVolume('target');
  const targetSkeleton = tensorVolume('targetSkeleton');
  const coefficients = scratchRef('coefficients');
  const backward = Array.from({ length: K + 1 }, (_, i) => {
    const k = K - i;
    const delta = scratchVolume(`delta ${k}`);
    const gradLevel = (j: number) => scratchVolume(`grad level ${j % 2}`);
    return [
      windowed(
        `skeleton backward ${k}`,
        'cldice_skeleton_backward',
        { FROM_LOSS: +(k === K), FIRST_LEVEL: +(k === 0) },
        'backward',
        {
          coefficients,
          target_values: target,
          previous: k === 0 ? target : scratchVolume(`skeleton ${k - 1}`),
          delta,
          grad_skeleton: scratchVolume('grad skeleton'),
        },
      ),
      windowed(`dilate choice ${k}`, 'cldice_dilate_choice', {}, 'backward', {
        pooled: scratchVolume(`eroded ${k}`),
        choice: scratchVolume('choice'),
      }),
      windowed(`dilate backward ${k}`, 'cldice_dilate_backward', { ACCUMULATE: +(k !== K) }, 'backward', {
        choice: scratchVolume('choice'),
        grad_delta: delta,
        grad_level: gradLevel(k + 1),
      }),
      windowed(`erode backward ${k}`, 'cldice_erode_backward', { FINAL: +(k === 0) }, 'backward', {
        pooled: k === 0 ? pred : scratchVolume(`eroded ${k - 1}`),
        grad_next: gradLevel(k + 1),
        grad_delta: delta,
        grad_level: k === 0 ? tensorVolume('grad') : gradLevel(k),
        coefficients,
        target_values: target,
        target_skeleton: targetSkeleton,
      }),
    ];
  }).flat();

  const volumes = [
    ...Array.from({ length: K + 1 }, (_, k) => `eroded ${k}`),
    ...Array.from({ length: K + 1 }, (_, k) => `delta ${k}`),
    ...Array.from({ length: K }, (_, k) => `skeleton ${k}`),
    'pred skeleton',
    'targetSkeleton',
    'grad skeleton',
    'grad level 0',
    'grad level 1',
    'choice',
  ];
  return {
    label: o.label,
    dims: o.dims,
    grids,
    tensors: clDiceTensors(o.elements),
    scratch: [
      ...volumes.map((name) => ({ name, bytes })),
      { name: 'partials', bytes: grids.workgroups * 32 },
      { name: 'coefficients', bytes: 32 },
      { name: 'stats', bytes: 32, readable: true },
      ...statusScratch(grids.workgroups),
    ],
    passes: [
      ...skeletonPasses('target', 'target-skeleton', target, targetSkeleton),
      ...skeletonPasses('pred', 'forward', pred, scratchVolume('pred skeleton')),
      windowed('sums', 'cldice_sums', {}, 'forward', {
        pred,
        target_values: target,
        pred_skeleton: scratchVolume('pred skeleton'),
        target_skeleton: targetSkeleton,
        partials: scratchRef('partials'),
        faults: scratchRef('faults'),
      }),
      uniformPass('finalize', 'cldice_finalize', {}, packUniform(clDiceFinalizeFields(o, grids)), [
        {
          block: 0,
          workgroups: [1, 1, 1],
          bindings: {
            partials: scratchRef('partials'),
            loss: tensorRef('loss', 0, 4),
            stats: scratchRef('stats'),
            coefficients,
            status: scratchRef('status'),
            faults: scratchRef('faults'),
          },
        },
      ]),
      ...backward,
    ],
    groups: { 'target-skeleton': { without: 'targetSkeleton' } },
    readback: ['stats'],
    inPlace: [],
  };
}

/** A whole-tensor volume (a caller's tensor or a scratch buffer of the loss), bound window by window. */
type Volume =
  { readonly volume: 'tensor'; readonly name: TensorName } | { readonly volume: 'scratch'; readonly name: string };

const tensorVolume = (name: TensorName): Volume => ({ volume: 'tensor', name });
const scratchVolume = (name: string): Volume => ({ volume: 'scratch', name });

function windowOf(v: Volume, w: BindingWindow): BindingRef {
  const [offset, size] = [w.elementBase * 4, w.elementCount * 4];
  return v.volume === 'tensor' ? tensorRef(v.name, offset, size) : scratchRef(v.name, offset, size);
}

/** pred and target (f32, read), the loss, and the optional grad and target skeleton (given, the target passes are skipped). */
function clDiceTensors(elements: number): TensorSpec[] {
  const volume = (name: TensorName, access: 'read' | 'write', optional: boolean): TensorSpec => ({
    name,
    bytes: elements * 4,
    windowed: true,
    access,
    optional,
    ...(access === 'read' ? { host: { type: 'f32', elements } } : {}),
  });
  return [
    volume('pred', 'read', false),
    volume('target', 'read', false),
    { name: 'loss', bytes: 4, windowed: false, access: 'write', optional: false },
    volume('grad', 'write', true),
    volume('targetSkeleton', 'read', true),
  ];
}
