// The seed's three TensorFlow Dice losses on a real WebGPU device (lavapipe in CI), checked
// against hand-worked values and the float64 reference. Every GPU call runs inside
// withValidation, so any WebGPU error fails the test.
import { describe, expect, it } from 'vitest';
import { DiceEngine, type DiceLossOptions } from '../src/index.js';
import { diceReference } from '../src/reference/index.js';
import { expectClose, mulberry32, withValidation } from './helpers/gpu.js';
import { gradTolerance, LOSS_TOL, SUM_TOL } from './tolerance.js';
import { useTestEngine } from './helpers/test-engine.js';

const gpu = useTestEngine();

async function runOnGpu(options: DiceLossOptions, pred: Float32Array, target: Float32Array, on = gpu.engine) {
  return withValidation(gpu.device, async () => {
    const loss = await on.dice(options);
    try {
      return await loss.compute(pred, target, { grad: true });
    } finally {
      loss.destroy();
    }
  });
}

function checkAgainstReference(
  options: DiceLossOptions,
  pred: Float32Array,
  target: Float32Array,
  got: Awaited<ReturnType<typeof runOnGpu>>,
) {
  const want = diceReference(pred, target, options);
  expectClose([got.loss], [want.loss], LOSS_TOL, 'loss');
  expectClose(got.perClass.intersection, want.intersection, SUM_TOL, 'intersection');
  expectClose(got.perClass.predSum, want.predSum, SUM_TOL, 'sum of pred');
  expectClose(got.perClass.targetSum, want.targetSum, SUM_TOL, 'sum of target');
  expectClose(got.perClass.dice, want.dice, SUM_TOL, 'dice');
  expectClose(got.grad!, want.grad, gradTolerance(want.grad), 'grad');
}

describe('seed losses, hand-worked 1x1x2x2 case', () => {
  // pixel 0: p = (0.8, 0.2), t = (1, 0); pixel 1: p = (0.4, 0.6), t = (0, 1); epsilon 1e-6.
  const pred = new Float32Array([0.8, 0.2, 0.4, 0.6]);
  const target = new Float32Array([1, 0, 0, 1]);
  const e = 1e-6;
  const shape = [1, 1, 2, 2];
  // Per class: class 0 has I = 0.8, P = 1.2, G = 1; class 1 has I = 0.6, P = 0.8, G = 1.
  const dice0 = (1.6 + e) / (2.2 + e);
  const dice1 = (1.2 + e) / (1.8 + e);

  it('example 1 (global): loss = 1 - (2*1.4 + e)/(4 + e), gradient by hand', async () => {
    const got = await runOnGpu({ shape, reduce: 'global' }, pred, target);
    const num = 2.8 + e;
    const den = 4 + e;
    expectClose([got.loss], [1 - num / den], LOSS_TOL, 'loss');
    // dL/dp_i = -(2 t_i den - num) / den^2
    const grad = [1, 0, 0, 1].map((t) => -(2 * t * den - num) / den ** 2);
    expectClose(got.grad!, grad, gradTolerance(grad), 'grad');
  });

  it('example 2 (weighted per-class): sum_c w_c (1 - dice_c)', async () => {
    const weights = [0.25, 0.75];
    const got = await runOnGpu({ shape, reduce: 'per-class', weights }, pred, target);
    expectClose(got.perClass.dice, [dice0, dice1], SUM_TOL, 'dice');
    expectClose([got.loss], [0.25 * (1 - dice0) + 0.75 * (1 - dice1)], LOSS_TOL, 'loss');
    // class 1, pixel 1: w1 * -(2 * 1 * den1 - num1) / den1^2
    const num1 = 1.2 + e;
    const den1 = 1.8 + e;
    expect(got.grad![3]).toBeCloseTo((0.75 * -(2 * den1 - num1)) / den1 ** 2, 5);
  });

  it('example 3 (per-class mean): mean_c (1 - dice_c)', async () => {
    const got = await runOnGpu({ shape, reduce: 'per-class' }, pred, target);
    expectClose([got.loss], [(1 - dice0 + (1 - dice1)) / 2], LOSS_TOL, 'loss');
    expectClose(got.perClass.predSum, [1.2, 0.8], SUM_TOL, 'sum of pred');
  });

  it("groups: the per-group sums under engine.loss()'s names (score, tp, predSum, targetSum), perClass kept", async () => {
    const got = await runOnGpu({ shape, reduce: 'per-class' }, pred, target);
    expectClose(got.groups.score, [dice0, dice1], SUM_TOL, 'score');
    expectClose(got.groups.tp, [0.8, 0.6], SUM_TOL, 'tp');
    expectClose(got.groups.predSum, [1.2, 0.8], SUM_TOL, 'sum of pred');
    expectClose(got.groups.targetSum, [1, 1], SUM_TOL, 'sum of target');
    expect(got.perClass).toEqual({
      dice: got.groups.score,
      intersection: got.groups.tp,
      predSum: got.groups.predSum,
      targetSum: got.groups.targetSum,
    });
  });
});

describe('empty masks', () => {
  it.each(['global', 'per-class'] as const)('%s: all-empty pred and target give loss 0, not NaN', async (reduce) => {
    const shape = [2, 3, 5, 3];
    const zeros = new Float32Array(90);
    const got = await runOnGpu({ shape, reduce }, zeros, zeros);
    expect(got.loss).toBe(0);
    expect(got.perClass.dice.every((d) => d === 1)).toBe(true);
    expect(got.grad!.every(Number.isFinite)).toBe(true);
    checkAgainstReference({ shape, reduce }, zeros, zeros, got);
  });
});

/** A seeded random case: shapes that hit vec4 and scalar paths, C = 1 and C = 64, odd sizes. */
function randomCase(seed: number): { options: DiceLossOptions; pred: Float32Array; target: Float32Array } {
  const random = mulberry32(seed);
  const pick = <T>(values: readonly T[]) => values[Math.floor(random() * values.length)];
  const batch = 1 + Math.floor(random() * 3);
  const spatialRank = 1 + Math.floor(random() * 3);
  const spatial = Array.from({ length: spatialRank }, () => 1 + Math.floor(random() * (spatialRank === 1 ? 300 : 19)));
  const classes = pick([1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 64]);
  const shape = [batch, ...spatial, classes];
  const reduce = pick(['global', 'per-class'] as const);
  const options: DiceLossOptions = { shape, reduce };
  if (reduce === 'per-class' && random() < 0.5) {
    options.weights = Array.from({ length: classes }, () => random() * 2);
  }
  if (random() < 0.3) options.epsilon = { numerator: random() * 1e-3, denominator: 1e-6 + random() * 1e-2 };
  const n = shape.reduce((a, b) => a * b, 1);
  const pred = Float32Array.from({ length: n }, () => random());
  const soft = random() < 0.3;
  const target = new Float32Array(n);
  for (let pixel = 0; pixel < n / classes; pixel++) {
    if (soft) {
      for (let c = 0; c < classes; c++) target[pixel * classes + c] = random();
    } else if (classes === 1) {
      target[pixel] = random() < 0.3 ? 1 : 0;
    } else {
      target[pixel * classes + Math.floor(random() * classes)] = 1;
    }
  }
  return { options, pred, target };
}

describe('against the float64 reference on 60 seeded random shapes', () => {
  for (let seed = 1; seed <= 60; seed++) {
    it(`seed ${seed}`, async () => {
      const { options, pred, target } = randomCase(seed);
      const got = await runOnGpu(options, pred, target);
      checkAgainstReference(options, pred, target, got);
    });
  }
});

describe('larger tensors: several chunks per sample, other grids', () => {
  const shapes: [number[], 'global' | 'per-class'][] = [
    [[2, 256, 256, 3], 'global'],
    [[2, 128, 128, 8], 'per-class'],
    [[1, 301, 257, 1], 'per-class'],
    [[3, 97, 89, 5], 'per-class'],
  ];
  it.each(shapes)('%j %s on the default engine and on a 64-thread, 300-workgroup engine', async (shape, reduce) => {
    const random = mulberry32(shape.reduce((a, b) => a * b, 7));
    const n = shape.reduce((a, b) => a * b, 1);
    const pred = Float32Array.from({ length: n }, () => random());
    const target = Float32Array.from({ length: n }, () => (random() < 0.25 ? 1 : 0));
    const other = await DiceEngine.create(gpu.device, { workgroupSize: 64, targetWorkgroups: 300 });
    try {
      for (const on of [gpu.engine, other]) {
        const got = await runOnGpu({ shape, reduce }, pred, target, on);
        checkAgainstReference({ shape, reduce }, pred, target, got);
      }
    } finally {
      other.destroy();
    }
  });
});
