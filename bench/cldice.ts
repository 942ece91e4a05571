/**
 * `npm run bench:cldice`: clDice fwd+bwd (iter_ = 3) at 2x512x512x2 and 1x128x128x128x2
 * (channels-last) against the copy kernel (the bandwidth ceiling) and the same loss in tfjs ops
 * (max-pool based, bench/cldice-tfjs.ts) on the same adapter, in one run. wgsl-dice is checked
 * once against the float64 reference (src/reference/cldice.ts) before it is timed; tfjs's loss
 * against wgsl-dice's. Options: --json (JSON lines on stdout), --reps N (default 5),
 * --shapes BxHxWxC,... (channels-last), --skip-tfjs.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { DiceEngine } from '../src/index.js';
import { describeAdapter, requestNodeDevice } from '../src/node/index.js';
import { clDiceReference, mulberry32 } from '../src/reference/index.js';
import { CLDICE_BENCH } from './cases.js';
import { clDiceTfjsLoss } from './cldice-tfjs.js';
import { COPY_VARIANTS, copyBytes, CopyKernels, workgroupCandidates } from './copy.js';
import { formatTable, jsonLine, withRates, type Row } from './report.js';
import { loadTfjsWebgpu, type TfjsBaseline } from './tfjs-baseline.js';
import { GpuTimer, summarize, timeHost } from './timing.js';

const ITERATIONS = CLDICE_BENCH.iterations;
const SEED = 20261127;
const DEFAULT_SHAPES = CLDICE_BENCH.shapes.map((shape) => [...shape]);

/** Channels-last probabilities of two classes and a one-hot target of random thin curves. */
function tubes(shape: number[], seed: number): { pred: Float32Array<ArrayBuffer>; target: Float32Array<ArrayBuffer> } {
  const random = mulberry32(seed);
  const [B, ...spatial] = shape.slice(0, -1);
  const voxels = spatial.reduce((a, b) => a * b, 1);
  const foreground = new Uint8Array(B * voxels);
  const strides = spatial.map((_, axis) => spatial.slice(axis + 1).reduce((a, b) => a * b, 1));
  for (let b = 0; b < B; b++) {
    for (let curve = 0; curve < 24; curve++) {
      const at = spatial.map((n) => Math.floor(random() * n));
      for (let step = 0; step < 4 * Math.max(...spatial); step++) {
        foreground[b * voxels + at.reduce((sum, c, axis) => sum + c * strides[axis], 0)] = 1;
        const axis = Math.floor(random() * spatial.length);
        at[axis] = Math.min(spatial[axis] - 1, Math.max(0, at[axis] + (random() < 0.5 ? -1 : 1)));
      }
    }
  }
  const pred = new Float32Array(2 * B * voxels);
  const target = new Float32Array(2 * B * voxels);
  foreground.forEach((f, v) => {
    const p = Math.min(0.98, Math.max(0.02, 0.5 + (f ? 0.3 : -0.3) + 0.4 * (random() - 0.5)));
    pred.set([1 - p, p], 2 * v);
    target.set([1 - f, f], 2 * v);
  });
  return { pred, target };
}

/** Channels-last [B, ...spatial, C] to channels-first [B, C, ...spatial], for the reference. */
function channelsFirst(data: Float32Array, B: number, C: number): Float64Array {
  const voxels = data.length / (B * C);
  const out = new Float64Array(data.length);
  for (let b = 0; b < B; b++) {
    for (let v = 0; v < voxels; v++)
      for (let c = 0; c < C; c++) out[(b * C + c) * voxels + v] = data[(b * voxels + v) * C + c];
  }
  return out;
}

function worstError(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol: number): string {
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= atol + rtol * Math.abs(expected[i])))
      return `element ${i}: ${actual[i]} vs ${expected[i]}`;
  }
  return '';
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean' },
      reps: { type: 'string' },
      shapes: { type: 'string' },
      'skip-tfjs': { type: 'boolean' },
    },
  });
  const reps = Number(values.reps ?? 5);
  const shapes = values.shapes ? values.shapes.split(',').map((s) => s.split('x').map(Number)) : DEFAULT_SHAPES;
  const dawnFlags = ['disable-dawn-features=timestamp_quantization'];
  const device = await requestNodeDevice({ label: 'wgsl-dice bench cl-dice', dawnFlags });
  const adapter = describeAdapter(device);
  const deviceName = adapter.description || adapter.device || 'unknown adapter';
  const timer = new GpuTimer(device);
  const engine = await DiceEngine.create(device, { label: 'bench cl-dice' });
  const copy = await CopyKernels.create(device);
  const tfjs: TfjsBaseline | undefined = values['skip-tfjs'] ? undefined : await loadTfjsWebgpu(dawnFlags);
  const date = new Date().toISOString();
  const rows: Row[] = [];
  const emit = (row: Row) => {
    rows.push(row);
    if (values.json) process.stdout.write(`${jsonLine(row)}\n`);
    else
      process.stderr.write(
        `${row.impl} ${row.shape.join('x')}: ${row.ms_median?.toFixed(3) ?? '-'} ms (${row.check})\n`,
      );
  };

  for (const shape of shapes) {
    const elements = shape.reduce((a, b) => a * b, 1);
    const C = shape[shape.length - 1];
    const { pred, target } = tubes(shape, SEED);
    const base = {
      device: deviceName,
      shape,
      layout: 'channels-last',
      dtype: 'f32',
      elements,
      date,
      ms_median: null,
      ms_min: null,
      gbps: null,
      pct_of_copy: null,
    };
    const buffer = (data: Float32Array<ArrayBuffer> | number) => {
      const size = typeof data === 'number' ? data : data.byteLength;
      const b = device.createBuffer({
        size,
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      });
      if (typeof data !== 'number') device.queue.writeBuffer(b, 0, data);
      return b;
    };
    const buffers = { pred: buffer(pred), target: buffer(target), loss: buffer(16), grad: buffer(elements * 4) };

    // The ceiling: the one-input copy at its best workgroup count.
    const variant = COPY_VARIANTS[0];
    const run = copy.bind(variant, { first: buffers.pred, second: buffers.target, out: buffers.grad }, elements);
    let best = { workgroups: run.maxWorkgroups, median: Infinity };
    for (const workgroups of workgroupCandidates(run.maxWorkgroups)) {
      const median = summarize((await timer.time((e) => run.encode(e, workgroups), 3, 1, 'copy trial')).ms).median;
      if (median < best.median) best = { workgroups, median };
    }
    const copySamples = await timer.time((e) => run.encode(e, best.workgroups), reps, 1, 'copy');
    const copyRow = withRates(
      {
        ...base,
        case: variant.name,
        impl: 'copy',
        mode: 'copy',
        bytes: copyBytes(variant, elements),
        ...summaryOf(copySamples.ms),
        timing: timer.method,
        reps,
        check: 'pass',
        workgroups: best.workgroups,
      },
      undefined,
    );
    emit(copyRow);
    run.destroy();

    // wgsl-dice: checked against the float64 reference, then timed.
    const loss = await engine.loss({ formula: 'cl-dice', shape, skeletonIterations: ITERATIONS });
    const got = await loss.compute(buffers.pred, buffers.target, { grad: true });
    const cfShape = [shape[0], C, ...shape.slice(1, -1)];
    const expected = clDiceReference(channelsFirst(pred, shape[0], C), channelsFirst(target, shape[0], C), {
      shape: cfShape,
      iterations: ITERATIONS,
    });
    const gradCf = channelsFirst(got.grad!, shape[0], C);
    const maxGrad = expected.grad.reduce((m, g) => Math.max(m, Math.abs(g)), 0);
    const problem =
      worstError([got.loss], [expected.loss], 1e-6, 1e-4) || worstError(gradCf, expected.grad, 1e-4 * maxGrad, 1e-4);
    const wgslSamples = await timer.time((e) => loss.encode(e, buffers), reps, 1, 'cl-dice');
    emit(
      withRates(
        {
          ...base,
          case: 'cl-dice',
          impl: 'wgsl-dice',
          mode: 'fwd+bwd',
          bytes: 3 * elements * 4,
          ...summaryOf(wgslSamples.ms),
          wall_ms_median: summarize(wgslSamples.wallMs).median,
          timing: timer.method,
          reps,
          check: problem ? `FAIL: ${problem}` : 'pass',
          note: `iter_ ${ITERATIONS}; loss ${got.loss.toFixed(6)} (reference ${expected.loss.toFixed(6)})`,
        },
        copyRow.gbps ?? undefined,
      ),
    );
    loss.destroy();

    if (tfjs) emit(await timeTfjs(tfjs, shape, pred, target, got.loss, { ...base, reps }, copyRow.gbps ?? undefined));
    for (const b of Object.values(buffers)) b.destroy();
  }

  const header = [
    `wgsl-dice clDice bench  ${date.slice(0, 10)}`,
    `device: ${deviceName} (vendor ${adapter.vendor || '?'}, architecture ${adapter.architecture || '?'})`,
    `GPU timing: ${timer.method}; tfjs: wall clock incl. await data() of loss and grad; iter_ ${ITERATIONS}; channels-last; reps ${reps}`,
    `host load average at start: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (other processes share the CPU)`,
  ];
  (values.json ? process.stderr : process.stdout).write(
    `${formatTable(header, rows)}\n` +
      'cl-dice GB/s counts pred + target read once and grad written once; the ~8(iter_ + 1) stencil passes move far more.\n',
  );
  engine.destroy();
  device.destroy();
}

function summaryOf(ms: number[]) {
  const { median, min } = summarize(ms);
  return { ms_median: median, ms_min: min };
}

async function timeTfjs(
  baseline: TfjsBaseline,
  shape: number[],
  pred: Float32Array,
  target: Float32Array,
  wgslLoss: number,
  base: Omit<Row, 'case' | 'impl' | 'mode' | 'bytes' | 'timing' | 'check'>,
  copyGbps: number | undefined,
): Promise<Row> {
  const { tf } = baseline;
  const lossFn = clDiceTfjsLoss(ITERATIONS, 1);
  const yPred = tf.tensor(pred, shape);
  const yTrue = tf.tensor(target, shape);
  const row: Row = {
    ...base,
    case: 'cl-dice',
    impl: 'tfjs-webgpu',
    mode: 'fwd+bwd',
    bytes: 3 * pred.length * 4,
    timing: 'wall-clock(op+await data())',
    check: 'pass',
  };
  try {
    const run = async () => {
      const { value, grad } = tf.valueAndGrad((p: typeof yPred) => lossFn(tf, yTrue, p))(yPred);
      const [lossData] = await Promise.all([value.data(), grad.data()]);
      value.dispose();
      grad.dispose();
      return lossData[0];
    };
    const first = await run();
    const errors = baseline.takeErrors();
    const problem = errors.length
      ? `tfjs GPU error(s): ${errors.join('; ')}`
      : worstError([first], [wgslLoss], 1e-6, 1e-4);
    if (problem) return { ...row, check: `FAIL: ${problem}` };
    return withRates(
      {
        ...row,
        ...summaryOf(await timeHost(run, base.reps, 1)),
        note: 'gradient by tfjs autograd (its own max-pool tie routing)',
      },
      copyGbps,
    );
  } catch (error) {
    return { ...row, check: `FAIL: ${(error as Error).message.split('\n')[0]}` };
  } finally {
    yPred.dispose();
    yTrue.dispose();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`\nbench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
