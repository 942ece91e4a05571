// f16 predictions (predType 'f16', device feature shader-f16): half the bytes to read, sums
// accumulated in f32. The reference is computed on the f16-rounded values, so the usual f32
// tolerance applies.
import { beforeAll, describe, expect, it } from 'vitest';
import { fromFloat16Bits, toFloat16Bits, type DiceLossOptions } from '../src/index.js';
import { diceReference } from '../src/reference/index.js';
import { expectClose, mulberry32, withValidation } from './helpers/gpu.js';
import { useTestEngine } from './helpers/test-engine.js';
import { gradTolerance, LOSS_TOL, SUM_TOL } from './tolerance.js';

describe('host f16 conversion', () => {
  it('rounds to nearest even and round-trips exactly representable values', () => {
    const values = [
      0,
      -0,
      1,
      -2.5,
      0.333251953125,
      65504,
      2 ** -24,
      2 ** -14,
      1 + 2 ** -11,
      1 + 3 * 2 ** -11,
      70000,
      1e-9,
    ];
    const back = fromFloat16Bits(toFloat16Bits(values));
    // 1 + 2^-11 is a tie: rounds to even (1); 1 + 3*2^-11 rounds up to 1 + 2^-9.
    expect(Array.from(back)).toEqual([
      0,
      -0,
      1,
      -2.5,
      0.333251953125,
      65504,
      2 ** -24,
      2 ** -14,
      1,
      1 + 2 ** -9,
      Infinity,
      0,
    ]);
    expect(Number.isNaN(fromFloat16Bits(toFloat16Bits([NaN]))[0])).toBe(true);
  });
});

describe('f16 predictions on the GPU', () => {
  const gpu = useTestEngine();
  const windowed = useTestEngine({ maxBindingBytes: 64 * 1024 });
  beforeAll(() => {
    // lavapipe offers shader-f16 and requestNodeDevice enables it; a device without it is
    // covered by the FEATURE_MISSING error.
    expect(gpu.device.features.has('shader-f16')).toBe(true);
  });

  const cases: [string, DiceLossOptions, 'engine' | 'windowed'][] = [
    ['vec4 path, per-class', { shape: [2, 32, 32, 4], reduce: 'per-class', predType: 'f16' }, 'engine'],
    ['scalar path, odd sizes, global', { shape: [3, 17, 13, 3], reduce: 'global', predType: 'f16' }, 'engine'],
    [
      'weighted, in binding windows',
      { shape: [2, 128, 96, 3], reduce: 'per-class', weights: [1, 2, 0.5], predType: 'f16' },
      'windowed',
    ],
  ];
  it.each(cases)('%s matches the reference on the f16-rounded values', async (_name, options, which) => {
    const n = options.shape.reduce((a, b) => a * b, 1);
    const random = mulberry32(n);
    const bits = toFloat16Bits(Float32Array.from({ length: n }, () => random()));
    const target = Float32Array.from({ length: n }, () => (random() < 0.3 ? 1 : 0));
    const got = await withValidation(gpu.device, async () => {
      const loss = await (which === 'engine' ? gpu.engine : windowed.engine).dice(options);
      if (which === 'windowed') expect(loss.plan.reduce.windows.length).toBeGreaterThan(1);
      try {
        return await loss.compute(bits, target, { grad: true });
      } finally {
        loss.destroy();
      }
    });
    const want = diceReference(fromFloat16Bits(bits), target, options);
    expectClose([got.loss], [want.loss], LOSS_TOL, 'loss');
    expectClose(got.perClass.predSum, want.predSum, SUM_TOL, 'sum of pred');
    expectClose(got.perClass.intersection, want.intersection, SUM_TOL, 'intersection');
    expectClose(got.grad!, want.grad, gradTolerance(want.grad), 'grad');
  });

  it('sums beyond f16 range stay finite (accumulated in f32)', async () => {
    const options: DiceLossOptions = { shape: [1, 512, 512, 1], reduce: 'global', predType: 'f16' };
    const n = 512 * 512;
    const ones = toFloat16Bits(new Float32Array(n).fill(1));
    const got = await withValidation(gpu.device, async () => {
      const loss = await gpu.engine.dice(options);
      try {
        return await loss.compute(ones, new Float32Array(n).fill(1));
      } finally {
        loss.destroy();
      }
    });
    expect(got.perClass.predSum[0]).toBe(n); // 262144 > 65504, exact in f32
    expect(got.loss).toBeCloseTo(0, 6);
  });
});
