// The GPU distance transform and surface metrics against the float64 reference
// (src/reference/surface/), on random and adversarial masks: 1D to 3D, dense masks and label
// maps, both layouts, spacing, empty and full masks, single voxels, thin lines, masks touching
// the border. Tolerances:
//   squared distances, unit spacing, chessboard and taxicab: bitwise (the reference's value
//     rounded to f32: they are integers below 2^24);
//   euclidean distances, unit spacing: |a - e| <= 1e-6 |e| (the GPU's square root);
//   anisotropic spacing (f32 squared distances): |a - e| <= 1e-5 |e| + 1e-6;
//   metrics: |a - e| <= 1e-5 max(1, |e|), NaN and infinities exactly (MONAI's fixture tolerance).
// Then binding windows (bitwise equal to one window), determinism, the encode path and the
// typed errors.
import { describe, expect, it } from 'vitest';
import type { DiceEngine } from '../src/index.js';
import {
  distanceTransformBruteForce,
  signedDistanceTransform,
  surfaceDice,
  surfaceMetrics,
  hausdorffDistance,
} from '../src/reference/index.js';
import { mulberry32 } from '../src/reference/random.js';
import { expectClose } from './helpers/close.js';
import { expectMetricClose } from './helpers/surface-cases.js';
import { useTestEngine } from './helpers/test-engine.js';

const gpu = useTestEngine();
const small = useTestEngine({ maxBindingBytes: 4096 });
// The GPU plans (coalesced first pass, point walks, GPU grids) run on any adapter.
const gpuPlans = useTestEngine({ deviceClass: 'gpu' });

const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

type MaskFamily = 'blob' | 'empty' | 'full' | 'voxel' | 'line' | 'border' | 'noise';
const FAMILIES: MaskFamily[] = ['blob', 'empty', 'full', 'voxel', 'line', 'border', 'noise'];

/** A binary mask of `spatial` drawn from a family. */
function mask(spatial: readonly number[], family: MaskFamily, random: () => number): Uint8Array {
  const n = numel(spatial);
  const out = new Uint8Array(n);
  const coords = (i: number) => {
    const c: number[] = [];
    for (let a = spatial.length - 1; a >= 0; a--) {
      c[a] = i % spatial[a];
      i = Math.floor(i / spatial[a]);
    }
    return c;
  };
  const centre = spatial.map((s) => random() * s);
  const radius = spatial.map((s) => 1 + random() * s * 0.4);
  const axis = Math.floor(random() * spatial.length);
  const at = spatial.map((s) => Math.floor(random() * s));
  for (let i = 0; i < n; i++) {
    const c = coords(i);
    switch (family) {
      case 'blob':
        out[i] = c.reduce((s, x, a) => s + ((x - centre[a]) / radius[a]) ** 2, 0) <= 1 ? 1 : 0;
        break;
      case 'full':
        out[i] = 1;
        break;
      case 'voxel':
        out[i] = c.every((x, a) => x === at[a]) ? 1 : 0;
        break;
      case 'line':
        out[i] = c.every((x, a) => a === axis || x === at[a]) ? 1 : 0;
        break;
      case 'border':
        out[i] = c.some((x, a) => x === 0 || x === spatial[a] - 1) && c[axis] < spatial[axis] / 2 ? 1 : 0;
        break;
      case 'noise':
        out[i] = random() < 0.3 ? 1 : 0;
        break;
      default:
        out[i] = 0;
    }
  }
  return out;
}

/** Masks of every (sample, class) as dense f32 in a layout, and the volumes themselves. */
function denseOf(volumes: Uint8Array[][], spatial: readonly number[], channelsFirst: boolean): Float32Array {
  const batch = volumes.length;
  const classes = volumes[0].length;
  const size = numel(spatial);
  const out = new Float32Array(batch * classes * size);
  for (let b = 0; b < batch; b++)
    for (let c = 0; c < classes; c++)
      for (let v = 0; v < size; v++)
        out[channelsFirst ? (b * classes + c) * size + v : (b * size + v) * classes + c] = volumes[b][c][v];
  return out;
}

/** A value of the GPU's output for (b, c, v) in a layout. */
const at = (shape: readonly number[], channelsFirst: boolean, b: number, c: number, v: number) => {
  const classes = channelsFirst ? shape[1] : shape[shape.length - 1];
  const size = numel(shape) / shape[0] / classes;
  return channelsFirst ? (b * classes + c) * size + v : (b * size + v) * classes + c;
};

interface DtCase {
  name: string;
  spatial: number[];
  batch: number;
  classes: number;
  channelsFirst: boolean;
  labels: boolean;
}

const DT_CASES: DtCase[] = [
  { name: '1D dense channels-last', spatial: [37], batch: 2, classes: 3, channelsFirst: false, labels: false },
  {
    name: '2D u8 label map channels-first',
    spatial: [13, 17],
    batch: 2,
    classes: 3,
    channelsFirst: true,
    labels: true,
  },
  { name: '3D dense channels-first', spatial: [6, 7, 9], batch: 1, classes: 4, channelsFirst: true, labels: false },
  { name: '3D with unit axes', spatial: [1, 11, 1], batch: 2, classes: 2, channelsFirst: false, labels: false },
];

/** Random volumes for a case: one family per (sample, class); label maps take class c where c's mask says so. */
function volumesFor(c: DtCase, seed: number): { volumes: Uint8Array[][]; input: Float32Array | Uint8Array } {
  const random = mulberry32(seed);
  const size = numel(c.spatial);
  if (!c.labels) {
    const volumes = Array.from({ length: c.batch }, (_, b) =>
      Array.from({ length: c.classes }, (_, k) =>
        mask(c.spatial, FAMILIES[(b * c.classes + k + seed) % FAMILIES.length], random),
      ),
    );
    return { volumes, input: denseOf(volumes, c.spatial, c.channelsFirst) };
  }
  const labels = new Uint8Array(c.batch * size);
  for (let b = 0; b < c.batch; b++) {
    for (let k = 1; k < c.classes; k++) {
      const m = mask(c.spatial, FAMILIES[(b + k + seed) % FAMILIES.length], random);
      for (let v = 0; v < size; v++) if (m[v]) labels[b * size + v] = k;
    }
  }
  const volumes = Array.from({ length: c.batch }, (_, b) =>
    Array.from({ length: c.classes }, (_, k) =>
      Uint8Array.from({ length: size }, (_, v) => (labels[b * size + v] === k ? 1 : 0)),
    ),
  );
  return { volumes, input: labels };
}

describe('distance transform against the float64 brute force', () => {
  for (const c of DT_CASES) {
    it(`${c.name} [${c.spatial}]: squared bitwise, distances, chessboard, taxicab, signed, anisotropic`, async () => {
      const shape = c.channelsFirst ? [c.batch, c.classes, ...c.spatial] : [c.batch, ...c.spatial, c.classes];
      const base = {
        shape,
        layout: c.channelsFirst ? 'channels-first' : 'channels-last',
        target: c.labels ? 'u8' : 'dense',
      } as const;
      const { volumes, input } = volumesFor(c, c.spatial.length * 7);
      const spacing = c.spatial.map((_, a) => [0.5, 1.25, 2][a]);
      const variants = [
        { options: { squared: true }, ref: { squared: true }, tol: 'bitwise' },
        { options: {}, ref: {}, tol: 1e-6 },
        { options: { metric: 'chessboard' as const }, ref: { metric: 'chessboard' as const }, tol: 'bitwise' },
        { options: { metric: 'taxicab' as const }, ref: { metric: 'taxicab' as const }, tol: 'bitwise' },
        { options: { spacing }, ref: { spacing }, tol: 1e-5 },
        { options: { signed: true }, ref: 'signed', tol: 1e-6 },
      ] as const;
      const size = numel(c.spatial);
      for (const variant of variants) {
        const dt = await gpu.engine.distanceTransform({ ...base, ...variant.options });
        const { distances } = await dt.compute(input);
        dt.destroy();
        const actual: number[] = [];
        const expected: number[] = [];
        for (let b = 0; b < c.batch; b++) {
          for (let k = 0; k < c.classes; k++) {
            const m = volumes[b][k];
            const ref =
              variant.ref === 'signed'
                ? signedDistanceTransform(m, c.spatial)
                : distanceTransformBruteForce(m, c.spatial, variant.ref);
            for (let v = 0; v < size; v++) {
              actual.push(distances[at(shape, c.channelsFirst, b, k, v)]);
              expected.push(Math.fround(ref[v]));
            }
          }
        }
        const what = `${c.name} ${JSON.stringify(variant.options)}`;
        if (variant.tol === 'bitwise') expect(actual, what).toEqual(expected);
        else expectClose(actual, expected, { atol: variant.tol === 1e-5 ? 1e-6 : 0, rtol: variant.tol }, what);
      }
    });
  }

  it('GPU plans (a workgroup scans its rows tile by tile): bitwise the same distances', async () => {
    const cases: DtCase[] = [
      ...DT_CASES,
      { name: 'rows longer than a tile', spatial: [3, 600], batch: 1, classes: 2, channelsFirst: true, labels: false },
    ];
    for (const c of cases) {
      const shape = c.channelsFirst ? [c.batch, c.classes, ...c.spatial] : [c.batch, ...c.spatial, c.classes];
      const layout = c.channelsFirst ? 'channels-first' : 'channels-last';
      const { input } = volumesFor(c, 5);
      for (const metric of ['euclidean', 'taxicab'] as const) {
        const options = { shape, layout, target: c.labels ? 'u8' : 'dense', metric, squared: true } as const;
        const results = [];
        for (const engine of [gpu.engine, gpuPlans.engine]) {
          const dt = await engine.distanceTransform(options);
          results.push((await dt.compute(input)).distances);
          dt.destroy();
        }
        expect(results[1], `${c.name} ${metric}`).toEqual(results[0]);
      }
    }
  });

  it('per-sample spacing (isotropic per sample: exact integers scaled) and long rows', async () => {
    const spatial = [3, 300];
    const random = mulberry32(3);
    const volumes = [[mask(spatial, 'voxel', random)], [mask(spatial, 'line', random)]];
    const spacing = [
      [2, 2],
      [0.5, 0.5],
    ];
    const dt = await gpu.engine.distanceTransform({
      shape: [2, 1, ...spatial],
      layout: 'channels-first',
      spacing,
      squared: true,
    });
    const { distances } = await dt.compute(denseOf(volumes, spatial, true));
    dt.destroy();
    const expected = volumes.flatMap(([m], b) =>
      Array.from(distanceTransformBruteForce(m, spatial, { spacing: spacing[b], squared: true })),
    );
    expectClose(distances, expected, { atol: 0, rtol: 1e-6 }, 'per-sample spacing');
  });
});

interface MetricCase {
  name: string;
  spatial: number[];
  batch: number;
  labels: number;
  options: {
    percentile?: number | null;
    directed?: boolean;
    symmetric?: boolean;
    metric?: 'chessboard' | 'taxicab';
    spacing?: number[];
  };
}

const METRIC_CASES: MetricCase[] = [
  {
    name: '2D HD95, symmetric ASD',
    spatial: [19, 23],
    batch: 2,
    labels: 4,
    options: { percentile: 95, symmetric: true },
  },
  { name: '3D max, directed, u16 predictions', spatial: [7, 9, 8], batch: 1, labels: 3, options: { directed: true } },
  {
    name: '3D HD50 anisotropic',
    spatial: [6, 10, 7],
    batch: 2,
    labels: 3,
    options: { percentile: 50, spacing: [2, 0.7, 1.3] },
  },
  {
    name: '2D chessboard HD99',
    spatial: [16, 12],
    batch: 1,
    labels: 5,
    options: { percentile: 99, metric: 'chessboard' },
  },
  { name: '1D taxicab', spatial: [41], batch: 3, labels: 3, options: { metric: 'taxicab' } },
];

/** Label maps whose labels come from mask families (later labels over earlier ones). */
function labelMaps(c: MetricCase, seed: number): { pred: Uint8Array; target: Uint8Array } {
  const random = mulberry32(seed);
  const size = numel(c.spatial);
  const draw = (b: number, shift: number) => {
    const out = new Uint8Array(size);
    for (let k = 1; k < c.labels; k++) {
      const m = mask(c.spatial, FAMILIES[(b * 3 + k + shift) % FAMILIES.length], random);
      for (let v = 0; v < size; v++) if (m[v]) out[v] = k;
    }
    return out;
  };
  const pred = new Uint8Array(c.batch * size);
  const target = new Uint8Array(c.batch * size);
  for (let b = 0; b < c.batch; b++) {
    pred.set(draw(b, seed), b * size);
    target.set(draw(b, seed + 1), b * size);
  }
  return { pred, target };
}

describe('surface metrics against the float64 reference', () => {
  for (const c of METRIC_CASES) {
    it(`${c.name} [${c.spatial}], label maps (background dropped)`, async () => {
      const maps = labelMaps(c, c.spatial.length + c.labels);
      const target = maps.target;
      const u16 = c.name.includes('u16');
      const pred = u16 ? Uint16Array.from(maps.pred) : maps.pred;
      const tolerance = Array.from({ length: c.labels - 1 }, (_, k) => [0, 1, Math.SQRT2, 2.5][k % 4]);
      const metrics = await gpu.engine.surfaceMetrics({
        shape: [c.batch, ...c.spatial, c.labels],
        target: 'u8',
        pred: u16 ? 'u16' : 'u8',
        includeBackground: false,
        tolerance,
        ...c.options,
      });
      const r = await metrics.compute(pred, target);
      metrics.destroy();
      const size = numel(c.spatial);
      const expected = { hd: [] as number[], asd: [] as number[], nsd: [] as number[], hd0: [] as number[] };
      for (let b = 0; b < c.batch; b++) {
        for (let k = 1; k < c.labels; k++) {
          const p = Array.from(pred.subarray(b * size, (b + 1) * size), (l) => (l === k ? 1 : 0));
          const t = Array.from(target.subarray(b * size, (b + 1) * size), (l) => (l === k ? 1 : 0));
          const o = { metric: c.options.metric, spacing: c.options.spacing };
          const m = surfaceMetrics(p, t, c.spatial, {
            ...o,
            percentile: c.options.percentile ?? null,
            symmetric: c.options.symmetric,
            tolerance: tolerance[k - 1],
          });
          expected.asd.push(m.averageSurfaceDistance);
          expected.nsd.push(m.surfaceDice);
          expected.hd.push(
            hausdorffDistance(p, t, c.spatial, {
              ...o,
              percentile: c.options.percentile ?? null,
              directed: c.options.directed,
            }),
          );
        }
      }
      expectMetricClose(r.hausdorff!, expected.hd, `${c.name} hausdorff`);
      expectMetricClose(r.averageSurfaceDistance!, expected.asd, `${c.name} asd`);
      expectMetricClose(r.surfaceDice!, expected.nsd, `${c.name} nsd`);
    });
  }

  for (const spatial of [
    [14, 11],
    [6, 7, 5],
  ]) {
    it(`subvoxel surface Dice ${spatial.length}D, dense channels-first, anisotropic`, async () => {
      const random = mulberry32(spatial.length);
      const classes = 3;
      const volumes = (shift: number) => [
        Array.from({ length: classes }, (_, k) => mask(spatial, FAMILIES[(k + shift) % FAMILIES.length], random)),
      ];
      const p = volumes(0);
      const t = volumes(2);
      const spacing = spatial.map((_, a) => [1.5, 0.8, 1.1][a]);
      const tolerance = [0.5, 1, 2];
      const metrics = await gpu.engine.surfaceMetrics({
        shape: [1, classes, ...spatial],
        layout: 'channels-first',
        metrics: ['nsd'],
        subvoxels: true,
        tolerance,
        spacing,
      });
      const r = await metrics.compute(denseOf(p, spatial, true), denseOf(t, spatial, true));
      metrics.destroy();
      const expected = tolerance.map((tol, k) =>
        surfaceDice(p[0][k], t[0][k], spatial, { tolerance: tol, spacing, subvoxels: true }),
      );
      expectMetricClose(r.surfaceDice!, expected, 'subvoxel nsd');
    });
  }
});

describe('binding windows, determinism, encode path', () => {
  it('small binding windows (several windows and groups) give bitwise the results of one window', async () => {
    // 4096-byte windows hold about 4 samples of 7 x 11 voxels (f32 distances of 3 classes, plus
    // up to 255 voxels of alignment slack).
    const spatial = [7, 11];
    const c: MetricCase = { name: 'windows', spatial, batch: 5, labels: 3, options: { percentile: 90 } };
    const { pred, target } = labelMaps(c, 11);
    const options = { shape: [5, ...spatial, 3], target: 'u8' as const, percentile: 90, tolerance: 1, symmetric: true };
    const run = async (engine: DiceEngine) => {
      const metrics = await engine.surfaceMetrics(options);
      const dt = await engine.distanceTransform({ shape: [5, ...spatial, 3], target: 'u8', signed: true });
      const hd = await engine.loss({
        formula: 'hausdorff-dt',
        shape: [5, ...spatial, 3],
        activation: 'softmax',
        target: 'u8',
      });
      try {
        if (engine === small.engine) {
          expect(metrics.plan.groups.length).toBeGreaterThan(1);
          expect(dt.plan.windows.length).toBeGreaterThan(1);
          expect(hd.plan.windows.length).toBeGreaterThan(1);
        }
        const logits = Float32Array.from({ length: 5 * numel(spatial) * 3 }, (_, i) => Math.sin(i * 1.7) * 3);
        return [
          await metrics.compute(pred, target),
          (await dt.compute(target)).distances,
          await hd.compute(logits, target, { grad: true }),
        ] as const;
      } finally {
        metrics.destroy();
        dt.destroy();
        hd.destroy();
      }
    };
    const one = await run(gpu.engine);
    const many = await run(small.engine);
    expect(many).toEqual(one);
    // and again: every reduction runs in a fixed order
    expect(await run(gpu.engine)).toEqual(one);
    // GPU plans: other grids, so other sums' orders; the same integers (distances, counts).
    const [metrics, distances, hd] = await run(gpuPlans.engine);
    const [metrics1, distances1, hd1] = one;
    expect(distances).toEqual(distances1);
    expect(metrics.hausdorff).toEqual(metrics1.hausdorff);
    expect(metrics.surfaceDice).toEqual(metrics1.surfaceDice);
    expectMetricClose(metrics.averageSurfaceDistance!, metrics1.averageSurfaceDistance!, 'asd, GPU plans');
    expectClose([hd.loss], [hd1.loss], { atol: 0, rtol: 1e-6 }, 'hausdorff-dt loss');
    expectClose(hd.grad!, hd1.grad!, { atol: 1e-9, rtol: 1e-5 }, 'hausdorff-dt gradient');
  });

  it('metrics that need one direction transform one volume per pair: bitwise the values of the two-volume program', async () => {
    // Every mask family (empty and full surfaces included) over 2 samples of 6 labels; the small
    // binding windows split the one-volume program into several groups too.
    const c: MetricCase = { name: 'one direction', spatial: [9, 8, 7], batch: 2, labels: 6, options: {} };
    const { pred, target } = labelMaps(c, 31);
    const shape = [2, ...c.spatial, 6];
    const run = async (engine: DiceEngine, options: object) => {
      const metrics = await engine.surfaceMetrics({ shape, target: 'u8', includeBackground: false, ...options });
      try {
        return { volumes: metrics.plan.volumesPerPair, r: await metrics.compute(pred, target) };
      } finally {
        metrics.destroy();
      }
    };
    // Both directions: surface Dice, undirected Hausdorff distances; directed ones and the
    // prediction-to-target average are among their values.
    const both = await run(gpu.engine, { percentile: 95, directed: true, tolerance: 1 });
    const bothMax = await run(gpu.engine, { directed: true, tolerance: 1 });
    expect([both.volumes, bothMax.volumes]).toEqual([2, 2]);
    for (const engine of [gpu.engine, small.engine]) {
      const asd = await run(engine, { metrics: ['asd'] });
      const hd95 = await run(engine, { metrics: ['hausdorff'], percentile: 95, directed: true });
      const hdAsd = await run(engine, { metrics: ['hausdorff', 'asd'], directed: true });
      expect([asd.volumes, hd95.volumes, hdAsd.volumes]).toEqual([1, 1, 1]);
      expect(asd.r.averageSurfaceDistance).toEqual(both.r.averageSurfaceDistance);
      expect(hd95.r.hausdorff).toEqual(both.r.hausdorff);
      expect(hd95.r.hausdorffForward).toEqual(both.r.hausdorffForward);
      expect(hdAsd.r.hausdorff).toEqual(bothMax.r.hausdorff);
      expect(hdAsd.r.averageSurfaceDistance).toEqual(both.r.averageSurfaceDistance);
      for (const r of [asd.r, hd95.r, hdAsd.r]) {
        expect(r.predSurface).toEqual(both.r.predSurface);
        expect(r.targetSurface).toEqual(both.r.targetSurface);
      }
      expect(Array.from(hd95.r.hausdorffBackward!).every(Number.isNaN)).toBe(true);
    }
    // The symmetric average needs both directions.
    expect((await run(gpu.engine, { metrics: ['asd'], symmetric: true })).volumes).toBe(2);
  });

  it('encode() of the metrics and the Hausdorff-DT loss: the same values as compute()', async () => {
    const device = gpu.device;
    const shape = [2, 3, 10, 12];
    const random = mulberry32(9);
    const masks = Float32Array.from({ length: numel(shape) }, () => (random() < 0.4 ? 1 : 0));
    const other = Float32Array.from({ length: numel(shape) }, () => (random() < 0.4 ? 1 : 0));
    const u = GPUBufferUsage;
    const upload = (data: Float32Array<ArrayBuffer>) => {
      const b = device.createBuffer({ size: data.byteLength, usage: u.STORAGE | u.COPY_DST });
      device.queue.writeBuffer(b, 0, data);
      return b;
    };
    const read = async (b: GPUBuffer, bytes: number) => {
      const r = device.createBuffer({ size: bytes, usage: u.MAP_READ | u.COPY_DST });
      const e = device.createCommandEncoder();
      e.copyBufferToBuffer(b, 0, r, 0, bytes);
      device.queue.submit([e.finish()]);
      await r.mapAsync(GPUMapMode.READ);
      const out = new Float32Array(r.getMappedRange().slice(0));
      r.destroy();
      return out;
    };
    const pred = upload(masks);
    const target = upload(other);
    const metrics = await gpu.engine.surfaceMetrics({ shape, layout: 'channels-first', percentile: 95, tolerance: 1 });
    const stats = device.createBuffer({ size: 6 * 32, usage: u.STORAGE | u.COPY_SRC });
    let encoder = device.createCommandEncoder();
    metrics.encode(encoder, { pred, target, stats });
    device.queue.submit([encoder.finish()]);
    const words = await read(stats, 6 * 32);
    const computed = await metrics.compute(masks, other);
    expect(Array.from({ length: 6 }, (_, p) => words[p * 8])).toEqual(Array.from(computed.hausdorff!));
    expect(Array.from({ length: 6 }, (_, p) => words[p * 8 + 2])).toEqual(Array.from(computed.surfaceDice!));
    const hd = await gpu.engine.loss({
      formula: 'hausdorff-dt',
      shape,
      layout: 'channels-first',
      activation: 'sigmoid',
    });
    const logits = Float32Array.from({ length: numel(shape) }, () => random() * 4 - 2);
    const lossBuffer = device.createBuffer({ size: 4, usage: u.STORAGE | u.COPY_SRC });
    const grad = device.createBuffer({ size: logits.byteLength, usage: u.STORAGE | u.COPY_SRC });
    encoder = device.createCommandEncoder();
    hd.encode(encoder, { pred: upload(logits), target, loss: lossBuffer, grad });
    device.queue.submit([encoder.finish()]);
    const expected = await hd.compute(logits, other, { grad: true });
    expect((await read(lossBuffer, 4))[0]).toBe(expected.loss);
    expect(await read(grad, logits.byteLength)).toEqual(expected.grad);
    metrics.destroy();
    hd.destroy();
  });

  it('encode() writes the caller-given buffers; a fault reaches readStatus()', async () => {
    const device = gpu.device;
    const spatial = [8, 8];
    const dt = await gpu.engine.distanceTransform({ shape: [1, 1, ...spatial], layout: 'channels-first' });
    const maskData = new Float32Array(64);
    maskData[9] = 1;
    maskData[30] = 0.5; // not binary
    const u = GPUBufferUsage;
    const input = device.createBuffer({ size: 256, usage: u.STORAGE | u.COPY_DST });
    const output = device.createBuffer({ size: 256, usage: u.STORAGE | u.COPY_SRC });
    const readback = device.createBuffer({ size: 256, usage: u.MAP_READ | u.COPY_DST });
    device.queue.writeBuffer(input, 0, maskData);
    const encoder = device.createCommandEncoder();
    dt.encode(encoder, { mask: input, distances: output });
    encoder.copyBufferToBuffer(output, 0, readback, 0, 256);
    device.queue.submit([encoder.finish()]);
    const status = await dt.readStatus();
    expect(status.nonFiniteTarget).toBe(1);
    expect(status.firstNonFiniteTargetElement).toBe(30);
    await readback.mapAsync(GPUMapMode.READ);
    const distances = new Float32Array(readback.getMappedRange().slice(0));
    readback.unmap();
    expect(distances[9]).toBe(0);
    expect(distances[0]).toBe(Math.fround(Math.hypot(1, 1)));
    await expect(dt.compute(maskData)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: /1 mask element\(s\) \(first at element 30\)/,
    });
    for (const b of [input, output, readback]) b.destroy();
    dt.destroy();
  });
});

describe('typed errors', () => {
  const rejects = async (make: () => Promise<unknown>, code: string, message: RegExp) =>
    expect(make()).rejects.toMatchObject({ code, message: expect.stringMatching(message) });

  it('spacing, tolerances, percentiles, metrics, shapes and options', async () => {
    const e = gpu.engine;
    const shape = [1, 6, 7, 2];
    await rejects(
      () => e.distanceTransform({ shape, spacing: -1 }),
      'INVALID_OPTION',
      /spacing must hold finite positive/,
    );
    await rejects(() => e.distanceTransform({ shape, spacing: [1, NaN] }), 'INVALID_OPTION', /finite positive/);
    await rejects(
      () => e.distanceTransform({ shape, spacing: [1, 2, 3] }),
      'INVALID_OPTION',
      /3 numbers for 2 spatial axes/,
    );
    await rejects(
      () =>
        e.distanceTransform({
          shape,
          spacing: [
            [1, 2],
            [1, 2],
          ],
        }),
      'INVALID_OPTION',
      /2 lists for 1 samples/,
    );
    await rejects(
      () => e.distanceTransform({ shape, metric: 'taxicab', spacing: 2 }),
      'INVALID_OPTION',
      /takes no spacing/,
    );
    await rejects(() => e.distanceTransform({ shape: [1, 2, 2, 2, 2, 2] }), 'INVALID_SHAPE', /1 to 3/);
    await rejects(() => e.distanceTransform({ shape: [1, 16385, 1] }), 'LIMIT_EXCEEDED', /16384/);
    await rejects(
      () => e.surfaceMetrics({ shape, tolerance: -1 }),
      'INVALID_OPTION',
      /tolerances must be finite numbers >= 0/,
    );
    await rejects(() => e.surfaceMetrics({ shape, tolerance: [1, 2, 3] }), 'INVALID_OPTION', /3 entries for 2 classes/);
    await rejects(() => e.surfaceMetrics({ shape, metrics: ['nsd'] }), 'INVALID_OPTION', /needs tolerance/);
    await rejects(() => e.surfaceMetrics({ shape, percentile: 101 }), 'INVALID_OPTION', /percentile/);
    await rejects(() => e.surfaceMetrics({ shape, percentile: NaN }), 'INVALID_OPTION', /percentile/);
    await rejects(
      () => e.surfaceMetrics({ shape, subvoxels: true, tolerance: 1, metrics: ['nsd', 'hausdorff'] }),
      'INVALID_OPTION',
      /surface Dice only/,
    );
    await rejects(
      () => e.surfaceMetrics({ shape: [1, 4, 2], subvoxels: true, tolerance: 1 }),
      'INVALID_OPTION',
      /2D and 3D/,
    );
    await rejects(() => e.surfaceMetrics({ shape: [1, 4, 4, 1], includeBackground: false }), 'INVALID_OPTION', /C > 1/);
    await rejects(
      () => e.surfaceMetrics({ shape, target: 'u8', pred: 'dense' }),
      'INVALID_OPTION',
      /both be dense masks or both label maps/,
    );
    await rejects(() => e.surfaceMetrics({ shape, tolerence: 1 } as never), 'UNKNOWN_OPTION', /tolerance/);
    await rejects(() => e.loss({ formula: 'hausdorff-dt', shape, alpha: -1 }), 'INVALID_OPTION', /alpha must be >= 0/);
    await rejects(() => e.loss({ shape, mask: 'weight', boundary: {} }), 'INVALID_OPTION', /no mask/);
  });

  it('non-binary masks and labels out of range: the count and the first index', async () => {
    const metrics = await gpu.engine.surfaceMetrics({ shape: [2, 4, 4, 2], layout: 'channels-last' });
    const pred = new Float32Array(64);
    const target = new Float32Array(64);
    pred[5] = 2;
    pred[7] = NaN;
    target[60] = -1;
    await expect(metrics.compute(pred, target)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringMatching(
        /2 pred element\(s\) \(first at element 5\), 1 target element\(s\) \(first at element 60\)/,
      ),
    });
    metrics.destroy();
    const labels = await gpu.engine.surfaceMetrics({ shape: [1, 4, 4, 3], target: 'u8' });
    const good = new Uint8Array(16);
    const bad = new Uint8Array(16);
    bad[3] = 3;
    bad[9] = 7;
    await expect(labels.compute(good, bad)).rejects.toMatchObject({
      code: 'LABEL_OUT_OF_RANGE',
      message: expect.stringMatching(/2 label-map voxel\(s\).*first at voxel 3/),
    });
    labels.destroy();
  });
});
