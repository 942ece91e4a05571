import { STATUS_BYTES } from '../core/limits.js';
import type { DiceShaderName } from '../kernels/sources.js';
import { packPerWindow, packUniform, type UniformValue } from '../kernels/uniforms.js';
import { groupWeights, type NormalizedDiceOptions } from '../spec/seed.js';
import {
  foldLanes,
  columnGrid,
  elementwiseGrid,
  rangeWindows,
  spreadFoldLanes,
  type BindingWindow,
  type ColumnGrid,
} from './grids.js';
import type { DeviceProfile, GridProfile } from './profile.js';
import {
  finalizePass,
  perWindowPass,
  scratchRef,
  tensorRef,
  type LossProgram,
  type ProgramPass,
  type TensorName,
  type TensorSpec,
} from './program.js';

// The seed's losses (engine.dice): a column reduction over channels-last f32 (or f16)
// probabilities, a one-workgroup finalize and an elementwise backward pass.

/** How one forward reduction and one backward pass are laid over the tensor. */
export interface SeedGrids {
  /** Independent runs of elements (samples); each workgroup reads inside one slab. */
  readonly slabs: number;
  readonly slabElements: number;
  /** Dice groups per slab: the class count for per-class Dice, 1 for global Dice. */
  readonly groupsPerSlab: number;
  readonly reduce: ReduceGrid;
  readonly backward: BackwardGrid;
}

export interface ReduceGrid extends ColumnGrid {
  readonly vecWidth: 1 | 4;
  readonly windows: readonly BindingWindow[];
  /** Copies of the class cycle in one row: the finalize pass folds them together. */
  readonly periods: number;
  /** Length of the partial-sum scratch buffer in vec4s. */
  readonly partialVec4s: number;
  /** The chunks of a slab interleave rows (GPUs), rather than each taking a run of rows. */
  readonly interleaved: boolean;
  /** Threads of the finalize that fold one group's partials (see dice_finalize.wgsl). */
  readonly foldLanes: number;
}

/** The backward grid: see the header of shaders/lib/dice_backward.wgsl. */
export interface BackwardGrid {
  readonly vecWidth: 1 | 4;
  readonly windows: readonly BindingWindow[];
  readonly unitsPerSlab: number;
  readonly unitsPerChunk: number;
  /** Chunks per slab. */
  readonly chunks: number;
  /** Workgroups that share one chunk in a grid-stride loop (1: each walks its chunk alone). */
  readonly team: number;
}

export function seedGrids(
  slabs: number,
  slabElements: number,
  groupsPerSlab: number,
  profile: GridProfile,
  predType: 'f32' | 'f16' = 'f32',
): SeedGrids {
  // Window starts must be 256-byte offsets in every bound tensor: 64 f32s, or 128 f16s.
  const align = predType === 'f16' ? 128 : 64;
  return {
    slabs,
    slabElements,
    groupsPerSlab,
    reduce: reduceGrid(slabs, slabElements, groupsPerSlab, profile, align),
    backward: backwardGrid(slabs, slabElements, groupsPerSlab, profile, align),
  };
}

function reduceGrid(
  slabs: number,
  slabElements: number,
  groupsPerSlab: number,
  profile: GridProfile,
  align: number,
): ReduceGrid {
  // A row of lcm(groupsPerSlab, 4) elements keeps every vec4 column on fixed classes.
  const periods = 4 / gcd(groupsPerSlab, 4);
  const rowWidth = periods * groupsPerSlab;
  const vectorised = slabElements % rowWidth === 0;
  const vecWidth = vectorised ? 4 : 1;
  const cols = vectorised ? rowWidth / 4 : groupsPerSlab;
  const rows = slabElements / (vectorised ? rowWidth : groupsPerSlab);

  // On GPUs the chunks of a slab interleave (see lib/dice_reduce.wgsl) where the whole slab fits
  // in one binding window; otherwise a chunk is a run of rows in half a window, so every window
  // holds at least one.
  const interleaved = profile.interleave === true && (slabElements + align) * 4 <= profile.maxBindingBytes;
  const rowElements = slabElements / rows;
  const cap = interleaved ? Infinity : Math.floor(profile.maxBindingBytes / 2 / (rowElements * 4));
  const grid = columnGrid(slabs, rows, cols, profile, cap);
  return {
    vecWidth,
    ...grid,
    interleaved,
    windows: slabWindows(
      slabs,
      grid.chunks,
      slabElements,
      interleaved ? 0 : grid.rowsPerChunk * rowElements,
      profile,
      align,
    ),
    periods: vectorised ? periods : 1,
    partialVec4s: slabs * grid.chunks * cols * 3,
    // Software adapters pay for every barrier of the lanes' tree; a GPU for every partial a lane
    // folds in sequence.
    foldLanes: profile.software
      ? foldLanes(grid.chunks, profile.workgroupSize)
      : spreadFoldLanes(slabs * groupsPerSlab, grid.chunks * (vectorised ? periods : 1), profile.workgroupSize),
  };
}

function backwardGrid(
  slabs: number,
  slabElements: number,
  groupsPerSlab: number,
  profile: GridProfile,
  align: number,
): BackwardGrid {
  const vecWidth = slabElements % 4 === 0 ? 4 : 1;
  const unitsPerSlab = slabElements / vecWidth;
  const maxUnitsPerChunk = Math.floor(profile.maxBindingBytes / 2 / (vecWidth * 4));
  const { chunks, unitsPerChunk, team } = profile.interleave
    ? interleavedGrid(slabs, unitsPerSlab, groupsPerSlab, vecWidth, profile, maxUnitsPerChunk)
    : { ...elementwiseGrid(slabs, unitsPerSlab, profile, maxUnitsPerChunk), team: 1 };
  const chunkRange = (linear: number): [number, number] => {
    const piece = Math.floor(linear / team);
    const slab = Math.floor(piece / chunks);
    const lo = slab * slabElements + (piece % chunks) * unitsPerChunk * vecWidth;
    return [lo, Math.min(lo + unitsPerChunk * vecWidth, (slab + 1) * slabElements)];
  };
  return {
    vecWidth,
    unitsPerSlab,
    unitsPerChunk,
    chunks,
    team,
    windows: rangeWindows(slabs * chunks * team, chunkRange, 4, profile, align),
  };
}

/**
 * A GPU's elementwise grid: chunks only where a slab exceeds half a binding window, and about
 * `elementwiseWorkgroups` workgroups over the tensor, interleaved within each chunk. The team
 * is rounded to a whole number of class cycles per stride (a multiple of classes /
 * gcd(classes, workgroupSize * vecWidth) workgroups), so a thread's coefficients never change,
 * unless a chunk is too small for one cycle's workgroups to get `minUnitsPerThread` units each.
 */
function interleavedGrid(
  slabs: number,
  unitsPerSlab: number,
  groupsPerSlab: number,
  vecWidth: number,
  profile: GridProfile,
  maxUnitsPerChunk: number,
): { chunks: number; unitsPerChunk: number; team: number } {
  const chunks = Math.ceil(unitsPerSlab / maxUnitsPerChunk);
  const unitsPerChunk = Math.ceil(unitsPerSlab / chunks);
  const worthwhile = Math.max(1, Math.floor(unitsPerChunk / (profile.workgroupSize * profile.minUnitsPerThread)));
  const wanted = Math.ceil(profile.elementwiseWorkgroups / (slabs * chunks));
  let team = Math.max(1, Math.min(wanted, worthwhile));
  const cycle = groupsPerSlab / gcd(groupsPerSlab, profile.workgroupSize * vecWidth);
  if (team >= cycle) team -= team % cycle;
  else if (cycle <= worthwhile) team = cycle;
  return { chunks, unitsPerChunk, team };
}

function slabWindows(
  slabs: number,
  chunks: number,
  slabElements: number,
  /** Elements of a chunk's run of rows; 0: the chunks interleave over the whole slab. */
  chunkElements: number,
  profile: GridProfile,
  /** Window starts are multiples of this many elements (256-byte binding offsets). */
  align: number,
): BindingWindow[] {
  const range = (linear: number): [number, number] => {
    const slab = Math.floor(linear / chunks);
    if (chunkElements === 0) return [slab * slabElements, (slab + 1) * slabElements];
    const lo = slab * slabElements + (linear % chunks) * chunkElements;
    return [lo, Math.min(lo + chunkElements, (slab + 1) * slabElements)];
  };
  return rangeWindows(slabs * chunks, range, 4, profile, align);
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * The reduce kernel for the classic losses' grids. `subgroupSize` is the device's smallest subgroup when the
 * subgroup variant may be used: it needs vec4 rows whose columns per workgroup are a power
 * of two that fits in one subgroup.
 */
export function reduceShaderFor(grids: SeedGrids, predType: 'f32' | 'f16', subgroupSize?: number): DiceShaderName {
  const { vecWidth, colsPerGroup } = grids.reduce;
  const subgroups =
    vecWidth === 4 &&
    subgroupSize !== undefined &&
    (colsPerGroup & (colsPerGroup - 1)) === 0 &&
    colsPerGroup <= subgroupSize;
  const base = vecWidth === 4 ? (subgroups ? 'dice_reduce_vec4_subgroups' : 'dice_reduce_vec4') : 'dice_reduce_scalar';
  return predType === 'f16' ? `${base}_f16` : base;
}

export function backwardShaderFor(grids: SeedGrids): DiceShaderName {
  return grids.backward.vecWidth === 4 ? 'dice_backward_vec4' : 'dice_backward_scalar';
}

/** Workgroup fault records the reduce pass writes: one per (slab, chunk, column block). */
export function reduceFaultRecords(grids: SeedGrids): number {
  return grids.slabs * grids.reduce.chunks * grids.reduce.colBlocks;
}

/** Mirrors `ReduceParams` in lib/dice_reduce.wgsl, one block per window. */
export function reduceParamsFields(grids: SeedGrids, w: BindingWindow): UniformValue[] {
  const r = grids.reduce;
  return [
    ['rows', 'u32', r.rows],
    ['cols', 'u32', r.cols],
    ['cols_per_group', 'u32', r.colsPerGroup],
    ['lanes', 'u32', r.lanes],
    ['rows_per_chunk', 'u32', r.interleaved ? r.rows : r.rowsPerChunk],
    ['chunks', 'u32', r.chunks],
    ['chunk_offset', 'u32', r.interleaved ? r.lanes : r.rowsPerChunk],
    ['row_step', 'u32', r.interleaved ? r.chunks * r.lanes : r.lanes],
    ['tree_start', 'u32', r.treeStart],
    ['linear_base', 'u32', w.linearBase],
    ['unit_base', 'u32', w.elementBase / r.vecWidth],
  ];
}

export function packReduceParams(grids: SeedGrids): ArrayBuffer {
  return packPerWindow(grids.reduce.windows, (w) => reduceParamsFields(grids, w));
}

/** Mirrors `FinalizeParams` in dice_finalize.wgsl. */
export function seedFinalizeFields(
  grids: SeedGrids,
  smoothNumerator: number,
  smoothDenominator: number,
): UniformValue[] {
  return [
    ['groups', 'u32', grids.slabs * grids.groupsPerSlab],
    ['classes', 'u32', grids.groupsPerSlab],
    ['chunks', 'u32', grids.reduce.chunks],
    ['cols', 'u32', grids.reduce.cols],
    ['vec_width', 'u32', grids.reduce.vecWidth],
    ['periods', 'u32', grids.reduce.periods],
    ['smooth_nr', 'f32', smoothNumerator],
    ['smooth_dr', 'f32', smoothDenominator],
    ['fault_records', 'u32', reduceFaultRecords(grids)],
    ['fold_lanes', 'u32', grids.reduce.foldLanes],
  ];
}

export function packSeedFinalizeParams(
  grids: SeedGrids,
  smoothNumerator: number,
  smoothDenominator: number,
): ArrayBuffer {
  return packUniform(seedFinalizeFields(grids, smoothNumerator, smoothDenominator));
}

/** Mirrors `BackwardParams` in lib/dice_backward.wgsl, one block per window. */
export function backwardParamsFields(grids: SeedGrids, w: BindingWindow): UniformValue[] {
  const b = grids.backward;
  return [
    ['units_per_slab', 'u32', b.unitsPerSlab],
    ['classes', 'u32', grids.groupsPerSlab],
    ['units_per_chunk', 'u32', b.unitsPerChunk],
    ['chunks', 'u32', b.chunks],
    ['team', 'u32', b.team],
    ['linear_base', 'u32', w.linearBase],
    ['unit_base', 'u32', w.elementBase / b.vecWidth],
  ];
}

export function packBackwardParams(grids: SeedGrids): ArrayBuffer {
  return packPerWindow(grids.backward.windows, (w) => backwardParamsFields(grids, w));
}

export function planSeedProgram(o: NormalizedDiceOptions, profile: DeviceProfile): LossProgram<SeedGrids> {
  const { batch, spatial, classes, elements } = o.shape;
  const grids = seedGrids(batch, spatial * classes, o.reduce === 'global' ? 1 : classes, profile, o.predType);
  const groups = batch * grids.groupsPerSlab;
  const predBytesPerElement = o.predType === 'f16' ? 2 : 4;
  const words = (bytes: number) => Math.ceil(bytes / 4) * 4;
  // Binding sizes are whole words: an f16 window of odd length reads one element of slack,
  // which the binding of the whole tensor already holds.
  const window = (name: TensorName, w: BindingWindow, elementBytes = 4) =>
    tensorRef(name, w.elementBase * elementBytes, words(w.elementCount * elementBytes));
  const tensors: TensorSpec[] = [
    {
      name: 'pred',
      bytes: words(elements * predBytesPerElement),
      windowed: true,
      access: 'read',
      optional: false,
      host: { type: o.predType === 'f16' ? 'f16-bits' : 'f32', elements },
    },
    {
      name: 'target',
      bytes: elements * 4,
      windowed: true,
      access: 'read',
      optional: false,
      host: { type: 'f32', elements },
    },
    { name: 'loss', bytes: 4, windowed: false, access: 'write', optional: false },
    { name: 'grad', bytes: elements * 4, windowed: true, access: 'write', optional: true },
    { name: 'stats', bytes: groups * 16, windowed: false, access: 'write', optional: true },
  ];
  const passes: ProgramPass[] = [
    perWindowPass(
      'reduce',
      reduceShaderFor(grids, o.predType, profile.subgroupSize),
      {},
      packReduceParams(grids),
      grids.reduce.windows,
      (w) => ({
        pred: window('pred', w, predBytesPerElement),
        truth: window('target', w),
        partials: scratchRef('partials'),
        faults: scratchRef('faults'),
      }),
      { rows: grids.reduce.colBlocks },
    ),
    finalizePass('dice_finalize', {}, packSeedFinalizeParams(grids, o.smoothNumerator, o.smoothDenominator), {
      partials: scratchRef('partials'),
      class_weights: scratchRef('group weights'),
      stats: tensorRef('stats', 0, groups * 16),
      coefs: scratchRef('coefs'),
      loss: tensorRef('loss', 0, 4),
    }),
    perWindowPass(
      'backward',
      backwardShaderFor(grids),
      {},
      packBackwardParams(grids),
      grids.backward.windows,
      (w) => ({ truth: window('target', w), coefs: scratchRef('coefs'), grad: window('grad', w) }),
      { group: 'backward' },
    ),
  ];
  return {
    label: o.label,
    dims: o.shape.dims,
    grids,
    tensors,
    scratch: [
      { name: 'partials', bytes: grids.reduce.partialVec4s * 16 },
      { name: 'group weights', bytes: 0, contents: groupWeights(o) },
      { name: 'coefs', bytes: groups * 16 },
      { name: 'faults', bytes: reduceFaultRecords(grids) * 32 },
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
