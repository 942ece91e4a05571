import { WgslDiceError } from '../core/errors.js';

/**
 * What the planner needs to know about the adapter. Software rasterisers (lavapipe,
 * SwiftShader) pay for every workgroup with barriers, so they get a handful of fat workgroups;
 * real GPUs get enough to fill every core.
 */
export interface GridProfile {
  readonly workgroupSize: number;
  /** Largest storage binding a pass may use: the device limit, or a smaller test value. */
  readonly maxBindingBytes: number;
  readonly targetWorkgroups: number;
  /** A reduction lane should read at least this many rows before another workgroup is worth it. */
  readonly minRowsPerLane: number;
  /**
   * Workgroups an elementwise (barrier-free) pass aims for: more than a reduction. On software
   * adapters each workgroup still costs its start-up (every thread's loads of the per-sample
   * coefficients run as per-lane loops there): at 2x512x512x8 on lavapipe, 512 workgroups took
   * about 3 ms more process CPU than 16-64 for the seed and softmax backward passes, so 32
   * (four per lavapipe thread on an 8-core machine) rather than hundreds.
   */
  readonly elementwiseWorkgroups: number;
  /** An elementwise thread should handle at least this many vec4/scalar units. */
  readonly minUnitsPerThread: number;
  readonly maxWorkgroupsPerDimension: number;
  /** A software rasteriser (lavapipe, SwiftShader): its shader compiler is slow, its barriers dear. */
  readonly software?: boolean;
}

/**
 * Which plans the engine makes: for a GPU (many workgroups, unrolled class loops) or for a
 * software adapter (few fat workgroups, fast compiles). Both run correctly anywhere.
 */
export type DeviceClass = 'gpu' | 'software';

export function gridProfileFor(
  device: GPUDevice,
  overrides: { workgroupSize?: number; targetWorkgroups?: number; maxBindingBytes?: number; deviceClass?: DeviceClass } = {},
): GridProfile {
  const software = overrides.deviceClass === undefined ? isSoftwareDevice(device) : overrides.deviceClass === 'software';
  const workgroupSize =
    overrides.workgroupSize ?? Math.min(256, device.limits.maxComputeInvocationsPerWorkgroup);
  return {
    workgroupSize,
    maxBindingBytes: overrides.maxBindingBytes ?? device.limits.maxStorageBufferBindingSize,
    targetWorkgroups: overrides.targetWorkgroups ?? (software ? 8 : 1024),
    minRowsPerLane: software ? 64 : 4,
    elementwiseWorkgroups: software ? 32 : 4096,
    minUnitsPerThread: 4,
    maxWorkgroupsPerDimension: device.limits.maxComputeWorkgroupsPerDimension,
    software,
  };
}

function isSoftwareDevice(device: GPUDevice): boolean {
  const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  if (!info) return false;
  const text = `${info.architecture} ${info.description} ${info.device} ${info.vendor}`;
  return info.architecture === 'software' || /llvmpipe|lavapipe|swiftshader/i.test(text);
}

/** How one forward reduction and one backward pass are laid over the tensor. */
export interface DicePlan {
  /** Independent runs of elements (samples); each workgroup reads inside one slab. */
  readonly slabs: number;
  readonly slabElements: number;
  /** Dice groups per slab: the class count for per-class Dice, 1 for global Dice. */
  readonly groupsPerSlab: number;
  readonly reduce: ReducePlan;
  readonly backward: BackwardPlan;
}

export interface ReducePlan extends ColumnGrid {
  readonly vecWidth: 1 | 4;
  readonly windows: readonly BindingWindow[];
  /** Copies of the class cycle in one row: the finalize pass folds them together. */
  readonly periods: number;
  /** Length of the partial-sum scratch buffer in vec4s. */
  readonly partialVec4s: number;
}

export interface BackwardPlan {
  readonly vecWidth: 1 | 4;
  readonly windows: readonly BindingWindow[];
  readonly unitsPerSlab: number;
  readonly unitsPerChunk: number;
  readonly chunks: number;
}

export function planDice(
  slabs: number,
  slabElements: number,
  groupsPerSlab: number,
  profile: GridProfile,
  predType: 'f32' | 'f16' = 'f32',
): DicePlan {
  // Window starts must be 256-byte offsets in every bound tensor: 64 f32s, or 128 f16s.
  const align = predType === 'f16' ? 128 : 64;
  return {
    slabs,
    slabElements,
    groupsPerSlab,
    reduce: planReduce(slabs, slabElements, groupsPerSlab, profile, align),
    backward: planBackward(slabs, slabElements, profile, align),
  };
}

function planReduce(
  slabs: number,
  slabElements: number,
  groupsPerSlab: number,
  profile: GridProfile,
  align: number,
): ReducePlan {
  // A row of lcm(groupsPerSlab, 4) elements keeps every vec4 column on fixed classes.
  const periods = 4 / gcd(groupsPerSlab, 4);
  const rowWidth = periods * groupsPerSlab;
  const vectorised = slabElements % rowWidth === 0;
  const vecWidth = vectorised ? 4 : 1;
  const cols = vectorised ? rowWidth / 4 : groupsPerSlab;
  const rows = slabElements / (vectorised ? rowWidth : groupsPerSlab);

  // A chunk must fit in half a binding window, so every window holds at least one.
  const rowBytes = (slabElements / rows) * 4;
  const grid = planColumns(slabs, rows, cols, profile, Math.floor(profile.maxBindingBytes / 2 / rowBytes));
  return {
    vecWidth,
    ...grid,
    windows: planWindows(slabs, grid.chunks, slabElements, grid.rowsPerChunk * (slabElements / rows), profile, align),
    periods: vectorised ? periods : 1,
    partialVec4s: slabs * grid.chunks * cols * 3,
  };
}

function planBackward(slabs: number, slabElements: number, profile: GridProfile, align: number): BackwardPlan {
  const vecWidth = slabElements % 4 === 0 ? 4 : 1;
  const unitsPerSlab = slabElements / vecWidth;
  const grid = planElementwise(slabs, unitsPerSlab, profile, Math.floor(profile.maxBindingBytes / 2 / (vecWidth * 4)));
  return {
    vecWidth,
    ...grid,
    windows: planWindows(slabs, grid.chunks, slabElements, grid.unitsPerChunk * vecWidth, profile, align),
  };
}

/**
 * Threads a one-workgroup finalize gives one group's chunk partials: a power of two, about one
 * per 8 chunks, so a GPU with a thousand chunks folds them in parallel (a thread walking them
 * alone is a chain of dependent loads) while a software adapter with a few chunks spends no
 * barriers on it.
 */
export function foldLanes(chunks: number, workgroupSize: number): number {
  let lanes = 1;
  while (lanes * 2 <= workgroupSize && lanes * 16 <= chunks) lanes *= 2;
  return lanes;
}

/** Longest run of f32 additions one reduction lane makes before the trees take over. */
export const MAX_SEQUENTIAL_ADDS = 2 ** 16;

/** A column-parallel reduction grid: see the header of shaders/dice_reduce_vec4.wgsl. */
export interface ColumnGrid {
  readonly rows: number;
  readonly cols: number;
  readonly colsPerGroup: number;
  readonly colBlocks: number;
  readonly lanes: number;
  readonly treeStart: number;
  readonly rowsPerChunk: number;
  readonly chunks: number;
}

export function planColumns(
  slabs: number,
  rows: number,
  cols: number,
  profile: GridProfile,
  maxRowsPerChunk = Infinity,
): ColumnGrid {
  const colsPerGroup = Math.min(cols, profile.workgroupSize);
  const colBlocks = Math.ceil(cols / colsPerGroup);
  const lanes = Math.floor(profile.workgroupSize / colsPerGroup);
  const treeStart = lanes > 1 ? 2 ** (Math.ceil(Math.log2(lanes)) - 1) : 0;
  const worthwhile = Math.max(1, Math.floor(rows / (lanes * profile.minRowsPerLane)));
  const wanted = Math.ceil(profile.targetWorkgroups / (slabs * colBlocks));
  const maxChunks = Math.min(worthwhile, profile.maxWorkgroupsPerDimension);
  // Each lane adds ceil(rowsPerChunk / lanes) values in sequence: keep that at most 2^16 so
  // an f32 accumulator stays exact for counts and tight for sums (a count stalls at 2^24).
  const cap = Math.min(maxRowsPerChunk, lanes * MAX_SEQUENTIAL_ADDS);
  const rowsPerChunk = Math.max(1, Math.min(cap, Math.ceil(rows / clamp(wanted, 1, maxChunks))));
  return {
    rows,
    cols,
    colsPerGroup,
    colBlocks,
    lanes,
    treeStart,
    rowsPerChunk,
    chunks: Math.ceil(rows / rowsPerChunk),
  };
}

/** An elementwise grid: `slabs` runs of `units` items, each cut into chunks of whole workgroups. */
export function planElementwise(
  slabs: number,
  units: number,
  profile: GridProfile,
  maxUnitsPerChunk = Infinity,
): { unitsPerSlab: number; unitsPerChunk: number; chunks: number } {
  const worthwhile = Math.max(1, Math.floor(units / (profile.workgroupSize * profile.minUnitsPerThread)));
  const wanted = Math.ceil(profile.elementwiseWorkgroups / slabs);
  const unitsPerChunk = Math.max(
    1,
    Math.min(maxUnitsPerChunk, Math.ceil(units / clamp(wanted, 1, Math.min(worthwhile, profile.maxWorkgroupsPerDimension)))),
  );
  return { unitsPerSlab: units, unitsPerChunk, chunks: Math.ceil(units / unitsPerChunk) };
}

/**
 * Binding windows: one dispatch of a pass, covering the workgroups `linearBase` ..
 * `linearBase + count - 1` of its (slab, chunk) grid in slab-major order, with the tensors bound
 * from element `elementBase` for `elementCount` elements. A tensor larger than one storage
 * binding (a 3D volume, say) is cut into several windows; the workgroups, and so the order of
 * every sum, are the same as with one window, so the results are bitwise identical.
 */
export interface BindingWindow {
  readonly linearBase: number;
  readonly count: number;
  readonly elementBase: number;
  readonly elementCount: number;
}

function planWindows(
  slabs: number,
  chunks: number,
  slabElements: number,
  chunkElements: number,
  profile: GridProfile,
  /** Window starts are multiples of this many elements (256-byte binding offsets). */
  align: number,
): BindingWindow[] {
  const range = (linear: number): [number, number] => {
    const slab = Math.floor(linear / chunks);
    const lo = slab * slabElements + (linear % chunks) * chunkElements;
    return [lo, Math.min(lo + chunkElements, (slab + 1) * slabElements)];
  };
  return planRangeWindows(slabs * chunks, range, 4, profile, align);
}

/**
 * Binding windows over `total` workgroups run in order, where workgroup `k` touches the units
 * `range(k)` = [lo, hi) of the windowed tensors (ranges ascending in k), and the widest tensor
 * takes `unitBytes` bytes per unit. Each window starts at a multiple of `align` units, spans at
 * most `profile.maxBindingBytes` of the widest tensor, and holds at most `maxCount` workgroups
 * (one dispatch); `elementBase` / `elementCount` of the result are in units. Throws
 * BINDING_TOO_LARGE when one workgroup's range does not fit.
 */
export function planRangeWindows(
  total: number,
  range: (linear: number) => readonly [number, number],
  unitBytes: number,
  profile: GridProfile,
  align: number,
  maxCount = profile.maxWorkgroupsPerDimension,
): BindingWindow[] {
  const maxElements = Math.floor(profile.maxBindingBytes / unitBytes);
  const windows: BindingWindow[] = [];
  let linear = 0;
  while (linear < total) {
    const base = Math.floor(range(linear)[0] / align) * align;
    let count = 0;
    let end = base;
    while (linear + count < total && count < maxCount) {
      const hi = range(linear + count)[1];
      if (count > 0 && hi - base > maxElements) break;
      end = hi;
      count++;
    }
    if (end - base > maxElements) {
      throw new WgslDiceError(
        'BINDING_TOO_LARGE',
        `one workgroup's range (${(end - base) * unitBytes} bytes) exceeds the ${profile.maxBindingBytes}-byte binding window.`,
      );
    }
    windows.push({ linearBase: linear, count, elementBase: base, elementCount: end - base });
    linear += count;
  }
  return windows;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function clamp(value: number, low: number, high: number): number {
  return Math.max(low, Math.min(high, value));
}
