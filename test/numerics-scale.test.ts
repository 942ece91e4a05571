// Large sums stay accurate.
//
// How the kernels sum (dice_reduce_*.wgsl, dice_finalize.wgsl): each thread accumulates in f32,
// sequentially, one element per row of its chunk, every `lanes`-th row: ceil(rowsPerChunk /
// lanes) additions per accumulator. A workgroup then folds its lanes in a pairwise tree, and
// the finalize pass adds the chunks' partials (chunks x periods of them) sequentially.
//
// Counting ones in f32 is exact while every partial sum is an integer f32 can hold: any
// integer up to 2^24, above that only multiples of 2, 4, ... A sequential accumulator of
// ones stalls for good at 2^24 (2^24 + 1 rounds back to 2^24), so the planner must keep
// ceil(rowsPerChunk / lanes) <= 2^24 for every accumulator; tree and finalize additions of
// larger partials only round (relative error 2^-24 each), they never stall.
//
// The device limits what one binding can hold: maxStorageBufferBindingSize is 128 MiB on
// lavapipe even at the adapter's maximum (requestNodeDevice asks for it), i.e. 2^25 f32. The
// seed losses bind larger tensors in windows (src/program/grids.ts), and a window also caps a chunk at
// half a window, which caps every accumulator: on a 128 MiB binding at most 2^24 rows per
// chunk, so at most 2^24 additions even with one lane. The 64M-element runs below (2^26, 256
// MiB per tensor) therefore go through two windows per tensor here.
import { beforeAll, describe, expect, it } from 'vitest';
import { DiceEngine, type DiceLoss, type DiceLossOptions } from '../src/index.js';
import type { GridProfile } from '../src/program/profile.js';
import { seedGrids } from '../src/program/seed.js';
import { diceReference } from '../src/reference/index.js';
import { expectClose, mulberry32, withValidation } from './helpers/gpu.js';
import { useTestEngine } from './helpers/test-engine.js';
import { gradTolerance, LOSS_TOL, SUM_TOL } from './tolerance.js';

const EXACT_LIMIT = 2 ** 24;

const gpu = useTestEngine();
/** 64M elements (2^26), or fewer if the device cannot even allocate such a buffer. */
let bigN: number;
/** 32M elements, for the tests that also need float64 references and host copies. */
const HUGE = 2 ** 25;

beforeAll(() => {
  bigN = 2 ** Math.min(26, Math.floor(Math.log2(gpu.device.limits.maxBufferSize / 4)));
});

/** A STORAGE buffer of `n` f32, written through a mapping (no 128 MiB staging copy). */
function filledBuffer(n: number, fill: (view: Float32Array) => void, label: string): GPUBuffer {
  const buffer = gpu.device.createBuffer({ label, size: n * 4, usage: GPUBufferUsage.STORAGE, mappedAtCreation: true });
  fill(new Float32Array(buffer.getMappedRange()));
  buffer.unmap();
  return buffer;
}

async function onesRun(options: DiceLossOptions, on: DiceEngine = gpu.engine) {
  const n = options.shape.reduce((a, b) => a * b, 1);
  const ones = filledBuffer(n, (v) => v.fill(1), 'ones');
  let loss: DiceLoss | undefined;
  try {
    return await withValidation(gpu.device, async () => {
      loss = await on.dice(options);
      return { loss, result: await loss.compute(ones, ones) };
    });
  } finally {
    loss?.destroy();
    ones.destroy();
  }
}

/** Elements summed sequentially by one thread's accumulator. */
function perThreadAdditions(loss: Pick<DiceLoss, 'plan'>): number {
  return Math.ceil(loss.plan.reduce.rowsPerChunk / loss.plan.reduce.lanes);
}

describe('planner: no accumulator adds more than 2^24 elements', () => {
  const software = {
    workgroupSize: 256,
    targetWorkgroups: 8,
    minRowsPerLane: 64,
    elementwiseWorkgroups: 32,
    minUnitsPerThread: 4,
    maxWorkgroupsPerDimension: 65535,
  };
  const gpu = {
    workgroupSize: 256,
    targetWorkgroups: 1024,
    minRowsPerLane: 4,
    elementwiseWorkgroups: 4096,
    minUnitsPerThread: 4,
    maxWorkgroupsPerDimension: 65535,
  };
  // lavapipe binds 128 MiB, an NVIDIA GPU 2 GiB - 4 bytes.
  const LAVAPIPE = 2 ** 27;
  const NVIDIA = 2 ** 31 - 4;
  const profiles: Record<string, GridProfile> = {
    'lavapipe default': { ...software, maxBindingBytes: LAVAPIPE },
    'lavapipe, 1 thread, 1 workgroup': {
      ...software,
      workgroupSize: 1,
      targetWorkgroups: 1,
      maxBindingBytes: LAVAPIPE,
    },
    'GPU default': { ...gpu, maxBindingBytes: NVIDIA },
    'GPU, 64 threads, 300 workgroups': { ...gpu, workgroupSize: 64, targetWorkgroups: 300, maxBindingBytes: NVIDIA },
    'GPU, 32 threads, 1 workgroup': { ...gpu, workgroupSize: 32, targetWorkgroups: 1, maxBindingBytes: NVIDIA },
  };
  const elementCounts = [2 ** 25, 2 ** 29 - 1, 2 ** 32 - 1];
  const batches = [1, 2, 7, 64, 1024];
  const classCounts = [1, 2, 3, 4, 5, 7, 8, 16, 64, 255, 256, 1000, 1024];

  /** The largest number of additions one accumulator makes over the sweep, and where. */
  function worstCase(profile: GridProfile) {
    let worst = { additions: 0, what: '' };
    for (const maxElements of elementCounts) {
      for (const batch of batches) {
        for (const classes of classCounts) {
          const pixels = Math.floor(maxElements / batch / classes);
          if (pixels < 1) continue;
          // Whole vec4 rows and, one pixel less, the scalar fallback.
          for (const spatial of [pixels, Math.max(1, pixels - 1)]) {
            for (const groups of [1, classes]) {
              const plan = seedGrids(batch, spatial * classes, groups, profile);
              const additions = perThreadAdditions({ plan });
              if (additions > worst.additions) {
                worst = {
                  additions,
                  what: `B ${batch}, spatial ${spatial}, C ${classes}, groups ${groups}, vec${plan.reduce.vecWidth}`,
                };
              }
            }
          }
        }
      }
    }
    if (process.env.WGSL_DICE_VERBOSE)
      console.info(`at most ${worst.additions} additions per accumulator (${worst.what})`);
    return worst;
  }

  it.each(Object.keys(profiles))('%s', (name) => {
    const worst = worstCase(profiles[name]);
    expect(worst.additions, worst.what).toBeLessThanOrEqual(EXACT_LIMIT);
  });

  // With a 2 GiB binding (NVIDIA) a chunk could hold 2^28 rows, and an engine with one lane
  // per column would give one accumulator all of them: the planner caps each lane's run of
  // additions at MAX_SEQUENTIAL_ADDS (2^16) instead.
  it('GPU, 1 thread, 1 workgroup', () => {
    const worst = worstCase({ ...gpu, workgroupSize: 1, targetWorkgroups: 1, maxBindingBytes: NVIDIA });
    expect(worst.additions, worst.what).toBeLessThanOrEqual(EXACT_LIMIT);
  });
});

describe('exact counts of 64M ones', () => {
  it('global Dice over 2^26 ones (two binding windows here): every sum exact, loss 0', async () => {
    const { loss, result } = await onesRun({ shape: [1, bigN / 4096, 4096, 1], reduce: 'global' });
    expect(perThreadAdditions(loss)).toBeLessThanOrEqual(EXACT_LIMIT);
    expect(result.perClass.intersection[0]).toBe(bigN);
    expect(result.perClass.predSum[0]).toBe(bigN);
    expect(result.perClass.targetSum[0]).toBe(bigN);
    expect(result.perClass.dice[0]).toBe(1);
    expect(result.loss).toBe(0);
  });

  it('global Dice, 2 samples: each sample counted exactly', async () => {
    const { result } = await onesRun({ shape: [2, bigN / 2, 1], reduce: 'global' });
    expect(Array.from(result.perClass.intersection)).toEqual([bigN / 2, bigN / 2]);
    expect(Array.from(result.perClass.targetSum)).toEqual([bigN / 2, bigN / 2]);
  });

  it.each([
    [1, 'all 2^26 in one class'],
    [2, '2^25 per class'],
    [4, '2^24 per class, one vec4 column'],
  ])('per-class Dice, C = %i (%s): exact per-class counts', async (classes) => {
    const pixels = Math.floor(bigN / classes / 4) * 4;
    const { result } = await onesRun({ shape: [1, pixels, classes], reduce: 'per-class' });
    for (let c = 0; c < classes; c++) {
      expect(result.perClass.intersection[c], `class ${c}`).toBe(pixels);
      expect(result.perClass.predSum[c], `class ${c}`).toBe(pixels);
      expect(result.perClass.dice[c], `class ${c}`).toBe(1);
    }
    expect(result.loss).toBe(0);
  });

  // C = 3 makes rows of 12 elements: 5,592,405 rows in 8 chunks of 699,051 (odd), so the
  // finalize pass adds 32 odd partials per class and, once its running f32 sum passes 2^24,
  // rounds at each step: 22,369,624 for 22,369,620 (f32 holds the exact count; 4 off, 2e-7).
  const C3_PIXELS = Math.floor(2 ** 26 / 3 / 4) * 4;
  it('per-class Dice, C = 3, 2^26 elements: counts within 8 of exact (2 ulp)', async () => {
    const pixels = Math.min(C3_PIXELS, Math.floor(bigN / 3 / 4) * 4);
    const { result } = await onesRun({ shape: [1, pixels, 3], reduce: 'per-class' });
    for (let c = 0; c < 3; c++) {
      expect(Math.abs(result.perClass.intersection[c] - pixels), `class ${c}`).toBeLessThanOrEqual(8);
      expect(Math.abs(result.perClass.predSum[c] - pixels), `class ${c}`).toBeLessThanOrEqual(8);
    }
  });

  // Exact because the finalize pass sums the chunk partials with Neumaier compensation.
  it('per-class Dice, C = 3, 2^26 elements: exact per-class counts', async () => {
    const { result } = await onesRun({ shape: [1, C3_PIXELS, 3], reduce: 'per-class' });
    for (let c = 0; c < 3; c++) expect(result.perClass.intersection[c], `class ${c}`).toBe(C3_PIXELS);
  });

  it('scalar path (odd count 2^25 - 1 above 2^24): within a few ulp', async () => {
    // 2^25 - 1 is odd, so f32 cannot hold it: the best possible answer is 2^25 (or 2^25 - 2).
    const n = 2 ** 25 - 1;
    const { loss, result } = await onesRun({ shape: [1, n, 1], reduce: 'global' });
    expect(loss.plan.reduce.vecWidth).toBe(1);
    for (const sum of [result.perClass.intersection[0], result.perClass.predSum[0]]) {
      expect(Math.abs(sum - n)).toBeLessThanOrEqual(4);
    }
  });

  it('one thread per workgroup, one workgroup wanted: windows keep the accumulator at 2^24', async () => {
    // Without the half-window cap on chunks, this plan would give one accumulator all
    // 2^25 - 1 ones, and it would stall at 2^24 (half the count).
    const tiny = await DiceEngine.create(gpu.device, { workgroupSize: 1, targetWorkgroups: 1 });
    try {
      const n = 2 ** 25 - 1;
      const { loss, result } = await onesRun({ shape: [1, n, 1], reduce: 'global' }, tiny);
      expect(perThreadAdditions(loss)).toBeLessThanOrEqual(EXACT_LIMIT);
      expect(Math.abs(result.perClass.intersection[0] - n)).toBeLessThanOrEqual(4);
    } finally {
      tiny.destroy();
    }
  });
});

describe('a tiny class in a huge volume', () => {
  it('5 voxels of class 1 among 2^25 elements: dice, sums, loss and gradient vs float64', async () => {
    const classes = 2;
    const pixels = HUGE / classes;
    const shape = [1, pixels, classes];
    const options: DiceLossOptions = { shape, reduce: 'per-class' };
    const random = mulberry32(31337);
    const spots = [0, 12345, pixels >> 1, pixels - 777, pixels - 1];
    const pred = new Float32Array(HUGE);
    const target = new Float32Array(HUGE);
    for (let p = 0; p < pixels; p++) {
      const q = random() * 0.01; // the background's small class-1 probability
      pred[p * 2] = 1 - q;
      pred[p * 2 + 1] = q;
      target[p * 2] = 1;
    }
    for (const p of spots) {
      const q = 0.6 + 0.35 * random();
      pred[p * 2] = 1 - q;
      pred[p * 2 + 1] = q;
      target[p * 2] = 0;
      target[p * 2 + 1] = 1;
    }
    const want = diceReference(pred, target, options);
    const loss = await gpu.engine.dice(options);
    try {
      const got = await withValidation(gpu.device, () => loss.compute(pred, target, { grad: true }));
      expect(got.perClass.targetSum[1]).toBe(5);
      expect(got.perClass.targetSum[0]).toBe(pixels - 5);
      expectClose(got.perClass.intersection, want.intersection, SUM_TOL, 'intersection');
      expectClose(got.perClass.predSum, want.predSum, SUM_TOL, 'sum of pred');
      expectClose(got.perClass.dice, want.dice, SUM_TOL, 'dice');
      expectClose([got.loss], [want.loss], LOSS_TOL, 'loss');
      // The gradient of the rare class decides training; check it everywhere.
      expectClose(got.grad!, want.grad, gradTolerance(want.grad), 'grad');
      for (const p of spots) {
        expectClose([got.grad![p * 2 + 1]], [want.grad[p * 2 + 1]], { atol: 0, rtol: 1e-5 }, `grad at rare voxel ${p}`);
      }
    } finally {
      loss.destroy();
    }
  });

  it('random probabilities over 2^25 elements, global and per-class: within the documented tolerance', async () => {
    const random = mulberry32(4242);
    const n = HUGE;
    const pred = Float32Array.from({ length: n }, () => random());
    const target = Float32Array.from({ length: n }, () => (random() < 0.5 ? 1 : 0));
    for (const options of [
      { shape: [1, n, 1], reduce: 'global' },
      { shape: [2, n / 8, 4], reduce: 'per-class', weights: [1, 2, 3, 4] },
    ] satisfies DiceLossOptions[]) {
      const want = diceReference(pred, target, options);
      const loss = await gpu.engine.dice(options);
      try {
        const got = await withValidation(gpu.device, () => loss.compute(pred, target));
        expectClose(got.perClass.intersection, want.intersection, SUM_TOL, `${options.reduce}: intersection`);
        expectClose(got.perClass.predSum, want.predSum, SUM_TOL, `${options.reduce}: sum of pred`);
        expectClose(got.perClass.targetSum, want.targetSum, SUM_TOL, `${options.reduce}: sum of target`);
        expectClose([got.loss], [want.loss], LOSS_TOL, `${options.reduce}: loss`);
      } finally {
        loss.destroy();
      }
    }
  });
});
