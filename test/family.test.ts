// Every loss-family option against the float64 reference (values) and against central
// differences of the reference (gradients w.r.t. probabilities and w.r.t. logits), on a real
// WebGPU device. Tolerances: see test/tolerance.ts; gradients are compared with a looser
// rtol 1e-4 because the finite differences themselves carry ~1e-8 absolute error.
import { describe, expect, it } from 'vitest';
import { WgslDiceError } from '../src/index.js';
import { familyReference, familyReferenceGradient } from '../src/reference/index.js';
import { FAMILY_CASES as cases, makeInputs } from './helpers/family-cases.js';
import { expectClose, mulberry32, withValidation } from './helpers/gpu.js';
import { LOSS_TOL, RTOL } from './tolerance.js';
import { useTestEngine } from './helpers/test-engine.js';

const gpu = useTestEngine();

describe('loss family against the float64 reference and its finite differences', () => {
  cases.forEach((c, index) => {
    it(c.name, async () => {
      const { pred, target, mask } = makeInputs(c, mulberry32(1000 + index));
      const got = await withValidation(gpu.device, async () => {
        const loss = await gpu.engine.loss(c.options);
        try {
          return await loss.compute(pred, target, { grad: true, mask });
        } finally {
          loss.destroy();
        }
      });
      const want = familyReference(pred, target, c.options, mask);
      expectClose([got.loss], [want.loss], LOSS_TOL, 'loss');
      expectClose([got.crossEntropy], [want.crossEntropy], LOSS_TOL, 'cross-entropy');
      expectClose([got.focal], [want.focal], LOSS_TOL, 'focal');
      if (c.options.focal) expectClose(got.pairFocal!, want.pairFocal, { atol: 1e-5, rtol: RTOL }, 'focal per pair');
      expectClose(got.groups.tp, want.tp, { atol: 1e-5, rtol: RTOL }, 'tp');
      expectClose(got.groups.score, want.score, { atol: 1e-5, rtol: RTOL }, 'score');
      const fd = familyReferenceGradient(pred, target, c.options, mask);
      const max = fd.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      expectClose(got.grad!, fd, { atol: 1e-4 * max + 1e-7, rtol: 1e-4 }, 'gradient vs central differences');
    });
  });
});

describe('bad input is reported, not silently folded into the loss', () => {
  it('labels >= C throw LABEL_OUT_OF_RANGE with the count and first voxel', async () => {
    const loss = await gpu.engine.loss({ shape: [1, 4, 4, 3], activation: 'softmax', target: 'u8' });
    const labels = new Uint8Array(16);
    labels[5] = 7;
    labels[9] = 3;
    const error = await loss.compute(new Float32Array(48), labels).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WgslDiceError);
    expect((error as WgslDiceError).code).toBe('LABEL_OUT_OF_RANGE');
    expect((error as WgslDiceError).message).toMatch(/2 label-map voxel\(s\).*first at voxel 5/);
    loss.destroy();
  });

  it('NaN and infinite predictions throw NON_FINITE_INPUT; the encode path exposes the status', async () => {
    const loss = await gpu.engine.loss({ shape: [1, 8, 2] });
    const pred = new Float32Array(16).fill(0.5);
    pred[3] = NaN;
    pred[11] = Infinity;
    const error = await loss.compute(pred, new Float32Array(16)).catch((e: unknown) => e);
    expect((error as WgslDiceError).code).toBe('NON_FINITE_INPUT');
    expect((error as WgslDiceError).message).toMatch(/2 pred element\(s\).*first at element 3/);
    expect(await loss.readStatus()).toEqual({
      badLabels: 0,
      firstBadLabelVoxel: null,
      nonFinite: 2,
      firstNonFiniteElement: 3,
      nonFiniteTarget: 0,
      firstNonFiniteTargetElement: null,
      nonFiniteMask: 0,
      firstNonFiniteMaskIndex: null,
    });
    loss.destroy();
  });
});

describe('hard metrics from the same sums', () => {
  it('argmax Dice and IoU per (sample, class) match a direct count', async () => {
    const shape = [2, 6, 5, 3];
    const random = mulberry32(5);
    const pred = Float32Array.from({ length: 180 }, () => random());
    const labels = Uint8Array.from({ length: 60 }, () => Math.floor(random() * 3));
    const metric = await gpu.engine.metric({ shape, target: 'u8', binarize: 'argmax' });
    const got = await withValidation(gpu.device, () => metric.compute(pred, labels));
    metric.destroy();
    for (let b = 0; b < 2; b++) {
      for (let c = 0; c < 3; c++) {
        let tp = 0,
          predCount = 0,
          targetCount = 0;
        for (let s = 0; s < 30; s++) {
          const row = pred.subarray((b * 30 + s) * 3, (b * 30 + s) * 3 + 3);
          const argmax = row.indexOf(Math.max(...row));
          const hit = argmax === c;
          const truth = labels[b * 30 + s] === c;
          tp += hit && truth ? 1 : 0;
          predCount += hit ? 1 : 0;
          targetCount += truth ? 1 : 0;
        }
        const g = b * 3 + c;
        expect([got.groups.tp[g], got.groups.predSum[g], got.groups.targetSum[g]]).toEqual([
          tp,
          predCount,
          targetCount,
        ]);
        expect(got.groups.score[g]).toBeCloseTo((2 * tp) / (predCount + targetCount), 6);
      }
    }
  });
});
