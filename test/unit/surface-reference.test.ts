// The float64 surface reference (src/reference/surface/) against MONAI 1.5.0's own outputs: every
// case of test/fixtures/surface-public.jsonl.gz through the MONAI-API layer, with the tolerances
// the data set is published with (test/fixtures/README.md):
//   metrics  |a - e| <= 1e-5 * max(1, |e|), NaN and +-Infinity equal exactly;
//   losses   value |a - e| <= 1e-6 + 1e-4 |e|, gradient element |a - e| <= 1e-4 max|e| + 1e-7.
// Then the MONAI layer's option and input checks.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { monaiSurface } from '../../src/reference/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));

interface SurfaceCase {
  id: string;
  api: keyof typeof monaiSurface;
  options: Record<string, unknown>;
  note: string;
  x: { shape: number[]; data: number[] };
  y: { shape: number[]; data: number[] };
  expected: {
    value?: number;
    grad?: number[];
    valueShape?: number[] | null;
    valueData?: (number | string)[] | null;
  };
}

function loadCases(): SurfaceCase[] {
  const text = gunzipSync(readFileSync(path.resolve(here, '../fixtures/surface-public.jsonl.gz'))).toString('utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as SurfaceCase);
}

const fromJson = (v: number | string): number =>
  v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : (v as number);

function expectMetricClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const ok = Number.isFinite(e)
      ? Math.abs(a - e) <= 1e-5 * Math.max(1, Math.abs(e))
      : Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e));
    expect(ok, `${what}: element ${i} is ${a}, MONAI ${e}`).toBe(true);
  }
}

function expectLossClose(
  actual: { value: number; grad: ArrayLike<number>; valueShape: number[] | null; valueData: ArrayLike<number> | null },
  c: SurfaceCase,
): void {
  const e = c.expected;
  expect(actual.valueShape).toEqual(e.valueShape ?? null);
  const limit = 1e-6 + 1e-4 * Math.abs(e.value!);
  expect(Math.abs(actual.value - e.value!) <= limit, `value ${actual.value}, MONAI ${e.value} (limit ${limit})`).toBe(
    true,
  );
  if (e.valueData) {
    const values = actual.valueData!;
    e.valueData.forEach((v, i) =>
      expect(Math.abs(values[i] - fromJson(v)) <= 1e-6 + 1e-4 * Math.abs(fromJson(v)), `value element ${i}`).toBe(true),
    );
  }
  const grad = e.grad!;
  expect(actual.grad.length).toBe(grad.length);
  const max = grad.reduce((m, g) => Math.max(m, Math.abs(g)), 0);
  const gradLimit = 1e-4 * max + 1e-7;
  let worst = 0;
  let worstAt = -1;
  for (let i = 0; i < grad.length; i++) {
    const err = Math.abs(actual.grad[i] - grad[i]);
    if (!(err <= worst)) {
      worst = err;
      worstAt = i;
    }
  }
  expect(
    worst <= gradLimit,
    `gradient element ${worstAt}: ${actual.grad[worstAt]}, MONAI ${grad[worstAt]} (limit ${gradLimit})`,
  ).toBe(true);
}

describe('surface reference vs MONAI 1.5.0 (surface-public.jsonl.gz)', () => {
  const cases = loadCases();
  it('holds the 150 public cases', () => expect(cases.length).toBe(150));
  for (const c of cases) {
    it(`${c.id} ${JSON.stringify(c.options)} [${c.x.shape}]`, () => {
      const fn = monaiSurface[c.api];
      expect(fn, `no reference for ${c.api}`).toBeDefined();
      if (c.api.startsWith('compute_')) {
        const r = (fn as typeof monaiSurface.compute_hausdorff_distance)(c.options, c.x, c.y);
        expect(r.shape).toEqual(c.expected.valueShape);
        expectMetricClose(r.data, c.expected.valueData!.map(fromJson), c.note);
      } else {
        expectLossClose((fn as typeof monaiSurface.HausdorffDTLoss)(c.options, c.x, c.y), c);
      }
    });
  }
});

describe('MONAI layer: options, shapes and inputs it rejects', () => {
  const mask = (shape: number[], fill: (i: number) => number) => ({
    shape,
    data: Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => fill(i)),
  });
  const pred = mask([2, 2, 4, 5], (i) => (i % 3 === 0 ? 1 : 0));
  const target = mask([2, 2, 4, 5], (i) => (i % 4 === 0 ? 1 : 0));
  const {
    compute_hausdorff_distance,
    compute_average_surface_distance,
    compute_surface_dice,
    HausdorffDTLoss,
    LogHausdorffDTLoss,
  } = monaiSurface;
  const rejects = (call: () => unknown, code: string, message: RegExp) => {
    expect(call).toThrow(message);
    try {
      call();
    } catch (e) {
      expect((e as { code?: string }).code).toBe(code);
    }
  };

  it('unknown and misspelt options, with a suggestion', () => {
    rejects(
      () => compute_hausdorff_distance({ percentil: 95 }, pred, target),
      'UNKNOWN_OPTION',
      /unknown option 'percentil' \(did you mean 'percentile'\?\)/,
    );
    rejects(
      () => compute_surface_dice({ class_thresholds: [1], symmetric: true }, pred, target),
      'UNKNOWN_OPTION',
      /MONAI's options are/,
    );
    rejects(() => HausdorffDTLoss({ smooth: 1 }, pred, target), 'UNKNOWN_OPTION', /smooth/);
  });

  it('bad values: distance metric, percentile, booleans, spacing, thresholds, reduction, activations', () => {
    rejects(
      () => compute_hausdorff_distance({ distance_metric: 'manhattan' }, pred, target),
      'INVALID_OPTION',
      /distance_metric/,
    );
    rejects(() => compute_hausdorff_distance({ percentile: 101 }, pred, target), 'INVALID_OPTION', /percentile/);
    rejects(() => compute_hausdorff_distance({ percentile: -1 }, pred, target), 'INVALID_OPTION', /percentile/);
    rejects(() => compute_hausdorff_distance({ directed: 1 }, pred, target), 'INVALID_OPTION', /true or false/);
    rejects(() => compute_average_surface_distance({ spacing: 0 }, pred, target), 'INVALID_OPTION', /positive/);
    rejects(
      () => compute_average_surface_distance({ spacing: [1, 2, 3] }, pred, target),
      'INVALID_OPTION',
      /3 numbers but the input has 2 spatial/,
    );
    rejects(
      () => compute_average_surface_distance({ spacing: [[1, 2]] }, pred, target),
      'INVALID_OPTION',
      /1 lists but the batch has 2/,
    );
    rejects(
      () => compute_average_surface_distance({ spacing: [[1, 2], 3] }, pred, target),
      'INVALID_OPTION',
      /same type/,
    );
    rejects(() => compute_surface_dice({}, pred, target), 'INVALID_OPTION', /class_thresholds' is required/);
    rejects(
      () => compute_surface_dice({ class_thresholds: [1, 2] }, pred, target),
      'INVALID_OPTION',
      /number of classes \(1/,
    );
    rejects(() => compute_surface_dice({ class_thresholds: [-1] }, pred, target), 'INVALID_OPTION', />= 0/);
    rejects(() => compute_surface_dice({ class_thresholds: [Infinity] }, pred, target), 'INVALID_OPTION', /finite/);
    rejects(
      () => compute_surface_dice({ class_thresholds: [1], use_subvoxels: true, spacing: 2 }, pred, target),
      'INVALID_OPTION',
      /TypeError/,
    );
    rejects(() => HausdorffDTLoss({ sigmoid: true, softmax: true }, pred, target), 'INVALID_OPTION', /Incompatible/);
    rejects(() => HausdorffDTLoss({ other_act: 'torch.tanh' }, pred, target), 'INVALID_OPTION', /other_act/);
    rejects(() => LogHausdorffDTLoss({ reduction: 'mean_batch' }, pred, target), 'INVALID_OPTION', /reduction/);
    rejects(() => HausdorffDTLoss({ alpha: NaN }, pred, target), 'INVALID_OPTION', /alpha/);
  });

  it('shapes and inputs: mismatched shapes, non-binary masks, ranks, label maps, non-finite values', () => {
    rejects(
      () =>
        compute_hausdorff_distance(
          {},
          pred,
          mask([2, 2, 5, 4], () => 0),
        ),
      'INVALID_SHAPE',
      /same shapes/,
    );
    rejects(
      () =>
        compute_hausdorff_distance(
          {},
          pred,
          mask([2, 2, 4, 5], (i) => (i === 7 ? 2 : 0)),
        ),
      'INVALID_INPUT',
      /binary mask.*element 7 is 2/,
    );
    rejects(
      () => compute_hausdorff_distance({}, { shape: [2, 2, 4, 5], data: [1] }, target),
      'INVALID_SHAPE',
      /holds 1 values/,
    );
    rejects(
      () =>
        compute_surface_dice(
          { class_thresholds: [1] },
          mask([1, 2, 6], () => 0),
          mask([1, 2, 6], () => 0),
        ),
      'INVALID_SHAPE',
      /\[B, C, H, W\]/,
    );
    rejects(
      () =>
        HausdorffDTLoss(
          {},
          mask([1, 2, 6], () => 0.5),
          mask([1, 2, 6], () => 0),
        ),
      'INVALID_SHAPE',
      /4-5 dimensions/,
    );
    rejects(
      () =>
        HausdorffDTLoss(
          {},
          mask([1, 3, 2, 2], () => 0.5),
          mask([1, 1, 2, 2], () => 0),
        ),
      'INVALID_SHAPE',
      /to_onehot_y/,
    );
    rejects(
      () =>
        HausdorffDTLoss(
          { to_onehot_y: true },
          mask([1, 3, 2, 2], () => 0.5),
          mask([1, 1, 2, 2], () => 3),
        ),
      'INVALID_INPUT',
      /label 3/,
    );
    rejects(
      () =>
        HausdorffDTLoss(
          {},
          mask([1, 2, 2, 2], (i) => (i ? 0.5 : NaN)),
          mask([1, 2, 2, 2], () => 0),
        ),
      'INVALID_INPUT',
      /finite/,
    );
  });

  it('MONAI semantics: percentile 0 is the maximum; one channel keeps its background; one-channel losses ignore softmax / to_onehot_y', () => {
    expect(Array.from(compute_hausdorff_distance({ percentile: 0 }, pred, target).data)).toEqual(
      Array.from(compute_hausdorff_distance({}, pred, target).data),
    );
    const one = (m: { shape: number[]; data: number[] }) => ({ shape: [2, 1, 4, 5], data: m.data.slice(0, 40) });
    expect(compute_hausdorff_distance({ include_background: false }, one(pred), one(target)).shape).toEqual([2, 1]);
    const x = mask([2, 1, 4, 5], (i) => ((i * 37) % 11) / 11);
    const y = mask([2, 1, 4, 5], (i) => (i % 3 === 0 ? 1 : 0));
    const plain = HausdorffDTLoss({ include_background: true }, x, y);
    const ignored = HausdorffDTLoss({ softmax: true, to_onehot_y: true, include_background: false }, x, y);
    expect(ignored.value).toBe(plain.value);
    expect(Array.from(ignored.grad)).toEqual(Array.from(plain.grad));
  });
});
