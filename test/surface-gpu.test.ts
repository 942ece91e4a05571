// The GPU distance transform, surface metrics and distance-field losses (issue 20):
// - the 150 MONAI 1.5.0 cases (test/fixtures/surface-public.jsonl.gz) through engine.surfaceMetrics
//   and engine.loss({ formula: 'hausdorff-dt' }), MONAI's options mapped by hand with the MONAI
//   option layer (src/peers/monai-surface.ts), with the tolerances the data set is published with
//   (test/helpers/surface-cases.ts);
// - the family's boundary term against the float64 reference.
// Fuzzing against the float64 brute force, windows, determinism and errors: surface-fuzz.test.ts.
import { describe, expect, it } from 'vitest';
import type { DiceEngine } from '../src/index.js';
import {
  firstKeptChannel,
  parseAverageSurfaceDistanceOptions,
  parseHausdorffDistanceOptions,
  parseHausdorffDTLossOptions,
  parseSurfaceDiceOptions,
  resolveClassThresholds,
  resolveHausdorffDTChannels,
  resolveSpacing,
} from '../src/peers/monai-surface.js';
import { boundaryLoss } from '../src/reference/index.js';
import { mulberry32 } from '../src/reference/random.js';
import { expectClose } from './helpers/close.js';
import {
  expectLossClose,
  expectMetricClose,
  fromJson,
  loadSurfaceCases,
  type LossOutcome,
  type SurfaceCase,
} from './helpers/surface-cases.js';
import { useTestEngine } from './helpers/test-engine.js';

const gpu = useTestEngine();

/** A MONAI metric case through engine.surfaceMetrics: [B, C'] values. */
async function monaiMetric(engine: DiceEngine, c: SurfaceCase): Promise<Float32Array> {
  const [batch, channels, ...spatial] = c.x.shape;
  const common = { shape: c.x.shape, layout: 'channels-first' as const };
  let options;
  if (c.api === 'compute_hausdorff_distance') {
    const s = parseHausdorffDistanceOptions(c.options);
    options = { metrics: ['hausdorff' as const], percentile: s.percentile, directed: s.directed, ...base(s) };
  } else if (c.api === 'compute_average_surface_distance') {
    const s = parseAverageSurfaceDistanceOptions(c.options);
    options = { metrics: ['asd' as const], symmetric: s.symmetric, ...base(s) };
  } else {
    const s = parseSurfaceDiceOptions(c.options);
    const kept = channels - firstKeptChannel(s.includeBackground, channels);
    options = {
      metrics: ['nsd' as const],
      tolerance: resolveClassThresholds(s, kept),
      subvoxels: s.useSubvoxels,
      ...base(s),
    };
  }
  function base(s: {
    includeBackground: boolean;
    distanceMetric: string;
    spacing: Parameters<typeof resolveSpacing>[0];
  }) {
    return {
      // MONAI drops channel 0 only when there are at least two.
      includeBackground: firstKeptChannel(s.includeBackground, channels) === 0,
      metric: s.distanceMetric as 'euclidean',
      spacing: resolveSpacing(s.spacing, batch, spatial.length),
    };
  }
  const metrics = await engine.surfaceMetrics({ ...common, ...options });
  try {
    const r = await metrics.compute(Float32Array.from(c.x.data), Float32Array.from(c.y.data));
    return (r.hausdorff ?? r.averageSurfaceDistance ?? r.surfaceDice)!;
  } finally {
    metrics.destroy();
  }
}

/** A MONAI loss case through engine.loss({ formula: 'hausdorff-dt' }). */
async function monaiLoss(engine: DiceEngine, c: SurfaceCase): Promise<LossOutcome> {
  const api = c.api as 'HausdorffDTLoss' | 'LogHausdorffDTLoss';
  const spec = parseHausdorffDTLossOptions(c.options, api);
  const [batch, channels, ...spatial] = c.x.shape;
  const effective = resolveHausdorffDTChannels(spec, channels);
  const loss = await engine.loss({
    formula: 'hausdorff-dt',
    shape: c.x.shape,
    layout: 'channels-first',
    activation: effective.sigmoid ? 'sigmoid' : effective.softmax ? 'softmax' : 'none',
    target: effective.toOnehotY ? 'u32' : 'dense',
    alpha: spec.alpha,
    includeBackground: effective.firstChannel === 0,
    batch: spec.batch,
    reduction: spec.reduction,
    log: api === 'LogHausdorffDTLoss',
  });
  try {
    const target = effective.toOnehotY ? Uint32Array.from(c.y.data) : Float32Array.from(c.y.data);
    const r = await loss.compute(Float32Array.from(c.x.data), target, { grad: true });
    const kept = channels - effective.firstChannel;
    return {
      value: r.loss,
      grad: r.grad!,
      valueShape: spec.reduction === 'none' ? [spec.batch ? 1 : batch, kept, ...spatial.map(() => 1)] : null,
      valueData: r.values ?? null,
    };
  } finally {
    loss.destroy();
  }
}

describe('MONAI 1.5.0 surface cases on the GPU (surface-public.jsonl.gz)', () => {
  const cases = loadSurfaceCases();
  it('holds the 150 public cases', () => expect(cases.length).toBe(150));
  for (const c of cases) {
    it(`${c.id} ${JSON.stringify(c.options)} [${c.x.shape}]`, async () => {
      if (c.api.startsWith('compute_')) {
        const values = await monaiMetric(gpu.engine, c);
        expectMetricClose(values, c.expected.valueData!.map(fromJson), c.note);
      } else {
        expectLossClose(await monaiLoss(gpu.engine, c), c);
      }
    });
  }
});

describe('boundary term of engine.loss (Kervadec et al.)', () => {
  it('adds lambda * mean(p * phi) and its gradient to a softmax Dice loss, against the float64 reference', async () => {
    const shape = [2, 3, 9, 11];
    const [batch, classes, h, w] = shape;
    const size = h * w;
    const random = mulberry32(20);
    const logits = Float32Array.from({ length: batch * classes * size }, () => random() * 4 - 2);
    const labels = Uint8Array.from({ length: batch * size }, (_, i) =>
      ((i % w) + Math.floor(i / w)) % 7 < 3 ? 1 : i % 5 === 0 ? 2 : 0,
    );
    const lambda = 0.25;
    const options = { shape, layout: 'channels-first' as const, activation: 'softmax' as const, target: 'u8' as const };
    const plain = await gpu.engine.loss(options);
    const withBoundary = await gpu.engine.loss({ ...options, boundary: { lambda, spacing: [1, 2] } });
    try {
      const a = await plain.compute(logits, labels, { grad: true });
      const b = await withBoundary.compute(logits, labels, { grad: true });
      // The float64 term on the same probabilities and the one-hot target.
      const probs = new Float64Array(logits.length);
      const oneHot = new Float64Array(logits.length);
      for (let s = 0; s < batch; s++) {
        for (let v = 0; v < size; v++) {
          const at = (c: number) => (s * classes + c) * size + v;
          let m = -Infinity;
          for (let c = 0; c < classes; c++) m = Math.max(m, logits[at(c)]);
          let total = 0;
          for (let c = 0; c < classes; c++) total += Math.exp(logits[at(c)] - m);
          for (let c = 0; c < classes; c++) {
            probs[at(c)] = Math.exp(logits[at(c)] - m) / total;
            oneHot[at(c)] = labels[s * size + v] === c ? 1 : 0;
          }
        }
      }
      const ref = boundaryLoss(probs, oneHot, shape, { spacing: [1, 2] });
      expectClose(
        [b.boundary!, b.loss - a.loss],
        [ref.value, lambda * ref.value],
        { atol: 1e-6, rtol: 1e-4 },
        'boundary term',
      );
      // d/dlogits of lambda * term: through the softmax.
      const expected = new Float64Array(logits.length);
      for (let s = 0; s < batch; s++) {
        for (let v = 0; v < size; v++) {
          const at = (c: number) => (s * classes + c) * size + v;
          let dot = 0;
          for (let c = 0; c < classes; c++) dot += probs[at(c)] * ref.grad[at(c)];
          for (let c = 0; c < classes; c++) expected[at(c)] = lambda * probs[at(c)] * (ref.grad[at(c)] - dot);
        }
      }
      const difference = b.grad!.map((g, i) => g - a.grad![i]);
      const max = expected.reduce((m, g) => Math.max(m, Math.abs(g)), 0);
      expectClose(difference, expected, { atol: 1e-4 * max + 1e-7, rtol: 0 }, 'boundary gradient');
    } finally {
      plain.destroy();
      withBoundary.destroy();
    }
  });
});
