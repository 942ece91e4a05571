// reuseDistances: SurfaceMetrics of one engine that share their surfaces and distance fields
// (the MONAI presets' three metric calls on one pair). Every value is checked against the
// float64 reference (|a - e| <= 1e-5 max(1, |e|), NaN and infinities exactly: the surface
// tests' tolerance) and bitwise against SurfaceMetrics that share nothing; `reusedDistances`
// says which runs skipped the transforms. What must never be reused: fields of other inputs
// (a changed voxel, another pair in between, an encode() of the caller's buffers, a run that
// failed its input checks), of another spacing, or of a destroyed set.
import { describe, expect, it } from 'vitest';
import type { DiceEngine, SurfaceMetrics, SurfaceMetricsOptions, SurfaceMetricsResult } from '../src/index.js';
import { labelMapSurfaceMetrics } from '../src/reference/index.js';
import { mulberry32 } from '../src/reference/random.js';
import { expectMetricClose } from './helpers/surface-cases.js';
import { useTestEngine } from './helpers/test-engine.js';

const gpu = useTestEngine();
// Binding windows of 16 KiB: one pair's two distance volumes at a time, so the shared fields
// are windows of buffers that hold every group of pairs.
const windowed = useTestEngine({ maxBindingBytes: 16384 });

const SPATIAL = [12, 14, 10];
const LABELS = 3;
const SPACING = [1.5, 1, 0.75];
const TOLERANCE = [1, 2];
const VOXELS = SPATIAL.reduce((a, b) => a * b, 1);

/** A label-map pair: a few random boxes per label, the prediction moved and frayed. */
function pair(seed: number): { pred: Uint8Array; target: Uint8Array } {
  const random = mulberry32(seed);
  const target = new Uint8Array(VOXELS);
  const pred = new Uint8Array(VOXELS);
  const [D, H, W] = SPATIAL;
  for (let label = 1; label < LABELS; label++) {
    const lo = SPATIAL.map((n) => Math.floor(random() * n * 0.5));
    const hi = lo.map((l, a) => Math.min(SPATIAL[a] - 1, l + 2 + Math.floor(random() * SPATIAL[a] * 0.5)));
    const shift = SPATIAL.map(() => Math.floor(random() * 3) - 1);
    for (let z = 0; z < D; z++)
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) {
          const i = (z * H + y) * W + x;
          const inside = (c: number[]) => c.every((v, a) => v >= lo[a] && v <= hi[a]);
          if (inside([z, y, x])) target[i] = label;
          if (inside([z - shift[0], y - shift[1], x - shift[2]]) && random() > 0.1) pred[i] = label;
        }
  }
  return { pred, target };
}

type Kind = 'hd95' | 'asd' | 'nsd';
const METRIC_OPTIONS: Record<Kind, Partial<SurfaceMetricsOptions>> = {
  hd95: { metrics: ['hausdorff'], percentile: 95 },
  asd: { metrics: ['asd'] },
  nsd: { metrics: ['nsd'], tolerance: TOLERANCE },
};

function options(kind: Kind, extra: Partial<SurfaceMetricsOptions> = {}): SurfaceMetricsOptions {
  return {
    shape: [1, ...SPATIAL, LABELS],
    target: 'u8',
    includeBackground: false,
    spacing: SPACING,
    ...METRIC_OPTIONS[kind],
    ...extra,
  };
}

function valuesOf(kind: Kind, r: SurfaceMetricsResult): Float32Array {
  return (kind === 'hd95' ? r.hausdorff : kind === 'asd' ? r.averageSurfaceDistance : r.surfaceDice)!;
}

/** The float64 reference of `kind` for a pair (MONAI's conventions: ASD one direction, HD95 symmetric). */
function expected(kind: Kind, p: { pred: Uint8Array; target: Uint8Array }, spacing = SPACING): number[] {
  const rows = labelMapSurfaceMetrics(p.pred, p.target, SPATIAL, {
    labels: LABELS,
    tolerance: TOLERANCE,
    percentile: 95,
    spacing,
  });
  return rows.map((r) => (kind === 'hd95' ? r.hausdorff : kind === 'asd' ? r.averageSurfaceDistance : r.surfaceDice));
}

/** Three SurfaceMetrics that share their fields, and three that share nothing. */
async function sets(extra: Partial<SurfaceMetricsOptions> = {}, engine: DiceEngine = gpu.engine) {
  const make = (reuseDistances: boolean) =>
    Promise.all(
      (['hd95', 'asd', 'nsd'] as const).map(async (kind) => ({
        kind,
        metrics: await engine.surfaceMetrics(options(kind, { ...extra, reuseDistances })),
      })),
    );
  return { shared: await make(true), alone: await make(false) };
}

function destroyAll(...lists: { metrics: SurfaceMetrics }[][]): void {
  for (const list of lists) for (const { metrics } of list) metrics.destroy();
}

/** Runs `kind` on both sets: equal bitwise, and to the reference; returns whether the shared run reused. */
async function checkRun(
  s: Awaited<ReturnType<typeof sets>>,
  kind: Kind,
  p: { pred: Uint8Array; target: Uint8Array },
  spacing = SPACING,
): Promise<boolean> {
  const at = ['hd95', 'asd', 'nsd'].indexOf(kind);
  const got = await s.shared[at].metrics.compute(p.pred, p.target);
  const alone = await s.alone[at].metrics.compute(p.pred, p.target);
  expect(alone.reusedDistances).toBe(false);
  expect(Array.from(valuesOf(kind, got))).toEqual(Array.from(valuesOf(kind, alone)));
  expectMetricClose(valuesOf(kind, got), expected(kind, p, spacing), `${kind}`);
  return got.reusedDistances;
}

describe('reuseDistances', () => {
  it.each([
    ['one group of pairs', () => gpu.engine],
    ['groups of pairs in windows', () => windowed.engine],
  ])("reuses one pair's fields across the three metrics, and never another pair's (%s)", async (what, engine) => {
    const s = await sets({}, engine());
    if (what === 'groups of pairs in windows') {
      for (const { metrics } of s.shared) expect(metrics.plan.groups.length).toBe(2);
      expect(s.shared[0].metrics.program.reusable).toBeDefined();
    }
    try {
      const a = pair(1);
      const b = pair(2);
      expect(await checkRun(s, 'hd95', a)).toBe(false);
      expect(await checkRun(s, 'asd', a)).toBe(true);
      expect(await checkRun(s, 'nsd', a)).toBe(true);
      expect(await checkRun(s, 'hd95', a)).toBe(true);
      // Pairs in turn: each switch transforms.
      expect(await checkRun(s, 'nsd', b)).toBe(false);
      expect(await checkRun(s, 'hd95', a)).toBe(false);
      expect(await checkRun(s, 'asd', b)).toBe(false);
      expect(await checkRun(s, 'hd95', b)).toBe(true);
      // One voxel changed (a copy: equal contents in another array reuse, changed ones do not).
      const c = { pred: b.pred.slice(), target: b.target.slice() };
      expect(await checkRun(s, 'asd', c)).toBe(true);
      c.target[Math.floor(VOXELS / 2)] = (c.target[Math.floor(VOXELS / 2)] + 1) % LABELS;
      expect(await checkRun(s, 'asd', c)).toBe(false);
      expect(await checkRun(s, 'nsd', c)).toBe(true);
    } finally {
      destroyAll(s.shared, s.alone);
    }
  });

  it('does not reuse after a failed run, GPU-buffer inputs or a warm-up, and never after an encode()', async () => {
    const s = await sets();
    const device = gpu.device;
    const a = pair(3);
    const b = pair(4);
    const buffers: GPUBuffer[] = [];
    const upload = (bytes: Uint8Array) => {
      const buffer = device.createBuffer({
        size: Math.ceil(bytes.byteLength / 4) * 4,
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
      });
      const padded = new Uint8Array(buffer.size);
      padded.set(bytes);
      device.queue.writeBuffer(buffer, 0, padded);
      buffers.push(buffer);
      return buffer;
    };
    try {
      expect(await checkRun(s, 'hd95', a)).toBe(false);
      // A label out of range: the run transforms (and throws); its fields are not a's.
      const bad = a.target.slice();
      bad[5] = LABELS;
      await expect(s.shared[1].metrics.compute(a.pred, bad)).rejects.toMatchObject({ code: 'LABEL_OUT_OF_RANGE' });
      expect(await checkRun(s, 'asd', a)).toBe(false);
      expect(await checkRun(s, 'nsd', a)).toBe(true);
      // GPU-buffer inputs of compute() are never matched (their contents are not known on the
      // host), and what they leave is b's.
      const fromBuffers = await s.shared[0].metrics.compute(upload(b.pred), upload(b.target));
      expect(fromBuffers.reusedDistances).toBe(false);
      expectMetricClose(valuesOf('hd95', fromBuffers), expected('hd95', b), 'hd95 of buffers');
      expect(await checkRun(s, 'nsd', a)).toBe(false);
      expect(await checkRun(s, 'hd95', a)).toBe(true);
      // A warm-up runs every pass on zeros.
      await s.shared[1].metrics.warmUp();
      expect(await checkRun(s, 'nsd', a)).toBe(false);
      expect(await checkRun(s, 'asd', a)).toBe(true);
      // An encode() into the caller's encoder may be submitted after later calls: from then on
      // the set reuses nothing. Here it is submitted after a compute() of a, which it overwrites.
      const encoder = device.createCommandEncoder();
      s.shared[2].metrics.encode(encoder, { pred: buffers[0], target: buffers[1] });
      expect(await checkRun(s, 'hd95', a)).toBe(false);
      device.queue.submit([encoder.finish()]);
      expect(await checkRun(s, 'asd', a)).toBe(false);
      expect(await checkRun(s, 'nsd', a)).toBe(false);
    } finally {
      for (const buffer of buffers) buffer.destroy();
      destroyAll(s.shared, s.alone);
    }
  });

  it('shares only between equal spacing and kinds; a set outlives any one of its holders', async () => {
    const s = await sets();
    const other = await gpu.engine.surfaceMetrics(options('nsd', { reuseDistances: true, spacing: [1, 1, 1] }));
    const dense = await gpu.engine.surfaceMetrics({
      ...options('asd', { reuseDistances: true }),
      shape: [1, LABELS, ...SPATIAL],
      layout: 'channels-first',
      target: 'dense',
    });
    try {
      const a = pair(5);
      expect(await checkRun(s, 'hd95', a)).toBe(false);
      const r = await other.compute(a.pred, a.target);
      expect(r.reusedDistances).toBe(false);
      expectMetricClose(r.surfaceDice!, expected('nsd', a, [1, 1, 1]), 'nsd, unit spacing');
      // Dense one-hot masks: a set of their own.
      const oneHot = (labels: Uint8Array) => {
        const out = new Float32Array(LABELS * VOXELS);
        labels.forEach((l, i) => (out[l * VOXELS + i] = 1));
        return out;
      };
      const d1 = await dense.compute(oneHot(a.pred), oneHot(a.target));
      expect(d1.reusedDistances).toBe(false);
      expectMetricClose(d1.averageSurfaceDistance!, expected('asd', a), 'asd, one-hot');
      const d2 = await dense.compute(oneHot(a.pred), oneHot(a.target));
      expect(d2.reusedDistances).toBe(true);
      expect(Array.from(d2.averageSurfaceDistance!)).toEqual(Array.from(d1.averageSurfaceDistance!));
      // The label-map set still holds a's fields: the other sets did not touch them.
      expect(await checkRun(s, 'asd', a)).toBe(true);
      s.shared[0].metrics.destroy();
      expect(await checkRun(s, 'nsd', a)).toBe(true);
    } finally {
      other.destroy();
      dense.destroy();
      destroyAll(s.shared, s.alone);
    }
  });

  it('gives each of concurrent calls the right values', async () => {
    const s = await sets();
    try {
      const pairs = [pair(6), pair(7), pair(6), pair(7), pair(6)];
      const kinds: Kind[] = ['hd95', 'asd', 'nsd', 'hd95', 'asd'];
      const runs = await Promise.all(
        pairs.map((p, i) => s.shared[['hd95', 'asd', 'nsd'].indexOf(kinds[i])].metrics.compute(p.pred, p.target)),
      );
      runs.forEach((r, i) => expectMetricClose(valuesOf(kinds[i], r), expected(kinds[i], pairs[i]), `call ${i}`));
    } finally {
      destroyAll(s.shared, s.alone);
    }
  });

  it('the MONAI presets give the values of unshared programs', async () => {
    const monai = gpu.engine.presets.monai;
    const a = pair(8);
    const b = pair(9);
    const oneHot = (labels: Uint8Array) => {
      const out = new Float32Array(LABELS * VOXELS);
      labels.forEach((l, i) => (out[l * VOXELS + i] = 1));
      return out;
    };
    const shape = [1, LABELS, ...SPATIAL];
    const extras = { inputShape: shape, targetShape: shape };
    const presets = {
      hd95: monai.compute_hausdorff_distance({ percentile: 95, spacing: SPACING }),
      asd: monai.compute_average_surface_distance({ spacing: SPACING }),
      nsd: monai.compute_surface_dice({ class_thresholds: TOLERANCE, spacing: SPACING }),
    };
    for (const p of [a, a, b, a, b, b]) {
      for (const kind of ['hd95', 'asd', 'nsd'] as const) {
        const got = (await presets[kind].evaluate(oneHot(p.pred), oneHot(p.target), extras)) as number[][];
        expectMetricClose(got[0], expected(kind, p), `preset ${kind}`);
      }
    }
  });
});
