// Tensors larger than one storage binding: the passes are cut into binding windows at aligned
// offsets. The workgroups and their order are the same as in one window, so results must be
// bitwise identical to the unsplit path; and a real tensor over lavapipe's 128 MiB binding
// limit must match the float64 reference.
import { describe, expect, it } from 'vitest';
import type { DiceLossOptions } from '../src/index.js';
import { diceReference } from '../src/reference/index.js';
import { expectClose, mulberry32, withValidation } from './helpers/gpu.js';
import { useTestEngine } from './helpers/test-engine.js';
import { gradTolerance, LOSS_TOL, SUM_TOL } from './tolerance.js';

const WINDOW_BYTES = 1 << 20;
const whole = useTestEngine();
const windowed = useTestEngine({ maxBindingBytes: WINDOW_BYTES });

function inputs(n: number, seed: number) {
  const random = mulberry32(seed);
  return {
    pred: Float32Array.from({ length: n }, () => random()),
    target: Float32Array.from({ length: n }, () => (random() < 0.3 ? 1 : 0)),
  };
}

describe('binding windows', () => {
  const cases: [string, DiceLossOptions][] = [
    ['vec4 per-class, one sample cut in windows', { shape: [1, 512, 512, 4], reduce: 'per-class' }],
    ['scalar fallback, odd sizes', { shape: [1, 511, 509, 3], reduce: 'per-class' }],
    ['global, windows crossing samples', { shape: [3, 300, 300, 2], reduce: 'global' }],
  ];
  it.each(cases)('%s: bitwise equal to one window', async (_name, options) => {
    const n = options.shape.reduce((a, b) => a * b, 1);
    const { pred, target } = inputs(n, n);
    await withValidation(whole.device, async () => {
      const split = await windowed.engine.dice(options);
      const single = await whole.engine.dice(options);
      // Same grid, different windows: only then is bitwise equality the claim.
      expect(split.plan.reduce.chunks).toBe(single.plan.reduce.chunks);
      expect(split.plan.reduce.rowsPerChunk).toBe(single.plan.reduce.rowsPerChunk);
      expect(split.plan.backward.unitsPerChunk).toBe(single.plan.backward.unitsPerChunk);
      expect(single.plan.reduce.windows).toHaveLength(1);
      expect(split.plan.reduce.windows.length).toBeGreaterThan(1);
      expect(split.plan.backward.windows.length).toBeGreaterThan(1);
      for (const w of [...split.plan.reduce.windows, ...split.plan.backward.windows]) {
        expect(w.elementCount * 4).toBeLessThanOrEqual(WINDOW_BYTES);
        expect((w.elementBase * 4) % 256).toBe(0);
      }
      const a = await split.compute(pred, target, { grad: true });
      const b = await single.compute(pred, target, { grad: true });
      expect(a.loss).toBe(b.loss);
      expect(a.perClass).toEqual(b.perClass);
      expect(Buffer.from(a.grad!.buffer).equals(Buffer.from(b.grad!.buffer))).toBe(true);
      const want = diceReference(pred, target, options);
      expectClose([a.loss], [want.loss], LOSS_TOL, 'loss');
      expectClose(a.grad!, want.grad, gradTolerance(want.grad), 'grad');
      split.destroy();
      single.destroy();
    });
  });

  it('a 168 MB volume over the 128 MiB binding limit matches the float64 reference', async () => {
    const limit = whole.device.limits.maxStorageBufferBindingSize;
    const options: DiceLossOptions = { shape: [1, 256, 256, 160, 4], reduce: 'per-class' };
    const n = 256 * 256 * 160 * 4;
    expect(n * 4).toBeGreaterThan(limit);
    const { pred, target } = inputs(n, 99);
    const got = await withValidation(whole.device, async () => {
      const loss = await whole.engine.dice(options);
      expect(loss.plan.reduce.windows.length).toBeGreaterThan(1);
      try {
        return await loss.compute(pred, target, { grad: true });
      } finally {
        loss.destroy();
      }
    });
    const want = diceReference(pred, target, options);
    expectClose([got.loss], [want.loss], LOSS_TOL, 'loss');
    expectClose(got.perClass.intersection, want.intersection, SUM_TOL, 'intersection');
    expectClose(got.perClass.predSum, want.predSum, SUM_TOL, 'sum of pred');
    expectClose(got.grad!, want.grad, gradTolerance(want.grad), 'grad');
  }, 300_000);
});
