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
const gpuWindows = useTestEngine({ deviceClass: 'gpu', maxBindingBytes: 128 * 1024 });

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

  // The seed's GPU backward grid (src/program/seed.ts): workgroups interleaved over a chunk, the
  // team a whole number of class cycles (or not: the classes move on per step), chunks cut by
  // binding windows, the scalar kernel for odd sizes.
  const seedCases: { name: string; shape: number[]; reduce: 'global' | 'per-class'; windowed?: boolean }[] = [
    { name: 'global Dice', shape: [2, 24, 20, 3], reduce: 'global' },
    { name: 'per-class, C = 3, a team of 6 interleaved workgroups', shape: [2, 96, 96, 3], reduce: 'per-class' },
    { name: 'per-class, C = 5, a team of 2 (classes move each step)', shape: [1, 48, 48, 5], reduce: 'per-class' },
    { name: 'per-class, odd sizes (scalar kernels), a team of 2', shape: [2, 33, 31, 3], reduce: 'per-class' },
    {
      name: 'per-class, C = 3, three chunks a sample in 128 KiB binding windows',
      shape: [2, 128, 96, 3],
      reduce: 'per-class',
      windowed: true,
    },
  ];
  seedCases.forEach((c, index) => {
    it(`seed ${c.name}: value and gradient as the float64 reference`, async () => {
      const n = c.shape.reduce((a, b) => a * b, 1);
      const random = mulberry32(31 + index);
      const pred = Float32Array.from({ length: n }, () => random());
      const target = Float32Array.from({ length: n }, () => (random() < 0.3 ? 1 : 0));
      const engine = c.windowed ? gpuWindows : gpu;
      const loss = await engine.engine.dice({ shape: c.shape, reduce: c.reduce });
      const got = await withValidation(engine.device, () => loss.compute(pred, target, { grad: true }));
      loss.destroy();
      const want = diceReference(pred, target, { shape: c.shape, reduce: c.reduce });
      expectClose([got.loss], [want.loss], LOSS_TOL, 'loss');
      expectClose(got.grad!, want.grad, gradTolerance(want.grad), 'gradient');
    });
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
