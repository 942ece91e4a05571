// The subgroup reduction (devices with `subgroups`; lavapipe's are 8 wide, 4 under the test
// suite's LP_NATIVE_VECTOR_WIDTH=128) against the float64 reference and against the
// workgroup-memory fallback of the same engine options.
import { beforeAll, describe, expect, it } from 'vitest';
import { fromFloat16Bits, toFloat16Bits, type DiceLossOptions } from '../src/index.js';
import { diceReference } from '../src/reference/index.js';
import { expectClose, mulberry32, withValidation } from './helpers/gpu.js';
import { useTestEngine } from './helpers/test-engine.js';
import { gradTolerance, LOSS_TOL, SUM_TOL } from './tolerance.js';

const withSubgroups = useTestEngine();
const without = useTestEngine({ subgroups: false });
beforeAll(() => {
  expect(withSubgroups.device.features.has('subgroups')).toBe(true);
});

const cases: [string, DiceLossOptions, string][] = [
  ['global (one column)', { shape: [2, 96, 80, 3], reduce: 'global' }, 'dice_reduce_vec4_subgroups'],
  [
    'per-class C = 2 (one column of two classes)',
    { shape: [3, 64, 50, 2], reduce: 'per-class' },
    'dice_reduce_vec4_subgroups',
  ],
  [
    'per-class C = 8 (two columns)',
    { shape: [2, 40, 40, 8], reduce: 'per-class', weights: [1, 2, 3, 4, 5, 6, 7, 8] },
    'dice_reduce_vec4_subgroups',
  ],
  [
    'f16 predictions, global',
    { shape: [1, 128, 128, 4], reduce: 'global', predType: 'f16' },
    'dice_reduce_vec4_subgroups_f16',
  ],
  [
    'C = 64: 16 columns do not fit an 8-wide subgroup',
    { shape: [1, 16, 16, 64], reduce: 'per-class' },
    'dice_reduce_vec4',
  ],
];

describe('subgroup reduction', () => {
  it.each(cases)('%s', async (_name, options, kernel) => {
    const n = options.shape.reduce((a, b) => a * b, 1);
    const random = mulberry32(n + 1);
    const pred = Float32Array.from({ length: n }, () => random());
    const target = Float32Array.from({ length: n }, () => (random() < 0.3 ? 1 : 0));
    await withValidation(withSubgroups.device, async () => {
      const fast = await withSubgroups.engine.dice(options);
      const plain = await without.engine.dice(options);
      expect(fast.kernels.reduce).toBe(kernel);
      expect(plain.kernels.reduce).not.toContain('subgroups');
      const a = await fast.compute(pred, target, { grad: true });
      const again = await fast.compute(pred, target, { grad: true });
      const b = await plain.compute(pred, target, { grad: true });
      // Fixed shuffle order: bitwise repeatable on the same device.
      expect(again.loss).toBe(a.loss);
      expect(again.perClass).toEqual(a.perClass);
      // f16 inputs are rounded on upload: the reference sees the rounded values.
      const seen = options.predType === 'f16' ? fromFloat16Bits(toFloat16Bits(pred)) : pred;
      const want = diceReference(seen, target, options);
      for (const got of [a, b]) {
        expectClose([got.loss], [want.loss], LOSS_TOL, 'loss');
        expectClose(got.perClass.intersection, want.intersection, SUM_TOL, 'intersection');
        expectClose(got.grad!, want.grad, gradTolerance(want.grad), 'grad');
      }
      // The two trees differ only in rounding.
      expectClose([a.loss], [b.loss], LOSS_TOL, 'subgroup vs fallback loss');
      expectClose(a.perClass.predSum, b.perClass.predSum, SUM_TOL, 'subgroup vs fallback sums');
      fast.destroy();
      plain.destroy();
    });
  });
});
