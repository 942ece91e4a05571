// Plans made for a GPU (`deviceClass: 'gpu'`: many workgroups, unrolled class loops) run
// correctly on any adapter, lavapipe included: the same float64 checks as test/family.test.ts
// and test/seed-losses.test.ts. `npm run kernel-stats` compiles exactly these plans for RDNA.
// Tolerances: test/tolerance.ts; gradients against central differences with rtol 1e-4.
import { describe, expect, it } from 'vitest';
import { diceReference, familyReference, familyReferenceGradient } from '../src/reference/index.js';
import type { LossOptions } from '../src/index.js';
import { expectClose, mulberry32, withValidation } from './helpers/gpu.js';
import { makeInputs } from './helpers/family-cases.js';
import { gradTolerance, LOSS_TOL } from './tolerance.js';
import { useTestEngine } from './helpers/test-engine.js';

const gpu = useTestEngine({ deviceClass: 'gpu' });

describe("deviceClass: 'gpu' plans on this adapter", () => {
  it('are GPU plans: many workgroups, class loops unrolled, subgroup sums, blocks sized to the register budget', async () => {
    const loss = await gpu.engine.loss({ shape: [2, 64, 64, 20], activation: 'softmax', target: 'u8' });
    expect(gpu.engine.gridProfile.software).toBe(false);
    expect(loss.describe()).toMatch(/forward: family_forward_subgroups \[.*BLOCK_CLASSES=16 .*UNROLL_CLASS_BLOCK=1/);
    loss.destroy();
    const compound = await gpu.engine.loss({
      shape: [2, 8, 8, 16],
      activation: 'softmax',
      target: 'u8',
      crossEntropy: {},
      focal: { useSoftmax: true },
    });
    expect(compound.describe()).toMatch(/BLOCK_CLASSES=8 REGISTER_CLASSES=0/);
    compound.destroy();
  });

  it('seed global Dice: value and gradient as the float64 reference', async () => {
    const shape = [2, 24, 20, 3];
    const n = shape.reduce((a, b) => a * b, 1);
    const random = mulberry32(31);
    const pred = Float32Array.from({ length: n }, () => random());
    const target = Float32Array.from({ length: n }, () => (random() < 0.3 ? 1 : 0));
    const loss = await gpu.engine.dice({ shape, reduce: 'global' });
    const got = await withValidation(gpu.device, () => loss.compute(pred, target, { grad: true }));
    loss.destroy();
    const want = diceReference(pred, target, { shape, reduce: 'global' });
    expectClose([got.loss], [want.loss], LOSS_TOL, 'loss');
    expectClose(got.grad!, want.grad, gradTolerance(want.grad), 'gradient');
  });

  const family: { name: string; options: LossOptions }[] = [
    {
      name: 'softmax + u8 labels, C = 8 (registers, vec4 loads)',
      options: { shape: [2, 9, 7, 8], activation: 'softmax', target: 'u8' },
    },
    {
      name: 'softmax + u8 labels, C = 20 (two class blocks, unrolled)',
      options: { shape: [1, 6, 5, 20], activation: 'softmax', target: 'u8', crossEntropy: {} },
    },
    {
      // 3 + AUX + F+ sums a class exceed the register budget at 16 classes: blocks of 8.
      name: 'softmax + CE + softmax focal, C = 16 (blocks of 8 by the register budget)',
      options: {
        shape: [1, 5, 4, 16],
        activation: 'softmax',
        target: 'u8',
        crossEntropy: {},
        focal: { useSoftmax: true, gamma: 2 },
      },
    },
    {
      name: 'sigmoid, dense, channels-first, squared (M kept apart from G), C = 3',
      options: {
        shape: [2, 3, 6, 5],
        layout: 'channels-first',
        activation: 'sigmoid',
        squared: true,
        emptyClass: 'zero',
      },
    },
  ];
  family.forEach((c, index) => {
    it(`family, ${c.name}: value and gradient as the float64 reference`, async () => {
      const { pred, target, mask } = makeInputs({ name: c.name, options: c.options }, mulberry32(400 + index));
      const loss = await gpu.engine.loss(c.options);
      const got = await withValidation(gpu.device, () => loss.compute(pred, target, { grad: true, mask }));
      loss.destroy();
      const want = familyReference(pred, target, c.options, mask);
      expectClose([got.loss], [want.loss], LOSS_TOL, 'loss');
      const fd = familyReferenceGradient(pred, target, c.options, mask);
      const max = fd.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      expectClose(got.grad!, fd, { atol: 1e-4 * max + 1e-7, rtol: 1e-4 }, 'gradient vs central differences');
    });
  });
});
