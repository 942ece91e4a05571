// MONAI's surface presets (engine.presets.monai: compute_hausdorff_distance, HausdorffDistanceMetric,
// compute_average_surface_distance, SurfaceDistanceMetric, compute_surface_dice, SurfaceDiceMetric,
// HausdorffDTLoss, LogHausdorffDTLoss) on the GPU:
// - the 150 MONAI 1.5.0 cases (test/fixtures/surface-public.jsonl.gz): every metric value through
//   evaluate(); every loss value through evaluate(), and value and gradient through
//   create().compute(..., { grad: true }); the tolerances the set is published with
//   (test/helpers/surface-cases.ts);
// - random option combinations of every kind the set draws from against the float64 reference of
//   the MONAI APIs (wgsl-dice/reference monaiSurface: an independent mapping of the same options),
//   with the same tolerances;
// - the metric classes' aggregate() against do_metric_reduction of the reference's values; the
//   extras (spacing, layout); the typed errors MONAI's argument checks become.
// One engine and one preset object per API (their caches reuse pipelines and programs).
import { describe, expect, it } from 'vitest';
import type { DiceEngine } from '../src/index.js';
import { doMetricReduction } from '../src/peers/monai.js';
import { tensor, toNested } from '../src/peers/tensor.js';
import { monaiSurface } from '../src/reference/index.js';
import { mulberry32 } from '../src/reference/random.js';
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
/** Random cases per metric API (and twice as many loss cases); more with WGSL_DICE_FUZZ_SURFACE_PRESETS=N. */
const FUZZ = Number(process.env.WGSL_DICE_FUZZ_SURFACE_PRESETS ?? 12);

type LossApi = 'HausdorffDTLoss' | 'LogHausdorffDTLoss';
type MetricApi = 'compute_hausdorff_distance' | 'compute_average_surface_distance' | 'compute_surface_dice';

/** Nested arrays (any depth) as a flat list and their shape. */
function flatten(value: unknown): { shape: number[]; data: number[] } {
  const shape: number[] = [];
  for (let level = value; Array.isArray(level); level = level[0]) shape.push(level.length);
  return { shape, data: Array.isArray(value) ? (value.flat(Infinity) as number[]) : [value as number] };
}

async function presetMetric(engine: DiceEngine, c: SurfaceCase): Promise<number[]> {
  const preset = engine.presets.monai[c.api as MetricApi](c.options);
  const value = await preset.evaluate(Float32Array.from(c.x.data), Float32Array.from(c.y.data), {
    inputShape: c.x.shape,
    targetShape: c.y.shape,
  });
  const { shape, data } = flatten(value);
  expect(shape, "MONAI returns [B, C']").toEqual(c.expected.valueShape);
  return data;
}

/** The loss value through evaluate(), then value and gradient through create().compute(). */
async function presetLoss(
  engine: DiceEngine,
  c: SurfaceCase,
): Promise<{ evaluated: LossOutcome; created: LossOutcome }> {
  const preset = engine.presets.monai[c.api as LossApi](c.options);
  const x = Float32Array.from(c.x.data);
  const value = await preset.evaluate(x, Float32Array.from(c.y.data), {
    inputShape: c.x.shape,
    targetShape: c.y.shape,
  });
  const { shape, data } = flatten(value);
  const none = typeof value !== 'number';
  const evaluated: LossOutcome = {
    value: data.reduce((a, b) => a + b, 0),
    grad: c.expected.grad!, // checked through create() below
    valueShape: none ? shape : null,
    valueData: none ? data : null,
  };
  const loss = await preset.create(c.x.shape, { targetShape: c.y.shape });
  try {
    const target = loss.options.target === 'dense' ? Float32Array.from(c.y.data) : Uint32Array.from(c.y.data);
    const r = await loss.compute(x, target, { grad: true });
    const created: LossOutcome = {
      value: r.loss,
      grad: r.grad!,
      valueShape: none ? shape : null,
      valueData: r.values ?? null,
    };
    return { evaluated, created };
  } finally {
    loss.destroy();
  }
}

describe('MONAI 1.5.0 surface cases through engine.presets.monai (surface-public.jsonl.gz)', () => {
  const cases = loadSurfaceCases();
  it('holds the 150 public cases, each of an API the presets have', () => {
    expect(cases.length).toBe(150);
  });
  for (const c of cases) {
    it(`${c.id} ${JSON.stringify(c.options)} [${c.x.shape}]`, async () => {
      if (c.api.startsWith('compute_')) {
        expectMetricClose(await presetMetric(gpu.engine, c), c.expected.valueData!.map(fromJson), c.note);
      } else {
        const { evaluated, created } = await presetLoss(gpu.engine, c);
        expectLossClose(evaluated, c);
        expectLossClose(created, c);
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Random option combinations against the float64 reference of the MONAI APIs
// ---------------------------------------------------------------------------------------------

const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** One-hot or multi-label 0/1 masks [B, C, ...spatial]: blobs, boxes, lines, voxels, noise, empty, full. */
function masks(shape: readonly number[], random: () => number, oneHot: boolean): number[] {
  const [B, C, ...spatial] = shape;
  const size = numel(spatial);
  const out = new Array<number>(B * C * size).fill(0);
  const coords = (i: number) => {
    const c: number[] = [];
    for (let a = spatial.length - 1; a >= 0; a--) {
      c[a] = i % spatial[a];
      i = Math.floor(i / spatial[a]);
    }
    return c;
  };
  for (let b = 0; b < B; b++) {
    if (oneHot) {
      // Labels from blobs of classes 1.. over a background of 0.
      const centres = Array.from({ length: C }, () => spatial.map((s) => random() * s));
      const radii = Array.from({ length: C }, () => spatial.map((s) => 0.5 + random() * s * 0.45));
      for (let i = 0; i < size; i++) {
        const p = coords(i);
        let label = 0;
        for (let c = 1; c < C; c++) {
          if (p.reduce((s, x, a) => s + ((x - centres[c][a]) / radii[c][a]) ** 2, 0) <= 1) label = c;
        }
        out[(b * C + label) * size + i] = 1;
      }
      continue;
    }
    for (let c = 0; c < C; c++) {
      const family = Math.floor(random() * 7);
      const centre = spatial.map((s) => random() * s);
      const radius = spatial.map((s) => 0.5 + random() * s * 0.5);
      const axis = Math.floor(random() * spatial.length);
      const at = spatial.map((s) => Math.floor(random() * s));
      for (let i = 0; i < size; i++) {
        const p = coords(i);
        const inside = [
          () => p.reduce((s, x, a) => s + ((x - centre[a]) / radius[a]) ** 2, 0) <= 1,
          () => p.every((x, a) => Math.abs(x - centre[a]) <= radius[a] / 2),
          () => p.every((x, a) => a === axis || x === at[a]),
          () => p.every((x, a) => x === at[a]),
          () => random() < 0.3,
          () => false,
          () => true,
        ][family]();
        out[(b * C + c) * size + i] = inside ? 1 : 0;
      }
    }
  }
  return out;
}

function randomShape(random: () => number, dims: number, maxSide: number, channels?: number): number[] {
  const B = 1 + Math.floor(random() * 2);
  const C = channels ?? 1 + Math.floor(random() * 3);
  return [B, C, ...Array.from({ length: dims }, () => 1 + Math.floor(random() * maxSide))];
}

function randomSpacing(random: () => number, B: number, dims: number, perAxisOnly: boolean): unknown {
  const value = () => Math.round((0.3 + random() * 2) * 100) / 100;
  const form = Math.floor(random() * 4);
  if (form === 0) return perAxisOnly ? undefined : null;
  if (form === 1 && !perAxisOnly) return value();
  if (form === 2 || perAxisOnly) return Array.from({ length: dims }, value);
  return Array.from({ length: B }, () => Array.from({ length: dims }, value));
}

const pick = <T>(random: () => number, values: readonly T[]): T => values[Math.floor(random() * values.length)];

function randomMetricCase(api: MetricApi, random: () => number): { options: Record<string, unknown>; shape: number[] } {
  const dims = api === 'compute_surface_dice' ? pick(random, [2, 3]) : pick(random, [1, 2, 2, 3]);
  const shape = randomShape(random, dims, dims === 3 ? 9 : 17);
  const options: Record<string, unknown> = {};
  if (random() < 0.5) options.include_background = random() < 0.5;
  const metric = pick(random, ['euclidean', 'euclidean', 'chessboard', 'taxicab', undefined]);
  if (metric) options.distance_metric = metric;
  const subvoxels = api === 'compute_surface_dice' && random() < 0.4;
  if (subvoxels) options.use_subvoxels = true;
  const spacing = randomSpacing(random, shape[0], dims, subvoxels);
  if (spacing !== undefined) options.spacing = spacing;
  if (api === 'compute_hausdorff_distance') {
    const p = pick(random, [undefined, null, 95, 50, 0, 25, 99, 100, 37.5]);
    if (p !== undefined) options.percentile = p;
    if (random() < 0.5) options.directed = random() < 0.5;
  } else if (api === 'compute_average_surface_distance') {
    if (random() < 0.6) options.symmetric = random() < 0.5;
  } else {
    const kept = shape[1] - (options.include_background !== true && shape[1] > 1 ? 1 : 0);
    options.class_thresholds = Array.from({ length: kept }, () => pick(random, [0, 0.5, 1, 1.5, 2, 3.2]));
  }
  return { options, shape };
}

describe('MONAI surface presets against the float64 reference on random option combinations', () => {
  const apis: MetricApi[] = ['compute_hausdorff_distance', 'compute_average_surface_distance', 'compute_surface_dice'];
  for (const api of apis) {
    it(`${api}: ${FUZZ} random cases`, async () => {
      const random = mulberry32(apis.indexOf(api) + 2030);
      for (let i = 0; i < FUZZ; i++) {
        const { options, shape } = randomMetricCase(api, random);
        const x = masks(shape, random, i % 3 === 0);
        const y = masks(shape, random, i % 3 === 0);
        const what = `${api} case ${i} ${JSON.stringify(options)} [${shape}]`;
        const expected = monaiSurface[api](options, { shape, data: x }, { shape, data: y });
        const got = await gpu.engine.presets.monai[api](options).evaluate(x, y, {
          inputShape: shape,
          targetShape: shape,
        });
        expectMetricClose(flatten(got).data, expected.data, what);
      }
    });
  }

  it(`HausdorffDTLoss and LogHausdorffDTLoss: ${2 * FUZZ} random cases, value by evaluate(), value and gradient by create()`, async () => {
    const random = mulberry32(2040);
    for (let i = 0; i < 2 * FUZZ; i++) {
      const api: LossApi = i % 2 === 0 ? 'HausdorffDTLoss' : 'LogHausdorffDTLoss';
      const shape = randomShape(random, pick(random, [2, 3]), 8, 1 + Math.floor(random() * 3));
      const [B, C, ...spatial] = shape;
      const options: Record<string, unknown> = {};
      const activation = pick(random, ['none', 'sigmoid', 'softmax']);
      if (activation !== 'none') options[activation] = true;
      if (random() < 0.5) options.alpha = pick(random, [0.5, 1, 2, 3]);
      if (random() < 0.5) options.include_background = random() < 0.5;
      if (random() < 0.5) options.batch = random() < 0.5;
      if (random() < 0.6) options.reduction = pick(random, ['mean', 'sum', 'none']);
      const onehot = random() < 0.4;
      if (onehot) options.to_onehot_y = true;
      const size = numel(spatial);
      const x = Array.from({ length: B * C * size }, () =>
        activation === 'none' ? pick(random, [0, 0.25, 0.5, 0.75, 1, random()]) : random() * 6 - 3,
      );
      const labelMap = onehot && C > 1;
      const targetShape = labelMap ? [B, 1, ...spatial] : shape;
      const y = labelMap
        ? Array.from({ length: B * size }, () => Math.floor(random() * C))
        : masks(shape, random, C > 1 && random() < 0.5);
      const expected = monaiSurface[api](options, { shape, data: x }, { shape: targetShape, data: y });
      const c = {
        id: `${api} random ${i}`,
        api,
        options,
        note: '',
        x: { shape, data: x },
        y: { shape: targetShape, data: y },
        expected: {
          value: expected.value,
          grad: Array.from(expected.grad),
          valueShape: expected.valueShape,
          valueData: expected.valueData ? Array.from(expected.valueData) : null,
        },
      } satisfies SurfaceCase;
      const { evaluated, created } = await presetLoss(gpu.engine, c);
      expectLossClose(evaluated, c);
      expectLossClose(created, c);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Metric classes, extras, create() and errors
// ---------------------------------------------------------------------------------------------

describe('MONAI surface metric classes, extras and errors', () => {
  const shape = [2, 3, 7, 9];
  const random = mulberry32(2050);
  const x = masks(shape, random, false);
  const y = masks(shape, random, false);
  const spacing = [0.5, 1.25];

  it("metric classes: evaluate(y_pred, y, { spacing }) is __call__ then aggregate() with the class's reduction", async () => {
    const classes = [
      ['HausdorffDistanceMetric', 'compute_hausdorff_distance', { percentile: 95 }],
      ['SurfaceDistanceMetric', 'compute_average_surface_distance', { symmetric: true }],
      ['SurfaceDiceMetric', 'compute_surface_dice', { class_thresholds: [1, 0.5] }],
    ] as const;
    for (const [name, fn, options] of classes) {
      const reference = monaiSurface[fn]({ ...options, spacing }, { shape, data: x }, { shape, data: y });
      for (const reduction of ['mean', 'sum', 'mean_batch', 'sum_channel', 'none'] as const) {
        const preset = gpu.engine.presets.monai[name]({ ...options, reduction });
        const got = await preset.evaluate(x, y, { inputShape: shape, targetShape: shape, spacing });
        const want = doMetricReduction(tensor(reference.shape, reference.data), reduction).value;
        const what = `${name} reduction ${reduction}`;
        expect(flatten(got).shape, what).toEqual(want.shape);
        expectMetricClose(flatten(got).data, want.data, what);
      }
      // The default reduction is 'mean'; options report MONAI's defaults.
      const preset = gpu.engine.presets.monai[name](options);
      expect(preset.options.reduction).toBe('mean');
      expect(preset.options.get_not_nans).toBe(false);
      expect(preset.options.include_background).toBe(false);
    }
  });

  it('a layout in extras moves C to axis 1 (evaluate); create() gives the engine object of the same values', async () => {
    const options = { percentile: 95, include_background: true, spacing };
    const preset = gpu.engine.presets.monai.compute_hausdorff_distance(options);
    const first = flatten(await preset.evaluate(x, y, { inputShape: shape, targetShape: shape })).data;
    const lastShape = [shape[0], ...shape.slice(2), shape[1]];
    const toLast = (data: number[]) => {
      const t = tensor(shape, Float64Array.from(data));
      const [B, C, H, W] = shape;
      const out = new Float64Array(t.data.length);
      for (let b = 0; b < B; b++)
        for (let c = 0; c < C; c++)
          for (let i = 0; i < H * W; i++) out[(b * H * W + i) * C + c] = t.data[(b * C + c) * H * W + i];
      return out;
    };
    const last = await preset.evaluate(toLast(x), toLast(y), {
      inputShape: lastShape,
      targetShape: lastShape,
      layout: 'NHWC',
    });
    expect(flatten(last).data).toEqual(first);
    const metrics = await preset.create(shape);
    try {
      const r = await metrics.compute(Float32Array.from(x), Float32Array.from(y));
      expect(Array.from(r.hausdorff!)).toEqual(first);
    } finally {
      metrics.destroy();
    }
    // Nested arrays in, [B, C'] nested arrays out.
    const nestedX = toNested(tensor(shape, Float64Array.from(x)));
    const nestedY = toNested(tensor(shape, Float64Array.from(y)));
    expect(flatten(await preset.evaluate(nestedX, nestedY)).data).toEqual(first);
  });

  it('exclusive one-hot masks (sent as label maps) and masks that are not (sent dense) give the values of the dense program', async () => {
    // evaluate() packs one-hot masks as u8 label maps; create() always plans the dense f32
    // program. Each pair must agree bitwise: one-hot masks, one-hot with a dropped channel 0 of
    // any 0/1 pattern (still packed), and overlapping kept channels (not packed).
    const shape3 = [2, 4, 9, 8, 7];
    const oneHot = (seed: number) => masks(shape3, mulberry32(seed), true);
    const overlapping = (data: number[]) =>
      data.map((v, i) => (i % 13 === 0 && i >= 2 * numel(shape3.slice(2)) ? 1 : v));
    const noisyBackground = (data: number[]) =>
      data.map((v, i) => (i < numel(shape3.slice(2)) ? ((i * 7) % 3) & 1 : v));
    const pairs = [
      ['one-hot', oneHot(1), oneHot(2)],
      ['dropped channel 0 not one-hot', noisyBackground(oneHot(3)), oneHot(4)],
      ['overlapping classes', overlapping(oneHot(5)), oneHot(6)],
    ] as const;
    const apis = [
      ['compute_hausdorff_distance', { percentile: 95 }],
      ['compute_average_surface_distance', {}],
      ['compute_surface_dice', { class_thresholds: [1, 1, 1] }],
    ] as const;
    for (const [api, options] of apis) {
      const preset = gpu.engine.presets.monai[api](options);
      const metrics = await preset.create(shape3);
      try {
        for (const [what, px, py] of pairs) {
          const got = flatten(await preset.evaluate(px, py, { inputShape: shape3, targetShape: shape3 })).data;
          const r = await metrics.compute(Float32Array.from(px), Float32Array.from(py));
          const dense =
            api === 'compute_hausdorff_distance'
              ? r.hausdorff
              : api === 'compute_average_surface_distance'
                ? r.averageSurfaceDistance
                : r.surfaceDice;
          expect(got, `${api}, ${what}`).toEqual(Array.from(dense!));
        }
      } finally {
        metrics.destroy();
      }
    }
  });

  it('rejects unknown options with the name meant, and MONAI argument errors as typed errors', async () => {
    const monai = gpu.engine.presets.monai;
    const code = async (fn: () => unknown) => {
      try {
        await fn();
      } catch (error) {
        return `${(error as { code?: string }).code}: ${(error as Error).message}`;
      }
      return 'no error';
    };
    expect(await code(() => monai.compute_hausdorff_distance({ percentil: 95 }))).toMatch(
      /^UNKNOWN_OPTION: .*'percentil'.*did you mean 'percentile'/,
    );
    expect(await code(() => monai.HausdorffDistanceMetric({ spacing: [1, 1] }))).toMatch(/^UNKNOWN_OPTION/);
    expect(await code(() => monai.SurfaceDistanceMetric({ symetric: true }))).toMatch(/did you mean 'symmetric'/);
    expect(await code(() => monai.SurfaceDiceMetric({ class_threshold: [1] }))).toMatch(
      /did you mean 'class_thresholds'/,
    );
    expect(await code(() => monai.HausdorffDTLoss({ alpah: 1 }))).toMatch(/did you mean 'alpha'/);
    expect(await code(() => monai.LogHausdorffDTLoss({ to_onehot: true }))).toMatch(/did you mean 'to_onehot_y'/);
    expect(await code(() => monai.compute_surface_dice({}))).toMatch(/^INVALID_OPTION: .*class_thresholds.*required/);
    expect(await code(() => monai.HausdorffDistanceMetric({ reduction: 'avg' }))).toMatch(
      /^INVALID_OPTION: .*reduction/,
    );
    expect(await code(() => monai.HausdorffDTLoss({ sigmoid: true, softmax: true }))).toMatch(/Incompatible/);
    // Shapes and arguments that MONAI refuses.
    const hd = monai.compute_hausdorff_distance();
    expect(await code(() => hd.evaluate(x, y.slice(0, 63), { inputShape: shape, targetShape: [1, 1, 7, 9] }))).toMatch(
      /^SHAPE_MISMATCH: .*same shapes/,
    );
    expect(await code(() => hd.evaluate([1, 0], [1, 0]))).toMatch(/^INVALID_SHAPE: .*three dimensions/);
    const nsd = monai.compute_surface_dice({ class_thresholds: [1, 1, 1] });
    expect(await code(() => nsd.evaluate(x, y, { inputShape: shape, targetShape: shape }))).toMatch(
      /^INVALID_OPTION: .*number of class thresholds/,
    );
    expect(
      await code(() =>
        monai
          .compute_hausdorff_distance({ spacing: [1, 2, 3] })
          .evaluate(x, y, { inputShape: shape, targetShape: shape }),
      ),
    ).toMatch(/^INVALID_OPTION: .*3 numbers.*2 spatial/);
    expect(await code(() => hd.evaluate(x, y, { inputShape: shape, targetShape: shape, spacing: [1, 1] }))).toMatch(
      /^UNKNOWN_OPTION: .*"spacing"/,
    );
    const bad = Array.from(x, (v, i) => (i === 5 ? 0.5 : v));
    expect(await code(() => hd.evaluate(bad, y, { inputShape: shape, targetShape: shape }))).toMatch(
      /^INVALID_INPUT: .*binary/,
    );
    const loss = monai.HausdorffDTLoss({ to_onehot_y: true });
    expect(await code(() => loss.evaluate(x, y, { inputShape: shape, targetShape: shape }))).toMatch(
      /^SHAPE_MISMATCH: .*label map/,
    );
    expect(await code(() => loss.create([1, 2, 5]))).toMatch(/^INVALID_SHAPE: .*2D \(NCHW\) and 3D/);
    expect(await code(() => loss.create(shape, { layout: 'NHWC' }))).toMatch(/^NOT_SUPPORTED/);
  });
});
