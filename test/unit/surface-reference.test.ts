// The float64 surface reference (src/reference/surface/) against MONAI 1.5.0's own outputs: every
// case of test/fixtures/surface-public.jsonl.gz through the MONAI-API layer, with the tolerances
// the data set is published with (test/fixtures/README.md):
//   metrics  |a - e| <= 1e-5 * max(1, |e|), NaN and +-Infinity equal exactly;
//   losses   value |a - e| <= 1e-6 + 1e-4 |e|, gradient element |a - e| <= 1e-4 max|e| + 1e-7.
// Then the MONAI layer's option and input checks.

import { describe, expect, it } from 'vitest';
import { monaiSurface } from '../../src/reference/index.js';
import { expectLossClose, expectMetricClose, fromJson, loadSurfaceCases } from '../helpers/surface-cases.js';

describe('surface reference vs MONAI 1.5.0 (surface-public.jsonl.gz)', () => {
  const cases = loadSurfaceCases();
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
