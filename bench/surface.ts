/**
 * `npm run bench -- --surface`: the distance transform and the surface metrics (HD95 + average
 * surface distance + NSD) of a label-map pair with 4 labels at 128³ and 256³ (SURFACE_BENCH in
 * cases.ts), on one adapter, in one run, against:
 * - the copy kernel over one f32 volume (the bandwidth ceiling, `% copy`);
 * - the float64 reference's linear-time CPU path (`reference-cpu`: distanceTransform per label,
 *   labelMapSurfaceMetrics for the metrics), which is also what every GPU result is checked
 *   against before it is timed (a wrong result is a FAIL row, never a time);
 * - MONAI's CPU path (`monai-cpu`: bench/monai-baseline/surface_metrics.py, the three metric
 *   calls on one-hot tensors, scipy + torch), when a python3 with torch and scipy is found (the
 *   first python3 on PATH that imports both, or WGSL_DICE_PYTHON); skipped with a note otherwise.
 * The metrics run twice on the GPU: `wgsl-dice`, engine.surfaceMetrics on the u8 label maps (one
 * program for the three metrics, GPU time of encode()), and `wgsl-dice-presets`, MONAI's three
 * functions through engine.presets.monai on one-hot f32 [1, 4, ...] tensors (host wall clock of
 * the three evaluate() calls, uploads and read-backs included): the side-by-side with MONAI's
 * three calls. MONAI's ASD is its default (prediction to target), HD95 its percentile=95.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DiceEngine } from '../src/index.js';
import { writeNpyFloat32 } from '../src/cli/npy.js';
import { distanceTransform, labelMapSurfaceMetrics, mulberry32 } from '../src/reference/index.js';
import { SURFACE_BENCH } from './cases.js';
import { COPY_VARIANTS, copyBytes, CopyKernels, uploadBytes, workgroupCandidates } from './copy.js';
import { newRow, withRates, type Row } from './report.js';
import { GpuTimer, summarize, timeHost, timingFields } from './timing.js';

export interface SurfaceBenchOptions {
  device: GPUDevice;
  deviceName: string;
  engine: DiceEngine;
  timer: GpuTimer;
  /** Spatial shapes (default SURFACE_BENCH.shapes; --quick: the first). */
  shapes: readonly (readonly number[])[];
  /** Timed GPU runs (median reported). */
  reps: number;
  /** Timed runs of the host-timed rows (presets, CPU reference at the smallest shape). */
  hostReps: number;
  emit(row: Row): void;
  step(label: string): void;
}

const SEED = 20261203;

/**
 * A label-map pair on `shape`: labels - 1 ellipsoids (radii 15-35 % of each side) over label 0;
 * the prediction moves each by up to two voxels per axis and flips a third of its boundary voxels.
 */
export function surfaceLabelMaps(shape: readonly number[], labels: number, seed: number) {
  const random = mulberry32(seed);
  const [D, H, W] = shape;
  const target = new Uint8Array(D * H * W);
  const pred = new Uint8Array(D * H * W);
  for (let label = 1; label < labels; label++) {
    const centre = shape.map((n) => (0.35 + 0.3 * random()) * n);
    const radii = shape.map((n) => (0.15 + 0.2 * random()) * n);
    const shift = shape.map(() => Math.floor(random() * 5) - 2);
    const inside = (z: number, y: number, x: number) =>
      ((z - centre[0]) / radii[0]) ** 2 + ((y - centre[1]) / radii[1]) ** 2 + ((x - centre[2]) / radii[2]) ** 2 <= 1;
    for (let z = 0; z < D; z++) {
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          const i = (z * H + y) * W + x;
          if (inside(z, y, x)) target[i] = label;
          const [zs, ys, xs] = [z - shift[0], y - shift[1], x - shift[2]];
          const moved = inside(zs, ys, xs);
          // A boundary voxel of the moved ellipsoid: one of its face neighbours is outside.
          const edge =
            moved &&
            (!inside(zs - 1, ys, xs) ||
              !inside(zs + 1, ys, xs) ||
              !inside(zs, ys - 1, xs) ||
              !inside(zs, ys + 1, xs) ||
              !inside(zs, ys, xs - 1) ||
              !inside(zs, ys, xs + 1));
          if (moved !== (edge && random() < 0.3)) pred[i] = label;
        }
      }
    }
  }
  return { pred, target };
}

/** One-hot f32 [1, C, ...spatial] (MONAI's layout) of a label map. */
function oneHot(labels: Uint8Array, classes: number): Float32Array {
  const out = new Float32Array(labels.length * classes);
  for (let i = 0; i < labels.length; i++) out[labels[i] * labels.length + i] = 1;
  return out;
}

/** '' when every metric agrees (|a - e| <= 1e-5 max(1, |e|), NaN and infinities exactly), else the first difference. */
function metricMismatch(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, rtol = 1e-5): string {
  for (let i = 0; i < expected.length; i++) {
    const [a, e] = [actual[i], expected[i]];
    const ok = Number.isFinite(e) ? Math.abs(a - e) <= rtol * Math.max(1, Math.abs(e)) : Object.is(a, e);
    if (!ok) return `${what}[${i}]: ${a}, reference ${e}`;
  }
  return '';
}

/** The first python3 on PATH (or WGSL_DICE_PYTHON) that imports torch and scipy, or null. */
export function findTorchPython(): string | null {
  const candidates = process.env.WGSL_DICE_PYTHON
    ? [process.env.WGSL_DICE_PYTHON]
    : (process.env.PATH ?? '')
        .split(path.delimiter)
        .filter(Boolean)
        .map((dir) => path.join(dir, 'python3'));
  for (const python of new Set(candidates)) {
    try {
      accessSync(python, constants.X_OK);
    } catch {
      continue;
    }
    const probe = spawnSync(python, ['-c', 'import torch, scipy'], { stdio: 'ignore', timeout: 60_000 });
    if (probe.status === 0) return python;
  }
  return null;
}

interface MonaiTimes {
  seconds: { one_hot: number; hausdorff: number; average_surface_distance: number; surface_dice: number };
  hausdorff: number[];
  average_surface_distance: number[];
  surface_dice: number[];
  torch: string;
  torch_threads: number;
}

export async function runSurfaceBench(o: SurfaceBenchOptions): Promise<void> {
  const { device, engine, timer } = o;
  const { labels, percentile, tolerance } = SURFACE_BENCH;
  const date = new Date().toISOString();
  const copy = await CopyKernels.create(device);
  const python = findTorchPython();
  const script = path.resolve(path.dirname(process.argv[1] ?? '.'), '../bench/monai-baseline/surface_metrics.py');
  const scratch = mkdtempSync(path.join(tmpdir(), 'wgsl-dice-bench-surface-'));
  try {
    for (const shape of o.shapes) {
      const voxels = shape.reduce((a, b) => a * b, 1);
      const dims = [1, ...shape, labels];
      const base = (impl: Row['impl'], caseName: string, extra: Partial<Row>): Row =>
        newRow({
          device: o.deviceName,
          case: caseName,
          impl,
          mode: 'fwd',
          shape: dims,
          dtype: 'u8',
          elements: voxels * labels,
          date,
          ...extra,
        });
      const measure = async (row: Row, run: () => Promise<Partial<Row>>, ceiling?: number): Promise<Row> => {
        let result: Row;
        try {
          result = { ...row, ...(await run()) };
        } catch (error) {
          result = { ...row, check: `FAIL: ${error instanceof Error ? error.message : String(error)}` };
        }
        const rated = withRates(result, ceiling);
        o.emit(rated);
        return rated;
      };
      const gpuTime = async (record: (e: GPUCommandEncoder) => void, label: string) =>
        timingFields(await timer.time(record, o.reps, 1, label), o.reps);
      const hostTime = async (run: () => unknown, reps: number) => {
        const { median, min } = summarize(await timeHost(run, reps, 0));
        return { ms_median: median, ms_min: min, timing: 'wall-clock(host)', reps };
      };

      const maps = surfaceLabelMaps(shape, labels, SEED + shape[0]);
      const predBuffer = uploadBytes(device, maps.pred, 'bench surface pred');
      const targetBuffer = uploadBytes(device, maps.target, 'bench surface target');
      try {
        // The ceiling: copy-1in over one f32 volume.
        o.step(`copy ${shape.join('x')}`);
        const volume = device.createBuffer({ size: voxels * 4, usage: GPUBufferUsage.STORAGE });
        const out = device.createBuffer({ size: voxels * 4, usage: GPUBufferUsage.STORAGE });
        const variant = COPY_VARIANTS[0];
        const run = copy.bind(variant, { first: volume, second: volume, out }, voxels);
        const copyRow = await measure(
          base('copy', variant.name, {
            mode: 'copy',
            dtype: 'f32',
            elements: voxels,
            bytes: copyBytes(variant, voxels),
            note: 'one f32 volume of the shape',
          }),
          async () => {
            let best = { workgroups: run.maxWorkgroups, median: Infinity };
            for (const workgroups of workgroupCandidates(run.maxWorkgroups)) {
              const trial = summarize((await timer.time((e) => run.encode(e, workgroups), 2, 1, 'copy trial')).ms);
              if (trial.median < best.median) best = { workgroups, median: trial.median };
            }
            return { ...(await gpuTime((e) => run.encode(e, best.workgroups), 'copy')), workgroups: best.workgroups };
          },
        );
        run.destroy();
        volume.destroy();
        out.destroy();
        const ceiling = copyRow.gbps ?? undefined;

        // The distance transform of every label (euclidean, unit spacing), against the reference.
        o.step(`distance transform reference ${shape.join('x')}`);
        const masks = Array.from({ length: labels }, (_, c) => Uint8Array.from(maps.target, (l) => (l === c ? 1 : 0)));
        const referenceStart = performance.now();
        const referenceFields = masks.map((m) => distanceTransform(m, shape));
        const referenceMs = performance.now() - referenceStart;
        o.step(`distance transform wgsl-dice ${shape.join('x')}`);
        // The label map's transform writes [1, ...spatial, 4] f32 through one binding window of
        // whole samples; where that passes the device's limit (256^3 on lavapipe), the same 4
        // transforms run as 4 samples of one class (dense f32 masks [4, ...spatial, 1]).
        const labelMapForm = voxels * labels * 4 <= device.limits.maxStorageBufferBindingSize;
        const dtInput = labelMapForm
          ? maps.target
          : Float32Array.from({ length: labels * voxels }, (_, k) => masks[Math.floor(k / voxels)][k % voxels]);
        const dtMask = labelMapForm ? targetBuffer : uploadBytes(device, dtInput, 'bench surface masks');
        const at = (c: number, i: number) => (labelMapForm ? i * labels + c : c * voxels + i);
        await measure(
          base('wgsl-dice', 'distance-transform', {
            bytes: labelMapForm ? voxels + voxels * labels * 4 : 2 * voxels * labels * 4,
            dtype: labelMapForm ? 'u8 -> f32' : 'f32 -> f32',
            note: labelMapForm
              ? 'u8 label map [1, ...spatial, 4]'
              : 'one class per sample: f32 masks [4, ...spatial, 1] (the label map form passes one binding here)',
          }),
          async () => {
            const dt = await engine.distanceTransform(
              labelMapForm ? { shape: dims, target: 'u8' } : { shape: [labels, ...shape, 1] },
            );
            const distances = device.createBuffer({ size: dt.distancesBytes, usage: GPUBufferUsage.STORAGE });
            try {
              const { distances: got } = await dt.compute(dtInput);
              let worst = 0;
              for (let c = 0; c < labels; c++) {
                for (let i = 0; i < voxels; i++) {
                  const e = referenceFields[c][i];
                  const a = got[at(c, i)];
                  const err = Number.isFinite(e) ? Math.abs(a - e) / Math.max(1, e) : Object.is(a, e) ? 0 : Infinity;
                  worst = Math.max(worst, err);
                }
              }
              if (!(worst <= 1e-6)) throw new Error(`distances differ from the reference by ${worst} (relative)`);
              return await gpuTime((e) => dt.encode(e, { mask: dtMask, distances }), 'distance transform');
            } finally {
              distances.destroy();
              dt.destroy();
              if (dtMask !== targetBuffer) dtMask.destroy();
            }
          },
          ceiling,
        );
        await measure(
          base('reference-cpu', 'distance-transform', {
            timing: 'wall-clock(host)',
            reps: 1,
            ms_median: referenceMs,
            ms_min: referenceMs,
            check: 'is-reference',
            note: 'float64 linear-time transform (src/reference), one label after another, one thread',
          }),
          async () => ({}),
        );

        // HD95 + ASD + NSD of labels 1..3, against the reference.
        o.step(`surface metrics reference ${shape.join('x')}`);
        const options = { labels, tolerance, percentile, symmetric: false };
        const referenceRuns = shape[0] <= 128 ? o.hostReps : 1;
        let reference = labelMapSurfaceMetrics(maps.pred, maps.target, shape, options);
        const expectedOf = (r: typeof reference) => ({
          hausdorff: r.map((m) => m.hausdorff),
          asd: r.map((m) => m.averageSurfaceDistance),
          nsd: r.map((m) => m.surfaceDice),
        });
        const expected = expectedOf(reference);
        const expectedAll = [...expected.hausdorff, ...expected.asd, ...expected.nsd];
        const check = (
          got: { hausdorff: ArrayLike<number>; asd: ArrayLike<number>; nsd: ArrayLike<number> },
          want = expected,
        ) =>
          [
            metricMismatch(got.hausdorff, want.hausdorff, 'hd95'),
            metricMismatch(got.asd, want.asd, 'asd'),
            metricMismatch(got.nsd, want.nsd, 'nsd'),
          ]
            .filter(Boolean)
            .join('; ');
        o.step(`surface metrics wgsl-dice ${shape.join('x')}`);
        await measure(
          base('wgsl-dice', 'hd95+asd+nsd', { bytes: 2 * voxels, note: 'engine.surfaceMetrics, u8 label maps' }),
          async () => {
            const metrics = await engine.surfaceMetrics({
              shape: dims,
              target: 'u8',
              percentile,
              tolerance,
              includeBackground: false,
            });
            try {
              const r = await metrics.compute(maps.pred, maps.target);
              const problem = check({ hausdorff: r.hausdorff!, asd: r.averageSurfaceDistance!, nsd: r.surfaceDice! });
              if (problem) throw new Error(problem);
              return await gpuTime((e) => metrics.encode(e, { pred: predBuffer, target: targetBuffer }), 'surface');
            } finally {
              metrics.destroy();
            }
          },
        );

        o.step(`surface metrics MONAI presets ${shape.join('x')}`);
        const monaiShape = [1, labels, ...shape];
        await measure(
          base('wgsl-dice-presets', 'hd95+asd+nsd', {
            shape: monaiShape,
            layout: 'channels-first',
            dtype: 'f32 one-hot',
            note:
              "MONAI's three functions via engine.presets.monai, evaluate() each; each timed run on the other of " +
              'two pairs, so its first call transforms and the next two reuse the distance fields (reuseDistances)',
          }),
          async () => {
            const monai = engine.presets.monai;
            const hd = monai.compute_hausdorff_distance({ percentile });
            const asd = monai.compute_average_surface_distance();
            const nsd = monai.compute_surface_dice({ class_thresholds: new Array<number>(labels - 1).fill(tolerance) });
            // Two pairs, taken in turn: no run finds its pair's distance fields left by the run
            // before it (the presets share them between calls on one pair, as the three
            // calls are).
            const other = surfaceLabelMaps(shape, labels, SEED + shape[0] + 1);
            const pairs = [
              { maps, want: expected },
              { maps: other, want: expectedOf(labelMapSurfaceMetrics(other.pred, other.target, shape, options)) },
            ].map(({ maps: m, want }) => ({ x: oneHot(m.pred, labels), y: oneHot(m.target, labels), want }));
            const extras = { inputShape: monaiShape, targetShape: monaiShape };
            // One call after another, as MONAI's three.
            const three = async ({ x, y }: (typeof pairs)[number]) => {
              const values: number[][] = [];
              for (const preset of [hd, asd, nsd])
                values.push(((await preset.evaluate(x, y, extras)) as number[][])[0]);
              return values;
            };
            for (const pair of pairs) {
              const [h, a, n] = await three(pair);
              const problem = check({ hausdorff: h, asd: a, nsd: n }, pair.want);
              if (problem) throw new Error(problem);
            }
            let next = 0;
            return hostTime(() => three(pairs[next++ % 2]), o.hostReps);
          },
        );

        const referenceTimes = await timeHost(
          () => (reference = labelMapSurfaceMetrics(maps.pred, maps.target, shape, options)),
          referenceRuns,
          0,
        );
        await measure(
          base('reference-cpu', 'hd95+asd+nsd', {
            ...(({ median, min }) => ({ ms_median: median, ms_min: min }))(summarize(referenceTimes)),
            timing: 'wall-clock(host)',
            reps: referenceRuns,
            check: 'is-reference',
            note: 'float64 labelMapSurfaceMetrics (src/reference): crops, linear-time transforms, one thread',
          }),
          async () => ({}),
        );

        o.step(`surface metrics MONAI (CPU) ${shape.join('x')}`);
        const monaiRow = base('monai-cpu', 'hd95+asd+nsd', {
          shape: monaiShape,
          layout: 'channels-first',
          dtype: 'f32 one-hot',
          timing: 'wall-clock(host)',
        });
        if (python === null) {
          o.emit({
            ...monaiRow,
            check: 'n/a',
            note: 'skipped: no python3 with torch and scipy on PATH (set WGSL_DICE_PYTHON)',
          });
        } else {
          await measure(monaiRow, async () => {
            const predFile = path.join(scratch, 'pred.npy');
            const targetFile = path.join(scratch, 'target.npy');
            writeNpyFloat32(predFile, Float32Array.from(maps.pred), [...shape]);
            writeNpyFloat32(targetFile, Float32Array.from(maps.target), [...shape]);
            const repeat = shape[0] <= 128 ? o.hostReps : 1;
            const args = [script, predFile, targetFile, '--labels', String(labels)];
            args.push('--tolerance', String(tolerance), '--percentile', String(percentile), '--repeat', String(repeat));
            const report = JSON.parse(
              execFileSync(python, args, { encoding: 'utf8', maxBuffer: 1 << 24, timeout: 1_800_000 }),
            ) as MonaiTimes;
            const got = [...report.hausdorff, ...report.average_surface_distance, ...report.surface_dice];
            // float32 torch tensors (quantile included) against float64: 1e-4 relative.
            const problem = metricMismatch(got, expectedAll, 'MONAI hd95, asd, nsd', 1e-4);
            if (problem) throw new Error(problem);
            const s = report.seconds;
            const ms = 1000 * (s.hausdorff + s.average_surface_distance + s.surface_dice);
            return {
              ms_median: ms,
              ms_min: ms,
              reps: repeat,
              note:
                `bench/monai-baseline/surface_metrics.py: the three calls (best of ${repeat} each; ` +
                `one-hot conversion ${(1000 * s.one_hot).toFixed(0)} ms more), torch ${report.torch}, ` +
                `${report.torch_threads} threads`,
            };
          });
        }
      } finally {
        predBuffer.destroy();
        targetBuffer.destroy();
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * The side-by-side the issue asks for, per shape: MONAI's three CPU calls (best of its repeats)
 * against the three preset calls (best of ours: the same statistic), the engine's one program
 * (median GPU time) and the CPU reference.
 */
export function formatSurfaceSummary(rows: readonly Row[]): string {
  const lines: string[] = [];
  const spatial = (r: Row) => (r.layout === 'channels-first' ? r.shape.slice(2) : r.shape.slice(1, -1)).join('x');
  const metricRows = rows.filter((r) => r.case === 'hd95+asd+nsd');
  for (const shape of [...new Set(metricRows.map(spatial))]) {
    const find = (impl: Row['impl']) => metricRows.find((r) => r.impl === impl && spatial(r) === shape);
    const best = (impl: Row['impl']) => find(impl)?.ms_min ?? null;
    const monai = best('monai-cpu');
    const presets = best('wgsl-dice-presets');
    const engineMs = find('wgsl-dice')?.ms_median ?? null;
    const reference = best('reference-cpu');
    const ms = (v: number | null) => (v === null ? '-' : `${v.toFixed(0)} ms`);
    const ratio = (a: number | null, b: number | null) => (a !== null && b !== null ? `${(a / b).toFixed(1)}x` : '-');
    lines.push(
      `  ${shape}: MONAI CPU ${ms(monai)} | presets ${ms(presets)} (MONAI/presets ${ratio(monai, presets)}) | ` +
        `engine, one program ${ms(engineMs)} (MONAI/engine ${ratio(monai, engineMs)}) | reference CPU ${ms(reference)}`,
    );
  }
  return lines.length
    ? ['HD95 + ASD + NSD of 3 labels, best times (engine: median GPU time):', ...lines].join('\n')
    : '';
}
