// The grid planning (src/program/grids.ts, the seed's grids in src/program/seed.ts, the device
// profile in src/program/profile.ts) as pure data: column and elementwise grids, binding windows, and the
// 2^16-per-lane accumulation cap, checked as properties over seeded random shapes and profiles.
import { describe, expect, it } from 'vitest';
import { WgslDiceError } from '../../src/core/errors.js';
import {
  type BindingWindow,
  MAX_SEQUENTIAL_ADDS,
  columnGrid,
  elementwiseGrid,
  rangeWindows,
} from '../../src/program/grids.js';
import { type GridProfile, gridProfileFor } from '../../src/program/profile.js';
import { seedGrids } from '../../src/program/seed.js';
import { mulberry32 } from '../../src/reference/random.js';

/** A hardware-like profile; tests shrink maxBindingBytes to force many windows. */
function profile(overrides: Partial<GridProfile> = {}): GridProfile {
  return {
    workgroupSize: 256,
    maxBindingBytes: 2 ** 27,
    targetWorkgroups: 1024,
    minRowsPerLane: 4,
    elementwiseWorkgroups: 4096,
    minUnitsPerThread: 4,
    maxWorkgroupsPerDimension: 65535,
    ...overrides,
  };
}

const random = mulberry32(0x9e3779b9);
const randomInt = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));

/**
 * Windows run every workgroup 0 .. total - 1 once, in order; start at multiples of `align`;
 * stay within the binding limit; hold at most `maxCount` workgroups; and contain the unit range
 * of every workgroup they run.
 */
function expectValidWindows(
  windows: readonly BindingWindow[],
  total: number,
  range: (linear: number) => readonly [number, number],
  maxUnits: number,
  align: number,
  maxCount: number,
): void {
  const problems: string[] = [];
  let next = 0;
  windows.forEach((w, i) => {
    const at = `window ${i} ${JSON.stringify(w)}`;
    if (w.linearBase !== next) problems.push(`${at} starts at workgroup ${w.linearBase}, not ${next}`);
    if (w.count < 1 || w.count > maxCount) problems.push(`${at} runs ${w.count} workgroups (1 .. ${maxCount})`);
    if (w.elementBase % align !== 0) problems.push(`${at} starts off the ${align}-unit alignment`);
    if (w.elementCount > maxUnits) problems.push(`${at} spans more than ${maxUnits} units`);
    for (let k = w.linearBase; k < w.linearBase + w.count; k++) {
      const [lo, hi] = range(k);
      if (lo < w.elementBase || hi > w.elementBase + w.elementCount)
        problems.push(`${at} misses workgroup ${k}'s units [${lo}, ${hi})`);
    }
    next += w.count;
  });
  if (next !== total) problems.push(`the windows run ${next} workgroups, not ${total}`);
  expect(problems).toEqual([]);
}

describe('rangeWindows', () => {
  it('covers every workgroup once, in order, aligned and within the binding limit (random cases)', () => {
    for (let trial = 0; trial < 200; trial++) {
      const total = randomInt(1, 400);
      const width = randomInt(1, 3000);
      const range = (k: number) => [k * width, (k + 1) * width] as const;
      const unitBytes = 4 * randomInt(1, 4);
      const align = [1, 4, 64, 128][randomInt(0, 3)];
      // At least one workgroup's range plus the alignment slack fits in every window.
      const maxUnits = randomInt(width + align, width * 40 + align);
      const maxCount = randomInt(1, 300);
      const p = profile({ maxBindingBytes: maxUnits * unitBytes });
      const windows = rangeWindows(total, range, unitBytes, p, align, maxCount);
      expectValidWindows(windows, total, range, maxUnits, align, maxCount);
    }
  });

  it('handles ranges that overlap and skip (slab-major chunks with a short last chunk)', () => {
    const slabElements = 1000;
    const chunkElements = 300;
    const chunks = 4;
    const range = (k: number) => {
      const slab = Math.floor(k / chunks);
      const lo = slab * slabElements + (k % chunks) * chunkElements;
      return [lo, Math.min(lo + chunkElements, (slab + 1) * slabElements)] as const;
    };
    const windows = rangeWindows(3 * chunks, range, 4, profile({ maxBindingBytes: 4 * 700 }), 64);
    expectValidWindows(windows, 3 * chunks, range, 700, 64, 65535);
    expect(windows.length).toBeGreaterThan(1);
  });

  it('puts everything in one window when it fits', () => {
    const windows = rangeWindows(10, (k) => [k * 8, k * 8 + 8], 4, profile(), 64);
    expect(windows).toEqual([{ linearBase: 0, count: 10, elementBase: 0, elementCount: 80 }]);
  });

  it('throws BINDING_TOO_LARGE when one workgroup alone exceeds the binding limit', () => {
    const call = () => rangeWindows(2, (k) => [k * 100, k * 100 + 100], 4, profile({ maxBindingBytes: 396 }), 1);
    expect(call).toThrow(WgslDiceError);
    expect(call).toThrow(expect.objectContaining({ code: 'BINDING_TOO_LARGE' }));
  });
});

describe('columnGrid', () => {
  it('tiles rows into chunks, columns into workgroups, and keeps each lane within 2^16 sequential adds (random cases)', () => {
    for (let trial = 0; trial < 300; trial++) {
      const p = profile({
        workgroupSize: [64, 128, 256][randomInt(0, 2)],
        targetWorkgroups: randomInt(1, 2048),
        minRowsPerLane: randomInt(1, 64),
      });
      const slabs = randomInt(1, 8);
      const rows = randomInt(1, 2 ** randomInt(0, 26));
      const cols = randomInt(1, 600);
      const maxRowsPerChunk = random() < 0.5 ? Infinity : randomInt(1, 5000);
      const g = columnGrid(slabs, rows, cols, p, maxRowsPerChunk);
      expect(g.colsPerGroup * g.lanes).toBeLessThanOrEqual(p.workgroupSize);
      expect(g.colBlocks * g.colsPerGroup).toBeGreaterThanOrEqual(cols);
      expect((g.colBlocks - 1) * g.colsPerGroup).toBeLessThan(cols);
      expect(g.chunks * g.rowsPerChunk).toBeGreaterThanOrEqual(rows);
      expect((g.chunks - 1) * g.rowsPerChunk).toBeLessThan(rows);
      expect(g.rowsPerChunk).toBeLessThanOrEqual(maxRowsPerChunk);
      expect(Math.ceil(g.rowsPerChunk / g.lanes)).toBeLessThanOrEqual(MAX_SEQUENTIAL_ADDS);
      // The tree folds lanes pairwise from the largest power of two below the lane count.
      if (g.lanes === 1) expect(g.treeStart).toBe(0);
      else {
        expect(Math.log2(g.treeStart) % 1).toBe(0);
        expect(g.treeStart).toBeLessThan(g.lanes);
        expect(2 * g.treeStart).toBeGreaterThanOrEqual(g.lanes);
      }
    }
  });

  it('cuts a long column into more chunks than the target asks for once a lane would add more than 2^16 values', () => {
    const p = profile({ targetWorkgroups: 1, minRowsPerLane: 1 });
    const g = columnGrid(1, 2 ** 30, 1, p);
    expect(g.lanes).toBe(256);
    expect(g.rowsPerChunk).toBe(256 * MAX_SEQUENTIAL_ADDS);
    expect(g.chunks).toBe(2 ** 30 / (256 * MAX_SEQUENTIAL_ADDS));
  });

  it('gives small inputs one chunk', () => {
    const g = columnGrid(2, 10, 4, profile());
    expect(g.chunks).toBe(1);
    expect(g.rowsPerChunk).toBe(10);
  });
});

describe('elementwiseGrid', () => {
  it('tiles every unit into chunks within the cap (random cases)', () => {
    for (let trial = 0; trial < 300; trial++) {
      const p = profile({ elementwiseWorkgroups: randomInt(1, 8192), workgroupSize: [64, 256][randomInt(0, 1)] });
      const slabs = randomInt(1, 16);
      const units = randomInt(1, 2 ** randomInt(0, 28));
      const cap = random() < 0.5 ? Infinity : randomInt(1, 100_000);
      const g = elementwiseGrid(slabs, units, p, cap);
      expect(g.unitsPerSlab).toBe(units);
      expect(g.unitsPerChunk).toBeLessThanOrEqual(cap);
      expect(g.chunks * g.unitsPerChunk).toBeGreaterThanOrEqual(units);
      expect((g.chunks - 1) * g.unitsPerChunk).toBeLessThan(units);
    }
  });

  it('spreads a large input over about the target number of workgroups', () => {
    const g = elementwiseGrid(2, 2 ** 24, profile({ elementwiseWorkgroups: 512 }));
    expect(2 * g.chunks).toBe(512);
  });
});

describe('seedGrids', () => {
  it('windows both passes over the whole tensor, 256-byte aligned, within a small binding limit', () => {
    for (const predType of ['f32', 'f16'] as const) {
      const align = predType === 'f16' ? 128 : 64;
      const maxBindingBytes = 1 << 16;
      const p = profile({ maxBindingBytes, targetWorkgroups: 64 });
      const slabs = 3;
      const slabElements = 40_000;
      const plan = seedGrids(slabs, slabElements, 5, p, predType);
      const { reduce, backward } = plan;

      const rowElements = slabElements / reduce.rows;
      const reduceRange = (k: number) => {
        const slab = Math.floor(k / reduce.chunks);
        const lo = slab * slabElements + (k % reduce.chunks) * reduce.rowsPerChunk * rowElements;
        return [lo, Math.min(lo + reduce.rowsPerChunk * rowElements, (slab + 1) * slabElements)] as const;
      };
      expectValidWindows(
        reduce.windows,
        slabs * reduce.chunks,
        reduceRange,
        maxBindingBytes / 4,
        align,
        p.maxWorkgroupsPerDimension,
      );
      expect(reduce.windows.length).toBeGreaterThan(1);

      const chunkElements = backward.unitsPerChunk * backward.vecWidth;
      const backwardRange = (k: number) => {
        const slab = Math.floor(k / backward.chunks);
        const lo = slab * slabElements + (k % backward.chunks) * chunkElements;
        return [lo, Math.min(lo + chunkElements, (slab + 1) * slabElements)] as const;
      };
      expectValidWindows(
        backward.windows,
        slabs * backward.chunks,
        backwardRange,
        maxBindingBytes / 4,
        align,
        p.maxWorkgroupsPerDimension,
      );
    }
  });

  /**
   * The backward kernels' indexing (units_of in shaders/lib/dice_backward.wgsl and the loops of
   * dice_backward_vec4.wgsl), run over every window, workgroup and thread: each unit of the
   * tensor must be written exactly once, inside its dispatch's window, and (where the kernel
   * keeps a thread's coefficients) always with the same classes.
   */
  function writtenUnits(
    plan: ReturnType<typeof seedGrids>,
    workgroupSize: number,
    problems: string[],
  ): Map<number, number> {
    const b = plan.backward;
    const written = new Map<number, number>();
    for (const w of b.windows) {
      const unitBase = w.elementBase / b.vecWidth;
      for (let x = 0; x < w.count; x++) {
        const linear = w.linearBase + x;
        const piece = Math.floor(linear / b.team);
        const member = linear % b.team;
        const slab = Math.floor(piece / b.chunks);
        const begin = (piece % b.chunks) * b.unitsPerChunk;
        const end = Math.min(begin + b.unitsPerChunk, b.unitsPerSlab);
        const stride = b.team * workgroupSize;
        const shift = (stride * b.vecWidth) % plan.groupsPerSlab;
        for (let tid = 0; tid < workgroupSize; tid++) {
          const first = begin + member * workgroupSize + tid;
          for (let u = first; u < end; u += stride) {
            const unit = slab * b.unitsPerSlab + u;
            if (unit < unitBase || unit >= unitBase + w.elementCount / b.vecWidth)
              problems.push(`unit ${unit} off its window`);
            if (shift === 0 && (u * b.vecWidth) % plan.groupsPerSlab !== (first * b.vecWidth) % plan.groupsPerSlab)
              problems.push(`unit ${unit}: the classes moved`);
            written.set(unit, (written.get(unit) ?? 0) + 1);
          }
        }
      }
    }
    return written;
  }

  it('backward: every unit written once, inside its window, interleaved or in chunks (random cases)', () => {
    for (let trial = 0; trial < 40; trial++) {
      const workgroupSize = [64, 128, 256][randomInt(0, 2)];
      const interleave = random() < 0.7;
      const p = profile({
        workgroupSize,
        interleave,
        elementwiseWorkgroups: randomInt(1, 48),
        minUnitsPerThread: randomInt(1, 4),
        maxBindingBytes: [1 << 14, 1 << 16, 1 << 20][randomInt(0, 2)],
      });
      const groups = [1, 2, 3, 4, 5, 8, 16, 24][randomInt(0, 7)];
      const slabs = randomInt(1, 4);
      const slabElements = groups * randomInt(1, 1500) * (random() < 0.8 ? 4 : 1);
      const plan = seedGrids(slabs, slabElements, groups, p);
      const problems: string[] = [];
      const written = writtenUnits(plan, workgroupSize, problems);
      expect(problems.slice(0, 3), `trial ${trial}`).toEqual([]);
      const units = (slabs * slabElements) / plan.backward.vecWidth;
      expect(written.size, `trial ${trial}`).toBe(units);
      expect([...written.values()].every((n) => n === 1)).toBe(true);
      if (!interleave) expect(plan.backward.team).toBe(1);
    }
  });

  it('reduce: every row of every column read once, inside its window, interleaved or in runs (random cases)', () => {
    for (let trial = 0; trial < 40; trial++) {
      const workgroupSize = [64, 128, 256][randomInt(0, 2)];
      const p = profile({
        workgroupSize,
        interleave: random() < 0.7,
        targetWorkgroups: randomInt(1, 64),
        minRowsPerLane: randomInt(1, 4),
        maxBindingBytes: [1 << 14, 1 << 16, 1 << 20][randomInt(0, 2)],
      });
      const groups = [1, 2, 3, 4, 5, 8, 16][randomInt(0, 6)];
      const slabs = randomInt(1, 3);
      const slabElements = groups * randomInt(1, 1500) * (random() < 0.8 ? 4 : 1);
      const plan = seedGrids(slabs, slabElements, groups, p);
      const r = plan.reduce;
      const span = r.interleaved ? r.rows : r.rowsPerChunk;
      const offset = r.interleaved ? r.lanes : r.rowsPerChunk;
      const step = r.interleaved ? r.chunks * r.lanes : r.lanes;
      const rowElements = slabElements / r.rows;
      const read = new Map<number, number>();
      const problems: string[] = [];
      for (const w of r.windows) {
        for (let x = 0; x < w.count; x++) {
          const linear = w.linearBase + x;
          const slab = Math.floor(linear / r.chunks);
          const begin = (linear % r.chunks) * offset;
          const end = Math.min(begin + span, r.rows);
          for (let lane = 0; lane < r.lanes; lane++) {
            for (let row = begin + lane; row < end; row += step) {
              const at = slab * slabElements + row * rowElements;
              if (at < w.elementBase || at + rowElements > w.elementBase + w.elementCount)
                problems.push(`row ${row} of slab ${slab} off its window`);
              read.set(slab * r.rows + row, (read.get(slab * r.rows + row) ?? 0) + 1);
            }
          }
        }
      }
      expect(problems.slice(0, 3), `trial ${trial}`).toEqual([]);
      expect(read.size).toBe(slabs * r.rows);
      expect([...read.values()].every((n) => n === 1)).toBe(true);
      expect(Math.ceil(r.rows / (r.chunks * r.lanes))).toBeLessThanOrEqual(MAX_SEQUENTIAL_ADDS);
    }
  });

  it('backward on a GPU: one front over each slab, the stride a whole number of class cycles', () => {
    const p = profile({ interleave: true });
    // 8 x 1024 x 1024 x 16 (134M elements), per-class Dice: one chunk per slab, 512 workgroups on it.
    const big = seedGrids(8, 1024 * 1024 * 16, 16, profile({ interleave: true, maxBindingBytes: 2 ** 31 - 4 }));
    expect(big.backward.chunks).toBe(1);
    expect(big.backward.team).toBe(512);
    // Three classes: the stride of team * 256 vec4s is a multiple of 3 elements only for teams of 3k.
    const three = seedGrids(2, 3 * 4 * 100_000, 3, p);
    expect(three.backward.team % 3).toBe(0);
    expect((three.backward.team * 256 * 4) % 3).toBe(0);
  });

  it('reads vec4 rows of lcm(groups, 4) elements when the slab divides into them, scalars otherwise', () => {
    const vec = seedGrids(2, 6 * 100, 6, profile());
    expect(vec.reduce.vecWidth).toBe(4);
    expect(vec.reduce.periods).toBe(2); // lcm(6, 4) = 12 elements: two class cycles per row
    expect(vec.reduce.cols).toBe(3);
    expect(vec.reduce.rows).toBe(50);
    expect(vec.reduce.partialVec4s).toBe(2 * vec.reduce.chunks * vec.reduce.cols * 3);

    const scalar = seedGrids(2, 3 * 7, 3, profile());
    expect(scalar.reduce.vecWidth).toBe(1);
    expect(scalar.reduce.periods).toBe(1);
    expect(scalar.reduce.cols).toBe(3);
    expect(scalar.backward.vecWidth).toBe(1);
  });
});

describe('gridProfileFor', () => {
  const limits = {
    maxComputeInvocationsPerWorkgroup: 1024,
    maxStorageBufferBindingSize: 2 ** 30,
    maxComputeWorkgroupsPerDimension: 65535,
  };
  const device = (architecture: string, description: string) =>
    ({ limits, adapterInfo: { architecture, description, device: '', vendor: '' } }) as unknown as GPUDevice;

  it('gives software adapters a few fat workgroups and hardware many', () => {
    const software = gridProfileFor(device('', 'llvmpipe (LLVM 15.0.6, 256 bits)'));
    const hardware = gridProfileFor(device('ampere', 'NVIDIA H100'));
    expect(software.targetWorkgroups).toBeLessThan(hardware.targetWorkgroups);
    expect(software.minRowsPerLane).toBeGreaterThan(hardware.minRowsPerLane);
    expect(hardware.workgroupSize).toBe(256);
    expect(hardware.maxBindingBytes).toBe(2 ** 30);
  });

  it('plans for the device class asked for, whatever the adapter is', () => {
    const lavapipe = device('', 'llvmpipe (LLVM 15.0.6, 256 bits)');
    const asGpu = gridProfileFor(lavapipe, { deviceClass: 'gpu' });
    expect(asGpu.software).toBe(false);
    expect(asGpu).toEqual(gridProfileFor(device('ampere', 'NVIDIA H100')));
    const asSoftware = gridProfileFor(device('ampere', 'NVIDIA H100'), { deviceClass: 'software' });
    expect(asSoftware).toEqual(gridProfileFor(lavapipe));
  });

  it('takes the overrides tests use', () => {
    const p = gridProfileFor(device('ampere', ''), { workgroupSize: 64, targetWorkgroups: 3, maxBindingBytes: 4096 });
    expect([p.workgroupSize, p.targetWorkgroups, p.maxBindingBytes]).toEqual([64, 3, 4096]);
  });
});
