// engine.wassersteinDice (MONAI GeneralizedWassersteinDiceLoss, fixed per-sample weights for
// B > 1) on a real WebGPU device against the float64 peer reference
// (src/reference/peers/monai.ts, plain per-voxel loops) and central differences of it.
// Tolerances as in test/tolerance.ts; gradients rtol 1e-4 (finite differences carry ~1e-8).
import { describe, expect, it } from 'vitest';
import { WgslDiceError } from '../src/index.js';
import type { WassersteinDiceOptions } from '../src/spec/wasserstein.js';
import { generalizedWassersteinDiceLoss } from '../src/reference/peers/monai.js';
import { tensor } from '../src/peers/tensor.js';
import { expectClose, mulberry32, withValidation } from './helpers/gpu.js';
import { LOSS_TOL } from './tolerance.js';
import { useTestEngine } from './helpers/test-engine.js';

const gpu = useTestEngine();
// Plans as a GPU gets them (subgroup sums, unrolled class blocks), on this adapter.
const gpuPlans = useTestEngine({ deviceClass: 'gpu' });

const M3 = [
  [0, 1, 2],
  [1, 0, 1.5],
  [2, 1.5, 0],
];

/** The float64 reference on channels-first logits; per-sample values with reduction 'none'. */
function reference(o: WassersteinDiceOptions, logits: Float64Array, labels: ArrayLike<number>): number[] {
  const dims = o.shape;
  const channelsFirst = o.layout === 'channels-first';
  const B = dims[0];
  const C = channelsFirst ? dims[1] : dims[dims.length - 1];
  const S = logits.length / (B * C);
  const x = new Float64Array(logits.length);
  for (let b = 0; b < B; b++) {
    for (let s = 0; s < S; s++) {
      for (let c = 0; c < C; c++)
        x[(b * C + c) * S + s] = logits[channelsFirst ? (b * C + c) * S + s : (b * S + s) * C + c];
    }
  }
  const options = {
    dist_matrix: o.distanceMatrix as number[][],
    weighting_mode: o.weighting ?? 'default',
    reduction: o.reduction ?? 'mean',
    smooth_nr: o.smoothNumerator ?? 1e-5,
    smooth_dr: o.smoothDenominator ?? 1e-5,
  };
  const out = generalizedWassersteinDiceLoss(options, tensor([B, C, S], x), tensor([B, S], Array.from(labels)));
  return Array.from(out.data);
}

const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);

/** |i - j| between C ordered classes. */
const ordered = (C: number) =>
  Array.from({ length: C }, (_, i) => Array.from({ length: C }, (_, j) => Math.abs(i - j)));

const cases: { name: string; options: WassersteinDiceOptions; emptyClass?: number; gpuPlan?: boolean }[] = [
  {
    name: 'default weighting, channels-first, B=2',
    options: { shape: [2, 3, 4, 5], layout: 'channels-first', distanceMatrix: M3 },
  },
  {
    name: "'GDL' weighting, channels-last, u8 labels, sum, empty class",
    options: {
      shape: [3, 5, 4, 3],
      target: 'u8',
      distanceMatrix: M3.map((r) => r.map((v) => 3 * v)),
      weighting: 'GDL',
      reduction: 'sum',
    },
    emptyClass: 1,
  },
  {
    name: 'default weighting, u16 labels, reduction none, no smoothing',
    options: {
      shape: [2, 7, 4],
      target: 'u16',
      distanceMatrix: [
        [0, 1, 1, 1],
        [1, 0, 0.5, 0.7],
        [1, 0.5, 0, 0.6],
        [1, 0.7, 0.6, 0],
      ],
      reduction: 'none',
      smoothNumerator: 0,
      smoothDenominator: 0,
    },
  },
  {
    name: 'C = 20: two class blocks, each voxel softmax streamed (wider than the registers)',
    options: { shape: [2, 5, 3, 20], target: 'u8', distanceMatrix: ordered(20) },
  },
  {
    name: 'GPU plan: subgroup sums, logits in registers read as vec4s, C = 8',
    options: { shape: [2, 6, 5, 8], target: 'u16', distanceMatrix: ordered(8), weighting: 'GDL' },
    gpuPlan: true,
  },
];

describe('Generalized Wasserstein Dice against the float64 reference and its finite differences', () => {
  cases.forEach((c, index) => {
    it(c.name, async () => {
      const o = c.options;
      const B = o.shape[0];
      const C = o.distanceMatrix.length;
      const n = o.shape.reduce((a, b) => a * b, 1);
      const random = mulberry32(77 + index);
      const pred = Float32Array.from({ length: n }, () => random() * 6 - 3);
      const Type = o.target === 'u8' ? Uint8Array : o.target === 'u16' ? Uint16Array : Uint32Array;
      const labels = (Type as Uint32ArrayConstructor).from({ length: n / C }, () => {
        const l = Math.floor(random() * C);
        return l === c.emptyClass ? 0 : l;
      });
      const loss = await (c.gpuPlan ? gpuPlans : gpu).engine.wassersteinDice(o);
      const got = await withValidation(gpu.device, () => loss.compute(pred, labels, { grad: true }));
      const again = await loss.compute(pred, labels, { grad: true });
      loss.destroy();
      // Fixed-order sums: two runs agree bit for bit.
      expect(again.loss).toBe(got.loss);
      expect(Array.from(again.grad!)).toEqual(Array.from(got.grad!));

      const x0 = Float64Array.from(pred);
      const perSample = reference({ ...o, reduction: 'none' }, x0, labels);
      expectClose(got.perSample, perSample, LOSS_TOL, 'per-sample loss');
      const scalar = (x: Float64Array) => {
        const v = reference({ ...o, reduction: 'none' }, x, labels);
        return (o.reduction ?? 'mean') === 'mean' ? sum(v) / B : sum(v);
      };
      expectClose([got.loss], [scalar(x0)], LOSS_TOL, 'loss');
      const h = 1e-6;
      const fd = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const saved = x0[i];
        x0[i] = saved + h;
        const up = scalar(x0);
        x0[i] = saved - h;
        const down = scalar(x0);
        x0[i] = saved;
        fd[i] = (up - down) / (2 * h);
      }
      const max = fd.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expectClose(got.grad!, fd, { atol: 1e-4 * max + 1e-7, rtol: 1e-4 }, 'gradient vs central differences');
    });
  });
});

describe('Generalized Wasserstein Dice input checks', () => {
  it('rejects unknown options and a bad distance matrix', async () => {
    await expect(
      gpu.engine.wassersteinDice({
        shape: [1, 4, 2],
        distanceMatrix: [
          [0, 1],
          [1, 0],
        ],
        weigthing: 'GDL',
      } as WassersteinDiceOptions),
    ).rejects.toMatchObject({ code: 'UNKNOWN_OPTION' });
    await expect(
      gpu.engine.wassersteinDice({
        shape: [1, 4, 3],
        distanceMatrix: [
          [0, 1],
          [1, 0],
        ],
      }),
    ).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await expect(
      gpu.engine.wassersteinDice({
        shape: [1, 4, 2],
        distanceMatrix: [
          [0, 0],
          [0, 0],
        ],
      }),
    ).rejects.toMatchObject({ code: 'INVALID_OPTION' });
  });

  it('reports labels >= C and non-finite logits with counts and first indices', async () => {
    const loss = await gpu.engine.wassersteinDice({
      shape: [1, 4, 2],
      distanceMatrix: [
        [0, 1],
        [1, 0],
      ],
    });
    const labels = Uint32Array.from([0, 5, 1, 9]);
    const error = await loss.compute(new Float32Array(8), labels).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WgslDiceError);
    expect((error as WgslDiceError).code).toBe('LABEL_OUT_OF_RANGE');
    expect((error as Error).message).toMatch(/2 label-map voxel\(s\).*first at voxel 1/);
    const pred = new Float32Array(8);
    pred[5] = NaN;
    const nan = await loss.compute(pred, Uint32Array.from([0, 1, 1, 0])).catch((e: unknown) => e);
    expect((nan as WgslDiceError).code).toBe('NON_FINITE_INPUT');
    expect(await loss.readStatus()).toEqual({
      badLabels: 0,
      firstBadLabelVoxel: null,
      nonFinite: 1,
      firstNonFiniteElement: 5,
      nonFiniteTarget: 0,
      firstNonFiniteTargetElement: null,
      nonFiniteMask: 0,
      firstNonFiniteMaskIndex: null,
    });
    loss.destroy();
  });
});
