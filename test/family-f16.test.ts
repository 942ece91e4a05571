// f16 inputs on engine.loss, engine.metric and engine.wassersteinDice (predType 'f16', device
// feature shader-f16): pred is read as f16 and every term is computed and summed in f32; the
// gradient is written as f32 or, with gradType 'f16', rounded to f16. The float64 reference sees
// the f16-rounded values, so the tolerances are test/tolerance.ts's f32 ones, widened by the
// f16 rounding of an f16 gradient (f16GradTolerance, derived there). A device without
// shader-f16 gets FEATURE_MISSING, as engine.dice does.
import { create } from 'webgpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { DiceEngine, fromFloat16Bits, toFloat16Bits, type LossOptions } from '../src/index.js';
import { familyReference, familyReferenceGradient } from '../src/reference/index.js';
import { generalizedWassersteinDiceLoss } from '../src/reference/peers/monai.js';
import { tensor } from '../src/peers/tensor.js';
import { makeInputs } from './helpers/family-cases.js';
import { expectClose, mulberry32, withValidation } from './helpers/gpu.js';
import { useTestEngine } from './helpers/test-engine.js';
import { centralDifferenceTolerance, f16GradTolerance, LOSS_TOL, SUM_TOL } from './tolerance.js';

const gpu = useTestEngine();
beforeAll(() => {
  // lavapipe offers shader-f16 and requestNodeDevice enables it.
  expect(gpu.device.features.has('shader-f16')).toBe(true);
});

const cases: { name: string; options: LossOptions }[] = [
  {
    name: 'softmax + u8 labels, C = 8 in registers read as vec4<f16>, f32 gradient',
    options: { shape: [2, 9, 7, 8], activation: 'softmax', target: 'u8', predType: 'f16' },
  },
  {
    name: 'sigmoid + BCE + focal, dense, channels-first, f16 gradient',
    options: {
      shape: [2, 3, 6, 5],
      layout: 'channels-first',
      activation: 'sigmoid',
      crossEntropy: {},
      focal: { gamma: 2, alpha: 0.25 },
      predType: 'f16',
      gradType: 'f16',
    },
  },
  {
    name: 'softmax + CE, C = 20 (two class blocks, scalar f16 reads), f16 gradient',
    options: {
      shape: [1, 5, 4, 20],
      activation: 'softmax',
      target: 'u16',
      crossEntropy: {},
      predType: 'f16',
      gradType: 'f16',
    },
  },
];

describe('engine.loss with f16 predictions', () => {
  cases.forEach((c, index) => {
    it(c.name, async () => {
      const { pred, target, mask } = makeInputs({ name: c.name, options: c.options }, mulberry32(900 + index));
      const bits = toFloat16Bits(pred);
      const seen = Float32Array.from(fromFloat16Bits(bits));
      const got = await withValidation(gpu.device, async () => {
        const loss = await gpu.engine.loss(c.options);
        try {
          return await loss.compute(bits, target, { grad: true, mask });
        } finally {
          loss.destroy();
        }
      });
      const options = { ...c.options, predType: undefined, gradType: undefined };
      const want = familyReference(seen, target, options, mask);
      expectClose([got.loss], [want.loss], LOSS_TOL, 'loss');
      expectClose(got.groups.predSum, want.predSum, SUM_TOL, 'sum of pred');
      const fd = familyReferenceGradient(seen, target, options, mask);
      const tolerance =
        c.options.gradType === 'f16'
          ? f16GradTolerance(centralDifferenceTolerance(fd))
          : centralDifferenceTolerance(fd);
      expectClose(got.grad!, fd, tolerance, 'gradient vs central differences');
      if (c.options.gradType === 'f16') {
        // Every value came back from f16: rounding it again changes nothing.
        expect(Array.from(fromFloat16Bits(toFloat16Bits(got.grad!)))).toEqual(Array.from(got.grad!));
      }
    });
  });

  it('a Float32Array pred is rounded to f16 for you; engine.metric counts argmax of the f16 values', async () => {
    const shape = [2, 6, 5, 3];
    const random = mulberry32(950);
    const pred = Float32Array.from({ length: 180 }, () => random());
    const labels = Uint8Array.from({ length: 60 }, () => Math.floor(random() * 3));
    const seen = fromFloat16Bits(toFloat16Bits(pred));
    await withValidation(gpu.device, async () => {
      const loss = await gpu.engine.loss({ shape, activation: 'softmax', target: 'u8', predType: 'f16' });
      const fromF32 = await loss.compute(pred, labels);
      const fromBits = await loss.compute(toFloat16Bits(pred), labels);
      expect(fromF32.loss).toBe(fromBits.loss);
      loss.destroy();
      const metric = await gpu.engine.metric({ shape, target: 'u8', predType: 'f16' });
      const got = await metric.compute(pred, labels);
      metric.destroy();
      for (let g = 0; g < 6; g++) {
        const [b, c] = [Math.floor(g / 3), g % 3];
        let [tp, predCount, targetCount] = [0, 0, 0];
        for (let s = 0; s < 30; s++) {
          const row = Array.from(seen.subarray((b * 30 + s) * 3, (b * 30 + s) * 3 + 3));
          // The first maximum, as torch.argmax (f16 rounding makes ties likely).
          const hit = row.indexOf(Math.max(...row)) === c;
          const truth = labels[b * 30 + s] === c;
          tp += +(hit && truth);
          predCount += +hit;
          targetCount += +truth;
        }
        expect([got.groups.tp[g], got.groups.predSum[g], got.groups.targetSum[g]]).toEqual([
          tp,
          predCount,
          targetCount,
        ]);
      }
    });
  });
});

describe('engine.wassersteinDice with f16 logits', () => {
  it('matches the float64 reference on the f16-rounded logits, f16 gradient', async () => {
    const M = [
      [0, 1, 2],
      [1, 0, 1.5],
      [2, 1.5, 0],
    ];
    const shape = [2, 3, 5, 4];
    const n = 2 * 3 * 20;
    const random = mulberry32(77);
    const bits = toFloat16Bits(Float32Array.from({ length: n }, () => random() * 6 - 3));
    const labels = Uint8Array.from({ length: 40 }, () => Math.floor(random() * 3));
    const got = await withValidation(gpu.device, async () => {
      const loss = await gpu.engine.wassersteinDice({
        shape,
        layout: 'channels-first',
        target: 'u8',
        distanceMatrix: M,
        predType: 'f16',
        gradType: 'f16',
      });
      try {
        return await loss.compute(bits, labels, { grad: true });
      } finally {
        loss.destroy();
      }
    });
    const x0 = Float64Array.from(fromFloat16Bits(bits));
    const reference = (x: Float64Array) => {
      const out = generalizedWassersteinDiceLoss(
        { dist_matrix: M, weighting_mode: 'default', reduction: 'mean', smooth_nr: 1e-5, smooth_dr: 1e-5 },
        tensor([2, 3, 20], x),
        tensor([2, 20], Array.from(labels)),
      );
      return out.data[0];
    };
    expectClose([got.loss], [reference(x0)], LOSS_TOL, 'loss');
    const h = 1e-6;
    const fd = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const saved = x0[i];
      x0[i] = saved + h;
      const up = reference(x0);
      x0[i] = saved - h;
      const down = reference(x0);
      x0[i] = saved;
      fd[i] = (up - down) / (2 * h);
    }
    expectClose(got.grad!, fd, f16GradTolerance(centralDifferenceTolerance(fd)), 'gradient vs central differences');
  });
});

describe('without shader-f16', () => {
  it('engine.loss (clDice too), engine.metric and engine.wassersteinDice reject f16 types with FEATURE_MISSING', async () => {
    // A second device with no optional feature, on an adapter of a GPU object held for the life
    // of the process (dawn.node must not collect it while its devices live).
    const gpuObject = create([]);
    (globalThis as { wgslDiceF16TestGpu?: unknown }).wgslDiceF16TestGpu = gpuObject;
    const adapter = await gpuObject.requestAdapter();
    const plain = await adapter!.requestDevice();
    expect(plain.features.has('shader-f16')).toBe(false);
    const engine = await DiceEngine.create(plain);
    const shape = [1, 4, 4, 2];
    for (const call of [
      () => engine.loss({ shape, predType: 'f16' }),
      () => engine.loss({ shape, gradType: 'f16' }),
      () => engine.metric({ shape, predType: 'f16' }),
      () =>
        engine.wassersteinDice({
          shape,
          distanceMatrix: [
            [0, 1],
            [1, 0],
          ],
          predType: 'f16',
        }),
      () => engine.loss({ formula: 'cl-dice', shape, predType: 'f16' }),
      () => engine.loss({ formula: 'cl-dice', shape, gradType: 'f16' }),
      () => engine.loss({ formula: 'hausdorff-dt', shape, predType: 'f16' }),
    ]) {
      await expect(call()).rejects.toMatchObject({ code: 'FEATURE_MISSING', message: /shader-f16/ });
    }
    engine.destroy();
    plain.destroy();
  });
});
