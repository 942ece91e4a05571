// The float64 clDice reference (src/reference/cldice.ts) against MONAI's own values and autograd
// gradients (the vendored cases), and its gradient against central differences where the loss
// is smooth.
import { describe, expect, it } from 'vitest';
import { clDiceReference, mulberry32, peerReference, softSkeleton } from '../src/reference/index.js';
import { toNested, tensor } from '../src/peers/tensor.js';
import { expectGradClose, expectValueClose, loadClDiceCases } from './helpers/cldice-cases.js';

describe('clDice float64 reference vs MONAI 1.5.0', () => {
  const cases = loadClDiceCases();
  it('has the 100 vendored cases', () => expect(cases.length).toBe(100));
  for (const c of cases) {
    it(`${c.id} ${c.api} ${JSON.stringify(c.options)} [${c.x.shape}]`, () => {
      const r = clDiceReference(c.x.data, c.y.data, {
        shape: c.x.shape,
        iterations: c.options.iter_,
        smooth: c.options.smooth,
        alpha: c.api === 'SoftclDiceLoss' ? 1 : (c.options.alpha ?? 0.5),
      });
      expectValueClose(r.loss, c.expected.value, 'value');
      expectGradClose(r.grad, c.expected.grad, 'gradient');
    });
  }
});

describe('peer registry: monai.losses.SoftclDiceLoss / SoftDiceclDiceLoss with MONAI option names', () => {
  const cases = loadClDiceCases();
  it('reproduces every vendored value, and rejects a non-integer iter_', () => {
    for (const c of cases) {
      const fn = peerReference[`monai.losses.${c.api}`];
      const nested = (t: { shape: number[]; data: number[] }) => toNested(tensor(t.shape, t.data));
      expectValueClose(fn(c.options, nested(c.x), nested(c.y)) as number, c.expected.value, c.id);
    }
    const c = cases[0];
    expect(() =>
      peerReference['monai.losses.SoftclDiceLoss'](
        { iter_: 1.5 },
        toNested(tensor(c.x.shape, c.x.data)),
        toNested(tensor(c.y.shape, c.y.data)),
      ),
    ).toThrow(/iter_/);
  });
});

describe('clDice float64 reference: gradient by central differences', () => {
  // Inputs drawn from a coarse grid of distinct values keep every min/max choice and relu sign
  // away from ties, so the loss is smooth in a neighbourhood of h = 1e-6 and the difference
  // quotient is accurate to ~1e-8.
  const shapes = [
    [1, 2, 7, 6],
    [2, 3, 5, 4],
    [1, 2, 4, 5, 3],
  ];
  for (const shape of shapes) {
    it(`[${shape}] iterations 2, alpha 0.4`, () => {
      const random = mulberry32(shape.reduce((a, b) => a * 31 + b, 7));
      const n = shape.reduce((a, b) => a * b, 1);
      const values = Array.from({ length: n }, (_, i) => (i + 1) / (n + 1));
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [values[i], values[j]] = [values[j], values[i]];
      }
      const pred = Float64Array.from(values);
      const target = Float64Array.from({ length: n }, () => (random() < 0.4 ? 1 : 0));
      const options = { shape, iterations: 2, smooth: 0.5, alpha: 0.4 };
      const { grad } = clDiceReference(pred, target, options);
      const h = 1e-6 / (n + 1);
      const numeric = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const plus = Float64Array.from(pred);
        const minus = Float64Array.from(pred);
        plus[i] += h;
        minus[i] -= h;
        numeric[i] =
          (clDiceReference(plus, target, options).loss - clDiceReference(minus, target, options).loss) / (2 * h);
      }
      let max = 0;
      for (const g of numeric) max = Math.max(max, Math.abs(g));
      expect(max).toBeGreaterThan(0);
      for (let i = 0; i < n; i++) expect(Math.abs(grad[i] - numeric[i])).toBeLessThanOrEqual(1e-6 * max + 1e-9);
    });
  }
});

describe('soft skeleton', () => {
  it('of a 1-voxel-thin line is the line itself', () => {
    const [H, W] = [7, 9];
    const x = new Float64Array(H * W);
    for (let w = 1; w < 8; w++) x[3 * W + w] = 1;
    expect(Array.from(softSkeleton(x, [1, 1, H, W], 3))).toEqual(Array.from(x));
  });
  it('of an empty volume is empty', () => {
    expect(softSkeleton(new Float64Array(2 * 4 * 4 * 4), [1, 2, 4, 4, 4], 2).every((v) => v === 0)).toBe(true);
  });
});
