import { MIN_BINDING_BYTES } from '../core/limits.js';
import { packPerWindow, packUniform, type UniformValue } from '../kernels/uniforms.js';
import type { NormalizedClDiceOptions } from '../spec/cldice.js';
import { elementwiseGrid, rangeWindows, type BindingWindow } from './grids.js';
import { tileGrid, tileParamsFields, type TileGrid } from './cldice-tiles.js';
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

// clDice's spec -> program mapping (MONAI's SoftclDiceLoss / SoftDiceclDiceLoss). Per level k of
// the soft skeletons, one stencil pass (cldice_level.wgsl: erode, dilate and the skeleton update
// fused on tiles), K + 1 for the target (group 'target-skeleton', skipped when the caller gives
// targetSkeleton) and K + 1 for pred; the foreground sums per workgroup with the input faults
// (cldice_sums.wgsl); one finalize; and, with a gradient, one pass per level from K + 1 down to
// 0 (cldice_level_backward.wgsl: the skeleton recurrence and both pooling gathers fused), routing
// gradients with torch's tie rules. Every pass runs in binding windows of whole volumes, scratch
// included; no atomics on values.

/**
 * The granule of the sums grid and of every binding window: a (sample, class) volume
 * channels-first, a sample channels-last (its classes interleave). A stencil never reads
 * across one.
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

/** How the sums pass's elementwise grid lies over the tensors. */
export interface SumsGrid {
  readonly classes: number;
  /** Element offset between classes: an element's class is (index / channelStride) % classes. */
  readonly channelStride: number;
  /**
   * Elements of a slab: a run of whole volumes (samples channels-last), one when it is worth
   * several workgroups, else as many as make one workgroup's work. The last may be shorter.
   */
  readonly slabElements: number;
  readonly chunksPerSlab: number;
  readonly elementsPerWorkgroup: number;
  readonly elements: number;
  /** One fault record and one partial pair each. */
  readonly workgroups: number;
  readonly windows: readonly BindingWindow[];
}

/** The grids of a clDice loss: the sums', and the tiles of the stencil passes (foreground, and every class). */
export interface ClDiceGrids {
  readonly sums: SumsGrid;
  readonly foreground: TileGrid;
  readonly all: TileGrid;
}

/**
 * The sums pass's grid, planned by elements: a workgroup gets about the same work whether the
 * tensor is one large volume or thousands of tiny ones (8192 volumes of 4x4 used to take 8192
 * workgroups of 16 elements each, in every pass). Its chunks, and so the order of the sums,
 * never depend on the binding limit: bitwise the same loss whatever the windows.
 */
export function sumsGrid(o: NormalizedClDiceOptions, profile: GridProfile): SumsGrid {
  const volume = volumeUnit(o);
  const volumes = o.elements / volume;
  // Small volumes run several to a slab: a workgroup's worth (enough for every thread), capped
  // so that a slab fits the smallest window.
  const worth = Math.min(MAX_RUN, profile.workgroupSize * profile.minUnitsPerThread);
  const perSlab = Math.max(1, Math.floor(worth / volume));
  const slab = perSlab * volume;
  const slabs = Math.ceil(volumes / perSlab);
  // Workgroups never straddle two slabs, so a window needs no more than one slab (the stencil
  // passes' tile grids check that a volume fits one).
  const grid = elementwiseGrid(slabs, slab, profile);
  const range = (k: number): [number, number] => {
    const first = Math.floor(k / grid.chunks) * slab;
    return [first, Math.min(first + slab, o.elements)];
  };
  return {
    classes: o.classes,
    channelStride: o.channelsFirst ? o.size[0] * o.size[1] * o.size[2] : 1,
    slabElements: slab,
    chunksPerSlab: grid.chunks,
    elementsPerWorkgroup: grid.unitsPerChunk,
    elements: o.elements,
    workgroups: slabs * grid.chunks,
    windows: rangeWindows(slabs * grid.chunks, range, 4, profile, WINDOW_ALIGN),
  };
}

/** Mirrors `SumsParams` in cldice_sums.wgsl: one block per binding window. */
export function sumsParamsFields(g: SumsGrid, w: BindingWindow): UniformValue[] {
  return [
    ['classes', 'u32', g.classes],
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
export function clDiceFinalizeFields(o: NormalizedClDiceOptions, sums: SumsGrid): UniformValue[] {
  return [
    ['partial_pairs', 'u32', sums.workgroups],
    ['smoothing', 'f32', o.smooth],
    ['alpha', 'f32', o.alpha],
    ['fault_records', 'u32', sums.workgroups],
  ];
}

/** The planned clDice loss: its program, with the grids the passes were cut from. */
export function planClDiceProgram(o: NormalizedClDiceOptions, profile: GridProfile): LossProgram<ClDiceGrids> {
  // The tile grids first: they say when a volume does not fit a binding window.
  const all = tileGrid(o, profile, 0);
  const grids: ClDiceGrids = { foreground: tileGrid(o, profile, 1), all, sums: sumsGrid(o, profile) };
  const K = o.skeletonIterations;
  const bytes = o.elements * 4;
  // The modes every tile kernel takes: soft_erode pools along H, W (2D) or D, H, W.
  const rank = { SPATIAL_DIMS: o.rank };

  /** A pass over every binding window of `grid`; `bind` names each binding's volume or whole scratch. */
  const windowed = (
    name: string,
    kernel: KernelName,
    constants: PipelineConstants,
    group: PassGroup,
    grid: { readonly windows: readonly BindingWindow[] },
    uniforms: { readonly block: string; readonly bytes: ArrayBuffer },
    bind: Record<string, Volume | BindingRef>,
  ): ProgramPass => ({
    ...uniformPass(
      name,
      kernel,
      constants,
      uniforms.bytes,
      grid.windows.map((w, block) => ({
        block,
        window: w,
        workgroups: [w.count, 1, 1] as const,
        bindings: Object.fromEntries(
          Object.entries(bind).map(([binding, v]) => [binding, 'volume' in v ? windowOf(v, w) : v]),
        ),
      })),
      group,
    ),
    uniformBlock: uniforms.block,
  });
  const tileBlock = (grid: TileGrid, block: string) => ({
    block,
    bytes: packPerWindow(grid.windows, (w) => tileParamsFields(o, grid, w)),
  });
  const foregroundTiles = tileBlock(grids.foreground, 'foreground tiles');
  const allTiles = tileBlock(grids.all, 'all tiles');

  /** soft_skel(source) into `out` (level K), one pass a level, keeping every level for the backward. */
  const skeletonPasses = (who: string, group: PassGroup, source: Volume, out: Volume): ProgramPass[] =>
    Array.from({ length: K + 1 }, (_, k) =>
      windowed(
        `${who} level ${k}`,
        'cldice_level',
        { ...rank, FIRST_LEVEL: +(k === 0) },
        group,
        grids.foreground,
        foregroundTiles,
        {
          level: k === 0 ? source : scratchVolume(`eroded ${k - 1}`),
          // Level 0 reads no previous skeleton: anything readable is bound.
          previous: k === 0 ? source : scratchVolume(`skeleton ${k - 1}`),
          eroded: scratchVolume(`eroded ${k}`),
          delta: scratchVolume(`delta ${k}`),
          skeleton: k === K ? out : scratchVolume(`skeleton ${k}`),
        },
      ),
    );

  const pred = tensorVolume('pred');
  const target = tensorVolume('target');
  const targetSkeleton = tensorVolume('targetSkeleton');
  const coefficients = scratchRef('coefficients');
  // x_j: pred, then the eroded levels.
  const x = (j: number) => (j === 0 ? pred : scratchVolume(`eroded ${j - 1}`));
  const gradLevel = (j: number) => scratchVolume(`grad level ${j % 2}`);
  const g = (j: number) => scratchVolume(`g ${j % 2}`);
  /** Level j of the backward (K + 1 down to 0); bindings a mode does not read get a scratch volume the pass does not write. */
  const backwardPass = (j: number): ProgramPass => {
    const [top, final] = [j === K + 1, j === 0];
    const unused = scratchVolume(`delta ${Math.min(j, K)}`);
    return windowed(
      `backward level ${j}`,
      'cldice_level_backward',
      { ...rank, TOP: +top, FINAL: +final, LOWER_FIRST: +(j === 1) },
      'backward',
      final ? grids.all : grids.foreground,
      final ? allTiles : foregroundTiles,
      {
        coefficients,
        target_values: target,
        target_skeleton: final ? targetSkeleton : unused,
        level: x(j),
        grad_next: top ? unused : gradLevel(j + 1),
        g_in: top ? unused : g(j),
        delta_upper: top ? unused : scratchVolume(`delta ${j}`),
        skeleton_upper: top || final ? unused : scratchVolume(`skeleton ${j - 1}`),
        delta_lower: final ? unused : scratchVolume(`delta ${j - 1}`),
        skeleton_lower: final || j === 1 ? unused : scratchVolume(`skeleton ${j - 2}`),
        grad_level: final ? tensorVolume('grad') : gradLevel(j),
        // TOP hands down g_K, a middle level g_{j-1}; FINAL writes none (g 1 is not read there).
        g_out: final ? g(1) : g(j - 1),
      },
    );
  };

  const volumes = [
    ...Array.from({ length: K + 1 }, (_, k) => `eroded ${k}`),
    ...Array.from({ length: K + 1 }, (_, k) => `delta ${k}`),
    ...Array.from({ length: K }, (_, k) => `skeleton ${k}`),
    'pred skeleton',
    'targetSkeleton',
    'grad level 0',
    'grad level 1',
    'g 0',
    'g 1',
  ];
  const sumsBlock = { block: 'sums', bytes: packPerWindow(grids.sums.windows, (w) => sumsParamsFields(grids.sums, w)) };
  return {
    label: o.label,
    dims: o.dims,
    grids,
    tensors: clDiceTensors(o.elements),
    scratch: [
      ...volumes.map((name) => ({ name, bytes })),
      { name: 'partials', bytes: grids.sums.workgroups * 32 },
      { name: 'coefficients', bytes: 32 },
      { name: 'stats', bytes: 32, readable: true },
      ...statusScratch(grids.sums.workgroups),
    ],
    passes: [
      ...skeletonPasses('target', 'target-skeleton', target, targetSkeleton),
      ...skeletonPasses('pred', 'forward', pred, scratchVolume('pred skeleton')),
      windowed('sums', 'cldice_sums', {}, 'forward', grids.sums, sumsBlock, {
        pred,
        target_values: target,
        pred_skeleton: scratchVolume('pred skeleton'),
        target_skeleton: targetSkeleton,
        partials: scratchRef('partials'),
        faults: scratchRef('faults'),
      }),
      uniformPass('finalize', 'cldice_finalize', {}, packUniform(clDiceFinalizeFields(o, grids.sums)), [
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
      ...Array.from({ length: K + 2 }, (_, i) => backwardPass(K + 1 - i)),
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
