import { WgslDiceError } from '../core/errors.js';
import type { GridProfile } from './profile.js';

// Grid geometry every loss kind builds on: column-parallel reductions, elementwise grids, and
// binding windows that cut a grid's dispatches where a tensor exceeds one storage binding.

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

/**
 * The GPU's choice of {@link foldLanes}: as many lanes per group as the workgroup holds for all
 * `groups` at once (a power of two, at most one per item), so each lane folds few of a group's
 * `items` partials: a finalize is one workgroup, and every item a lane folds in sequence costs
 * about one memory latency.
 */
export function spreadFoldLanes(groups: number, items: number, workgroupSize: number): number {
  let lanes = 1;
  while (lanes * 2 * groups <= workgroupSize && lanes * 2 <= items) lanes *= 2;
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

export function columnGrid(
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
export function elementwiseGrid(
  slabs: number,
  units: number,
  profile: GridProfile,
  maxUnitsPerChunk = Infinity,
): { unitsPerSlab: number; unitsPerChunk: number; chunks: number } {
  const worthwhile = Math.max(1, Math.floor(units / (profile.workgroupSize * profile.minUnitsPerThread)));
  const wanted = Math.ceil(profile.elementwiseWorkgroups / slabs);
  const unitsPerChunk = Math.max(
    1,
    Math.min(
      maxUnitsPerChunk,
      Math.ceil(units / clamp(wanted, 1, Math.min(worthwhile, profile.maxWorkgroupsPerDimension))),
    ),
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

/**
 * Binding windows over `total` workgroups run in order, where workgroup `k` touches the units
 * `range(k)` = [lo, hi) of the windowed tensors (ranges ascending in k), and the widest tensor
 * takes `unitBytes` bytes per unit. Each window starts at a multiple of `align` units, spans at
 * most `profile.maxBindingBytes` of the widest tensor, and holds at most `maxCount` workgroups
 * (one dispatch); `elementBase` / `elementCount` of the result are in units. Throws
 * BINDING_TOO_LARGE when one workgroup's range does not fit.
 */
export function rangeWindows(
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

function clamp(value: number, low: number, high: number): number {
  return Math.max(low, Math.min(high, value));
}
