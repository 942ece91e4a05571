// Seeded random shapes x options against the float64 reference, within the tolerance policy
// of test/tolerance.ts. Each case draws: B, spatial rank 0..3 and sizes, C in 1..64; reduce,
// weights (zeros included), epsilon (default, one value, or separate numerator/denominator,
// 0 where no group can be empty); hard, multi-label, soft or empty targets; uniform, peaked,
// hard or strictly positive predictions; one of five engine configurations (one with small
// binding windows); and how it runs:
// compute() on Float32Arrays, compute() on GPU buffers, or encode() at aligned offsets into
// an encoder shared by several cases and submitted once.
//
//   WGSL_DICE_FUZZ=20000 npx vitest run test/fuzz.test.ts      # a longer run (default 2000)
//   WGSL_DICE_FUZZ_SEED=123456 WGSL_DICE_FUZZ=1 npx vitest ... # replay one case
//
// A failing case names its seed, shape, options and path.
import { describe, expect, it } from 'vitest';
import type { DiceEngineOptions, DiceLoss, DiceLossOptions, DiceResult } from '../src/index.js';
import { diceReference } from '../src/reference/index.js';
import { createBufferFrom, expectClose, mulberry32, readBuffer, withValidation } from './helpers/gpu.js';
import { useTestEngine } from './helpers/test-engine.js';
import { gradTolerance, LOSS_TOL, SUM_TOL } from './tolerance.js';

const CASES = Number(process.env.WGSL_DICE_FUZZ ?? 2000);
const FIRST_SEED = Number(process.env.WGSL_DICE_FUZZ_SEED ?? 1);
const BLOCK = 100;
const MAX_ELEMENTS = 24_000;
const STORAGE_IO = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

const ENGINE_OPTIONS: DiceEngineOptions[] = [
  {},
  { workgroupSize: 64, targetWorkgroups: 300 },
  { workgroupSize: 32, targetWorkgroups: 3 },
  { workgroupSize: 128, targetWorkgroups: 1 },
  // Small binding windows: most tensors are bound in several windows, at odd element offsets.
  { workgroupSize: 64, maxBindingBytes: 4096 },
];

type Path = 'compute(Float32Array)' | 'compute(GPUBuffer)' | 'encode(offsets)';

interface Case {
  seed: number;
  engine: number;
  options: DiceLossOptions;
  pred: Float32Array<ArrayBuffer>;
  target: Float32Array<ArrayBuffer>;
  path: Path;
  describe: string;
}

const engines = ENGINE_OPTIONS.map((options) => useTestEngine(options));
const gpu = engines[0];
const coverage = {
  vec4Reduce: 0,
  scalarReduce: 0,
  vec4Backward: 0,
  scalarBackward: 0,
  severalChunks: 0,
  severalWindows: 0,
  cases: 0,
};
const seenClasses = new Set<number>();
const seenPaths = new Map<string, number>();

function makeCase(seed: number): Case {
  const random = mulberry32(seed);
  const int = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)];

  const classes = random() < 0.5 ? pick([1, 2, 3, 4, 5, 8, 12, 16, 63, 64]) : int(1, 64);
  const batch = int(1, 4);
  const rank = int(0, 3);
  // Spatial sizes that keep B * spatial * C under MAX_ELEMENTS.
  const budget = Math.max(1, Math.floor(MAX_ELEMENTS / (batch * classes)));
  const perAxis = Math.max(1, Math.floor(budget ** (1 / Math.max(1, rank))));
  const spatial = Array.from({ length: rank }, () => int(1, perAxis));
  const shape = [batch, ...spatial, classes];
  const n = shape.reduce((a, b) => a * b, 1);
  const pixels = n / classes;

  const reduce = pick(['global', 'per-class'] as const);
  const options: DiceLossOptions = { shape, reduce };
  if (reduce === 'per-class' && random() < 0.5) {
    options.weights = Array.from({ length: classes }, () => (random() < 0.1 ? 0 : random() * 2));
  }

  const predKind = pick(['uniform', 'peaked', 'hard', 'positive'] as const);
  const pred = new Float32Array(n);
  for (let p = 0; p < pixels; p++) {
    const hot = int(0, classes - 1);
    for (let c = 0; c < classes; c++) {
      const i = p * classes + c;
      if (predKind === 'uniform') pred[i] = random();
      else if (predKind === 'peaked') pred[i] = c === hot ? 0.5 + 0.5 * random() : 0.05 * random();
      else if (predKind === 'hard') pred[i] = c === hot ? 1 : 0;
      else pred[i] = 0.001 + 0.999 * random();
    }
  }
  const targetKind = pick(['one-hot', 'multi-label', 'soft', 'empty', 'one-hot, class 0 absent'] as const);
  const target = new Float32Array(n);
  for (let p = 0; p < pixels; p++) {
    if (targetKind === 'one-hot') target[p * classes + int(0, classes - 1)] = 1;
    else if (targetKind === 'one-hot, class 0 absent' && classes > 1) target[p * classes + int(1, classes - 1)] = 1;
    else if (targetKind === 'multi-label')
      for (let c = 0; c < classes; c++) target[p * classes + c] = random() < 0.3 ? 1 : 0;
    else if (targetKind === 'soft') for (let c = 0; c < classes; c++) target[p * classes + c] = random();
  }

  // Zero smoothing only where no group can have P + G = 0 (every prediction positive).
  const epsilonKind = pick(['default', 'number', 'split', 'zero'] as const);
  if (epsilonKind === 'number') options.epsilon = 10 ** -int(0, 7);
  else if (epsilonKind === 'split')
    options.epsilon = { numerator: random() < 0.3 ? 0 : random(), denominator: 1e-7 + random() };
  else if (epsilonKind === 'zero') options.epsilon = predKind === 'positive' ? 0 : { numerator: 0, denominator: 1e-6 };

  const path = pick(['compute(Float32Array)', 'compute(GPUBuffer)', 'encode(offsets)'] as const);
  const engine = int(0, ENGINE_OPTIONS.length - 1);
  return {
    seed,
    engine,
    options,
    pred,
    target,
    path,
    describe:
      `seed ${seed}: shape ${JSON.stringify(shape)}, ${JSON.stringify({ ...options, shape: undefined })}, ` +
      `pred ${predKind}, target ${targetKind}, ${path}, engine ${JSON.stringify(ENGINE_OPTIONS[engine])}`,
  };
}

function check(c: Case, loss: DiceLoss, got: DiceResult) {
  const want = diceReference(c.pred, c.target, c.options);
  try {
    expectClose([got.loss], [want.loss], LOSS_TOL, 'loss');
    expectClose(got.perClass.intersection, want.intersection, SUM_TOL, 'intersection');
    expectClose(got.perClass.predSum, want.predSum, SUM_TOL, 'sum of pred');
    expectClose(got.perClass.targetSum, want.targetSum, SUM_TOL, 'sum of target');
    expectClose(got.perClass.dice, want.dice, SUM_TOL, 'dice');
    expectClose(got.grad!, want.grad, gradTolerance(want.grad), 'grad');
  } catch (error) {
    const plan = `reduce vec${loss.plan.reduce.vecWidth} x ${loss.plan.reduce.chunks} chunks, backward vec${loss.plan.backward.vecWidth}`;
    throw new Error(
      `fuzz case failed: ${c.describe} (${plan})\n  ${(error as Error).message}\n  replay: WGSL_DICE_FUZZ_SEED=${c.seed} WGSL_DICE_FUZZ=1 npx vitest run test/fuzz.test.ts`,
    );
  }
}

/** Records one case into `encoder` with every binding at a non-zero aligned offset. */
function encodeAtOffsets(c: Case, loss: DiceLoss, encoder: GPUCommandEncoder, owned: GPUBuffer[]) {
  const align = gpu.device.limits.minStorageBufferOffsetAlignment;
  const bytes = c.pred.byteLength;
  const slot = Math.ceil(bytes / align) * align;
  // pred and target share one buffer (both are only read); loss and stats share another.
  const inputs = gpu.device.createBuffer({
    label: `fuzz ${c.seed} inputs`,
    size: align + 2 * slot,
    usage: STORAGE_IO(),
  });
  gpu.device.queue.writeBuffer(inputs, align, c.pred);
  gpu.device.queue.writeBuffer(inputs, align + slot, c.target);
  const statsBytes = loss.groupCount * 16;
  const outputs = gpu.device.createBuffer({
    label: `fuzz ${c.seed} loss+stats`,
    size: 2 * align + Math.ceil(statsBytes / align) * align,
    usage: STORAGE_IO(),
  });
  const grad = gpu.device.createBuffer({ label: `fuzz ${c.seed} grad`, size: align + bytes, usage: STORAGE_IO() });
  owned.push(inputs, outputs, grad);
  loss.encode(encoder, {
    pred: { buffer: inputs, offset: align },
    target: { buffer: inputs, offset: align + slot },
    loss: { buffer: outputs, offset: align },
    stats: { buffer: outputs, offset: 2 * align },
    grad: { buffer: grad, offset: align },
  });
  return async (): Promise<DiceResult> => {
    const out = new Float32Array(await readBuffer(gpu.device, outputs));
    const stats = out.subarray((2 * align) / 4, (2 * align + statsBytes) / 4);
    const column = (k: number) => Float32Array.from({ length: loss.groupCount }, (_, g) => stats[g * 4 + k]);
    const [score, tp, predSum, targetSum] = [0, 1, 2, 3].map(column);
    return {
      loss: out[align / 4],
      groups: { score, tp, predSum, targetSum },
      perClass: { dice: score, intersection: tp, predSum, targetSum },
      grad: new Float32Array((await readBuffer(gpu.device, grad)).slice(align, align + bytes)),
    };
  };
}

async function runBlock(seeds: number[]) {
  await withValidation(gpu.device, async () => {
    const cases = seeds.map(makeCase);
    const losses = await Promise.all(cases.map((c) => engines[c.engine].engine.dice(c.options)));
    const owned: GPUBuffer[] = [];
    try {
      const encoder = gpu.device.createCommandEncoder({ label: 'fuzz block' });
      const pending = cases.map((c, i): Promise<DiceResult> | (() => Promise<DiceResult>) => {
        const loss = losses[i];
        coverage.cases++;
        coverage[loss.plan.reduce.vecWidth === 4 ? 'vec4Reduce' : 'scalarReduce']++;
        coverage[loss.plan.backward.vecWidth === 4 ? 'vec4Backward' : 'scalarBackward']++;
        if (loss.plan.reduce.chunks > 1) coverage.severalChunks++;
        if (loss.plan.reduce.windows.length > 1) coverage.severalWindows++;
        seenClasses.add(c.options.shape[c.options.shape.length - 1]);
        seenPaths.set(c.path, (seenPaths.get(c.path) ?? 0) + 1);
        if (c.path === 'encode(offsets)') return encodeAtOffsets(c, loss, encoder, owned);
        if (c.path === 'compute(GPUBuffer)') {
          const pred = createBufferFrom(gpu.device, c.pred);
          const target = createBufferFrom(gpu.device, c.target);
          owned.push(pred, target);
          return loss.compute(pred, target, { grad: true });
        }
        return loss.compute(c.pred, c.target, { grad: true });
      });
      gpu.device.queue.submit([encoder.finish()]);
      for (const [i, work] of pending.entries()) {
        const got = typeof work === 'function' ? await work() : await work;
        check(cases[i], losses[i], got);
      }
    } finally {
      for (const buffer of owned) buffer.destroy();
      for (const loss of losses) loss.destroy();
    }
  });
}

describe(`fuzz: ${CASES} seeded cases from seed ${FIRST_SEED} against the float64 reference`, () => {
  for (let start = 0; start < CASES; start += BLOCK) {
    const seeds = Array.from({ length: Math.min(BLOCK, CASES - start) }, (_, k) => FIRST_SEED + start + k);
    it(`seeds ${seeds[0]}..${seeds[seeds.length - 1]}`, () => runBlock(seeds));
  }

  it('covered both kernel paths, many class counts and every way of running', () => {
    if (process.env.WGSL_DICE_VERBOSE)
      console.info({ ...coverage, classes: seenClasses.size, paths: Object.fromEntries(seenPaths) });
    expect(coverage.cases).toBe(CASES);
    if (CASES < 1000) return; // a replay of a few cases covers what it covers
    for (const key of ['vec4Reduce', 'scalarReduce', 'vec4Backward', 'scalarBackward'] as const) {
      expect(coverage[key], key).toBeGreaterThan(CASES * 0.1);
    }
    expect(coverage.severalChunks, 'cases with several chunks per sample').toBeGreaterThan(CASES * 0.05);
    expect(coverage.severalWindows, 'cases bound in several windows').toBeGreaterThan(CASES * 0.05);
    expect(seenClasses.size).toBe(64);
    expect(seenPaths.size).toBe(3);
  });
});
