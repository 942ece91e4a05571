// Issue 21's kernel-side findings on the family and Wasserstein paths, one regression test each
// (each failed before the fix): a non-finite input never gives a loss that looks like one, finite
// but huge inputs give the finite loss the float64 reference has (or a typed overflow error where
// the result itself passes f32), dense ignoreIndex compares values, classes past 256 work for
// every loss, and every binding-window size gives bitwise the same loss and gradient.
// Tolerances: test/tolerance.ts (LOSS_TOL, relative 1e-5 also for losses near 1e38).
import { describe, expect, it } from 'vitest';
import {
  DiceEngine,
  WgslDiceError,
  type FamilyLoss,
  type LossOptions,
  type WassersteinDiceLoss,
  type WassersteinDiceOptions,
} from '../src/index.js';
import { familyReference, familyReferenceGradient } from '../src/reference/index.js';
import { generalizedWassersteinDiceLoss } from '../src/reference/peers/monai.js';
import { tensor } from '../src/peers/tensor.js';
import { makeInputs } from './helpers/family-cases.js';
import {
  createBufferFrom,
  createEmptyBuffer,
  expectClose,
  getTestDevice,
  mulberry32,
  readBuffer,
  withValidation,
} from './helpers/gpu.js';
import { useTestEngine } from './helpers/test-engine.js';
import { centralDifferenceTolerance, LOSS_TOL } from './tolerance.js';

const gpu = useTestEngine();

/** The loss an encode() writes for these inputs (the loss buffer as a tfjs op or training loop reads it). */
async function encodedLoss(
  loss: FamilyLoss | WassersteinDiceLoss,
  inputs: { pred: ArrayBufferView; target: ArrayBufferView },
): Promise<number> {
  const device = gpu.device;
  const buffers = {
    pred: createBufferFrom(device, inputs.pred),
    target: createBufferFrom(device, inputs.target),
    loss: createEmptyBuffer(device, 16),
  };
  const encoder = device.createCommandEncoder();
  loss.encode(encoder, buffers);
  device.queue.submit([encoder.finish()]);
  const value = new Float32Array(await readBuffer(device, buffers.loss, 4))[0];
  for (const buffer of Object.values(buffers)) buffer.destroy();
  return value;
}

const M3 = [
  [0, 1, 2],
  [1, 0, 1.5],
  [2, 1.5, 0],
];

describe('a non-finite input never gives a loss that looks like one', () => {
  it('NaN in pred: the encode path writes NaN (it wrote -Infinity), and the status counts it', async () => {
    await withValidation(gpu.device, async () => {
      const sigmoid = await gpu.engine.loss({ shape: [1, 8, 8, 2], activation: 'sigmoid' });
      const pred = new Float32Array(128).fill(0.3);
      pred[5] = NaN;
      const value = await encodedLoss(sigmoid, { pred, target: new Float32Array(128).fill(1) });
      expect(Number.isNaN(value)).toBe(true);
      expect((await sigmoid.readStatus()).nonFinite).toBe(1);
      sigmoid.destroy();

      const softmax = await gpu.engine.loss({ shape: [1, 4, 4, 3], activation: 'softmax', target: 'u8' });
      const logits = new Float32Array(48).fill(0.5);
      logits[7] = -Infinity;
      expect(Number.isNaN(await encodedLoss(softmax, { pred: logits, target: new Uint8Array(16) }))).toBe(true);
      // A label >= C matches no class: the loss is NaN too, with LABEL_OUT_OF_RANGE in the status.
      const labels = new Uint8Array(16);
      labels[3] = 9;
      expect(Number.isNaN(await encodedLoss(softmax, { pred: new Float32Array(48), target: labels }))).toBe(true);
      expect((await softmax.readStatus()).badLabels).toBe(1);
      softmax.destroy();

      const wasserstein = await gpu.engine.wassersteinDice({ shape: [1, 4, 4, 3], target: 'u8', distanceMatrix: M3 });
      expect(Number.isNaN(await encodedLoss(wasserstein, { pred: logits, target: new Uint8Array(16) }))).toBe(true);
      wasserstein.destroy();
    });
  });
});

describe('finite but huge inputs', () => {
  const cases: { name: string; options: LossOptions; pred: number[]; target: number[] }[] = [
    {
      // NaN before: 0 * -Infinity in the cross-entropy of the classes that are not the label.
      name: 'softmax + cross-entropy, logits +-3e38 in one voxel (its label the large one)',
      options: { shape: [1, 2, 2, 3], activation: 'softmax', target: 'u8', crossEntropy: {} },
      pred: [3e38, -3e38, -3e38, 0.1, 0.4, -0.2, 0.3, 0.3, 0.9, -1, 0.5, 0.2],
      target: [0, 1, 2, 0],
    },
    {
      name: 'softmax + cross-entropy, the label at -3e38: a term of 6e38 whose mean is finite',
      options: { shape: [1, 2, 2, 3], activation: 'softmax', target: 'u8', crossEntropy: {} },
      pred: [3e38, -3e38, -3e38, 0.1, 0.4, -0.2, 0.3, 0.3, 0.9, -1, 0.5, 0.2],
      target: [1, 1, 2, 0],
    },
    {
      // Infinity before: two terms of 3e38 overflowed their f32 sum, though their mean is 7.5e37.
      name: 'sigmoid + binary cross-entropy + focal, logits of -3e38 with target 1',
      options: { shape: [1, 2, 2, 2], activation: 'sigmoid', crossEntropy: {}, focal: { gamma: 2 } },
      pred: [-3e38, 0.1, 0.1, -3e38, 0.1, 0.1, 0.1, 0.1],
      target: [1, 1, 1, 1, 1, 1, 1, 1],
    },
    {
      // NaN before: 2 * tpMin overflowed in the score.
      name: 'tpMin: 3e38',
      options: { shape: [1, 2, 2, 2], activation: 'sigmoid', tpMin: 3e38 },
      pred: [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1],
      target: [1, 1, 1, 1, 1, 1, 1, 1],
    },
    {
      // NaN before: the weighted sums and their divisor both overflowed.
      name: 'cross-entropy weights of 3e38 (class-index mean)',
      options: {
        shape: [1, 2, 2, 3],
        activation: 'softmax',
        target: 'u8',
        crossEntropy: { weights: [3e38, 3e38, 3e38] },
      },
      pred: [0, 0.3, 0.6, 0.9, 1.2, 0, 0.3, 0.6, 0.9, 1.2, 0, 0.3],
      target: [0, 1, 2, 0],
    },
  ];
  it.each(cases)('$name: the float64 reference loss', async ({ options, pred, target }) => {
    const p = Float32Array.from(pred);
    const t = options.target === 'u8' ? Uint8Array.from(target) : Float32Array.from(target);
    const got = await withValidation(gpu.device, async () => {
      const loss = await gpu.engine.loss(options);
      try {
        return await loss.compute(p, t, { grad: true });
      } finally {
        loss.destroy();
      }
    });
    const want = familyReference(p, t, options);
    expectClose([got.loss], [want.loss], LOSS_TOL, 'loss');
    expect(got.grad!.every(Number.isFinite)).toBe(true);
  });

  it('a focal sum past f32 (6.75e38) is NON_FINITE_INPUT from compute() and NaN on the encode path', async () => {
    const options: LossOptions = {
      shape: [1, 2, 2, 2],
      activation: 'sigmoid',
      crossEntropy: {},
      focal: { gamma: 2, reduction: 'sum' },
    };
    const pred = Float32Array.from([-3e38, 0.1, 0.1, -3e38, 0.1, 0.1, 0.1, 0.1]);
    const target = new Float32Array(8).fill(1);
    expect(familyReference(pred, target, options).loss).toBeGreaterThan(3.5e38);
    await withValidation(gpu.device, async () => {
      const loss = await gpu.engine.loss(options);
      const error = await loss.compute(pred, target).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WgslDiceError);
      expect((error as WgslDiceError).code).toBe('NON_FINITE_INPUT');
      expect((error as Error).message).toMatch(/focal term came out Infinity/);
      expect(Number.isNaN(await encodedLoss(loss, { pred, target }))).toBe(true);
      loss.destroy();
    });
  });
});

describe('dense ignoreIndex', () => {
  it('ignoreIndex: 0 ignores targets of -0 as well as 0 (values are compared, not bits)', async () => {
    const options: LossOptions = { shape: [1, 2, 2, 1], ignoreIndex: 0 };
    const pred = Float32Array.from([0.5, 0.5, 0.5, 0.5]);
    const target = Float32Array.from([-0, 1, 0, 1]);
    const got = await withValidation(gpu.device, async () => {
      const loss = await gpu.engine.loss(options);
      try {
        return await loss.compute(pred, target);
      } finally {
        loss.destroy();
      }
    });
    expectClose([got.loss], [familyReference(pred, target, options).loss], LOSS_TOL, 'loss');
    expect(got.groups.predSum[0]).toBe(1); // the two elements of target 1
  });
});

describe('more than 256 classes (C = 300)', () => {
  const cases: { name: string; options: LossOptions; grad?: boolean }[] = [
    {
      name: "u16 label map, softmax + cross-entropy, weights: 'inverse-frequency' (LIMIT_EXCEEDED before)",
      options: {
        shape: [1, 2, 1, 300],
        activation: 'softmax',
        target: 'u16',
        weights: 'inverse-frequency',
        crossEntropy: {},
      },
      grad: true,
    },
    {
      name: 'u32 label map, generalized Dice',
      options: { shape: [1, 3, 2, 300], activation: 'softmax', target: 'u32', formula: 'generalized-dice' },
    },
    {
      name: 'dense target, sigmoid, channels-first',
      options: { shape: [1, 300, 2, 3], layout: 'channels-first', activation: 'sigmoid' },
    },
  ];
  it.each(cases)('$name', async ({ name, options, grad }) => {
    const { pred, target } = makeInputs({ name, options }, mulberry32(300));
    const got = await withValidation(gpu.device, async () => {
      const loss = await gpu.engine.loss(options);
      try {
        return await loss.compute(pred, target, { grad: grad === true });
      } finally {
        loss.destroy();
      }
    });
    expectClose([got.loss], [familyReference(pred, target, options).loss], LOSS_TOL, 'loss');
    if (grad) {
      const fd = familyReferenceGradient(pred, target, options);
      expectClose(got.grad!, fd, centralDifferenceTolerance(fd), 'gradient vs central differences');
    }
  });

  it('Generalized Wasserstein Dice, u16 labels', async () => {
    const C = 300;
    const distanceMatrix = Array.from({ length: C }, (_, i) => Array.from({ length: C }, (_, j) => Math.abs(i - j)));
    const options: WassersteinDiceOptions = { shape: [1, 3, 2, C], target: 'u16', distanceMatrix };
    const random = mulberry32(301);
    const pred = Float32Array.from({ length: 6 * C }, () => random() * 4 - 2);
    const labels = Uint16Array.from({ length: 6 }, () => Math.floor(random() * C));
    const got = await withValidation(gpu.device, async () => {
      const loss = await gpu.engine.wassersteinDice(options);
      try {
        return await loss.compute(pred, labels);
      } finally {
        loss.destroy();
      }
    });
    // The reference takes channels-first logits.
    const x = new Float64Array(6 * C);
    for (let s = 0; s < 6; s++) for (let c = 0; c < C; c++) x[c * 6 + s] = pred[s * C + c];
    const want = generalizedWassersteinDiceLoss(
      { dist_matrix: distanceMatrix, weighting_mode: 'default', reduction: 'mean', smooth_nr: 1e-5, smooth_dr: 1e-5 },
      tensor([1, C, 6], x),
      tensor([1, 6], Array.from(labels)),
    ).data[0];
    expectClose([got.loss], [want], LOSS_TOL, 'loss');
  });
});

describe('binding windows: every window size gives bitwise the same loss and gradient', () => {
  // 8 KiB windows cut the forward's chunks at many edges (gradients differed by 1e-8..3e-7 of
  // max|g| before: the chunks followed the window size); 24 KiB ones at others.
  const WINDOWS = [8 * 1024, 24 * 1024];
  const bits = (a: ArrayLike<number>) => Buffer.from(Float32Array.from(a).buffer);

  async function engines(options: { deviceClass?: 'gpu' }) {
    const device = await getTestDevice();
    const grid = { workgroupSize: 64, targetWorkgroups: 16, ...options };
    return Promise.all(
      [undefined, ...WINDOWS].map((w) => DiceEngine.create(device, { ...grid, ...(w ? { maxBindingBytes: w } : {}) })),
    );
  }

  it.each([
    ['software plans', {}],
    ['GPU plans (unrolled class blocks, subgroup sums)', { deviceClass: 'gpu' as const }],
  ])('family, softmax + u8 labels and sigmoid + BCE + focal, %s', async (_name, plan) => {
    const all = await engines(plan);
    const cases: LossOptions[] = [
      { shape: [2, 40, 40, 4], activation: 'softmax', target: 'u8' },
      { shape: [1, 30, 30, 3], activation: 'sigmoid', crossEntropy: {}, focal: { gamma: 2 } },
    ];
    try {
      for (const [index, options] of cases.entries()) {
        const { pred, target } = makeInputs({ name: `windows ${index}`, options }, mulberry32(500 + index));
        const results = [];
        for (const engine of all) {
          const loss = await engine.loss(options);
          results.push({
            windows: loss.plan.forward.windows.length,
            ...(await loss.compute(pred, target, { grad: true })),
          });
          loss.destroy();
        }
        // The 8 KiB windows cut the tensor (and its chunks).
        expect(results[1].windows).toBeGreaterThan(1);
        for (const r of results.slice(1)) {
          expect(Object.is(r.loss, results[0].loss), 'loss').toBe(true);
          expect(bits(r.groups.tp).equals(bits(results[0].groups.tp)), 'tp').toBe(true);
          expect(bits(r.grad!).equals(bits(results[0].grad!)), 'gradient').toBe(true);
        }
        expectClose([results[0].loss], [familyReference(pred, target, options).loss], LOSS_TOL, 'loss');
      }
    } finally {
      for (const engine of all) engine.destroy();
    }
  });

  it('Generalized Wasserstein Dice', async () => {
    const all = await engines({});
    const options: WassersteinDiceOptions = { shape: [2, 40, 40, 3], target: 'u8', distanceMatrix: M3 };
    const random = mulberry32(600);
    const pred = Float32Array.from({ length: 2 * 1600 * 3 }, () => random() * 6 - 3);
    const labels = Uint8Array.from({ length: 3200 }, () => Math.floor(random() * 3));
    try {
      const results = [];
      for (const engine of all) {
        const loss = await engine.wassersteinDice(options);
        results.push({
          windows: loss.plan.forward.windows.length,
          ...(await loss.compute(pred, labels, { grad: true })),
        });
        loss.destroy();
      }
      expect(results[1].windows).toBeGreaterThan(1);
      for (const r of results.slice(1)) {
        expect(Object.is(r.loss, results[0].loss), 'loss').toBe(true);
        expect(bits(r.grad!).equals(bits(results[0].grad!)), 'gradient').toBe(true);
      }
    } finally {
      for (const engine of all) engine.destroy();
    }
  });
});
