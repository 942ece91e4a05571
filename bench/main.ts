/**
 * `npm run bench`: wgsl-dice against a copy kernel (the bandwidth ceiling), TensorFlow.js on its
 * WebGPU backend and the float64 CPU reference, in one run on one adapter. Every measurement is
 * checked once against the reference before it is timed; a wrong result is reported as a
 * failure, never as a time.
 */
import cliProgress from 'cli-progress';
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DiceEngine } from '../src/index.js';
import { describeAdapter, isSoftwareAdapter, requestNodeDevice, takeUncapturedErrors } from '../src/node/index.js';
import {
  elementsOf,
  LOSS_CASES,
  lossBytes,
  SURFACE_BENCH,
  MODES,
  SHAPES,
  shapeName,
  type CaseInputs,
  type EngineLoss,
  type LossCase,
  type Mode,
  type ReferenceResult,
} from './cases.js';
import { COPY_VARIANTS, copyBytes, CopyKernels, expectedCopy, uploadBytes, workgroupCandidates } from './copy.js';
import {
  gpuSuiteEntries,
  loadKernelStats,
  SUITE_BUDGET_S,
  type KernelStatsFigures,
  type SuiteEntry,
} from './gpu-suite.js';
import {
  formatSpeedups,
  formatTable,
  IMPLS,
  jsonLine,
  newRow,
  speedups,
  withRates,
  type Impl,
  type Row,
} from './report.js';
import { loadTfjsWebgpu, type TfjsBaseline } from './tfjs-baseline.js';
import { lossInTfjs, unetSteps, type TfjsIntegrationHost } from './tfjs-integration.js';
import { formatSurfaceSummary, runSurfaceBench } from './surface.js';
import { GpuTimer, summarize, timeHost, timingFields } from './timing.js';

const HELP = `Usage: npm run bench -- [options]

Benchmarks wgsl-dice's losses against a copy kernel, TensorFlow.js (WebGPU backend) and the
float64 CPU reference, on the adapter dawn.node picks. The cases seed-global, seed-weighted and
seed-multiclass are the three classic TensorFlow Dice losses (global, class-weighted and
multi-class softmax Dice); the others are engine.loss configurations.

Options:
  --quick                 A subset that finishes in about 5 minutes on lavapipe: the three classic
                          Dice losses, softmax-u8 and its f16 row at 2x512x512x8, every implementation (with the
                          losses inside tfjs and the U-Net-like training step).
  --surface               The surface rows instead (bench/surface.ts): distance transform and
                          HD95 + ASD + NSD of a 4-label pair at 128^3 and 256^3 (--quick: 128^3)
                          against the copy kernel, the float64 CPU reference and MONAI's CPU path
                          (python3 with torch + scipy; skipped with a note when none is found).
  --json                  One JSON line per measurement on stdout (the table goes to stderr).
  --cases a,b             Loss cases (default all: ${LOSS_CASES.map((c) => c.name).join(', ')}).
  --impls a,b             Implementations (default all: ${IMPLS.join(', ')}).
  --modes a,b             fwd, fwd+bwd (default both).
  --shapes BxHxWxC,...    Shapes to run instead of the built-in matrix (channels-last; the
                          channels-first cases permute them to BxCxHxW). With --surface:
                          spatial shapes, e.g. 96x96x96.
  --max-elements N        Largest shape of the built-in matrix (default 4194304 on software
                          adapters, the device's binding limit on GPUs).
  --reps N                Timed runs per GPU-timed measurement: wgsl-dice, copy (default 20;
                          median and min reported).
  --host-reps N           Timed runs of tfjs-webgpu, timed by the wall clock (default 10).
  --warmup N              Untimed runs before timing (default 3).
  --reference-reps N      Timed runs of the CPU reference (default 3).
  --reference-max-elements N  Largest shape at which the CPU reference is timed (default 16777216).
  --encode-calls N        encode() calls timed for wgsl-dice-encode-cpu (default 1000).
  --gpu-suite             The prepared run for a lent GPU machine (bench/gpu-suite.ts): every case, the
                          issue's up to 8x1024x1024x16, default and tuned plans side by side (fwd,
                          fwd+bwd, bwd alone), copy at each shape, kernel-stats rows, clDice; JSON
                          lines on stdout; within ${SUITE_BUDGET_S} s. With --quick: every case at small shapes
                          (a check on lavapipe); with --dry-run: only the list of what it would run.
  --kernel-stats FILE     The kernel-stats rows --gpu-suite attaches (default: kernel-stats.json beside
                          this bundle, written by npm run bench:gpu-prepare).
  --wall-clock            Time GPU work with the wall clock even where timestamp queries exist.
  --adapter NAME          Passed to dawn.node as adapter=NAME (substring of the adapter name).
  -h, --help              This text.
`;

/** One case at one shape, as the main loop runs it. */
interface RunEntry extends SuiteEntry {
  /** Its inputs' random seed. */
  readonly seed: number;
  /** The first of its bench shape: the copy ceiling is measured before it. */
  readonly copyFirst: boolean;
}

const SOFTWARE_MAX_ELEMENTS = 2 ** 22;
const SEED = 20261126;

// Check tolerances. wgsl-dice vs float64 reference: loss |a - e| <= 1e-6 + 1e-4 |e|; grad
// |a - e| <= 1e-4 max|e| + 1e-4 |e| (f32 sums over up to 2^27 terms; the unit tests hold 1e-5
// on small shapes). tfjs: loss within 1e-4 relative of wgsl-dice's (of the reference's when
// wgsl-dice is not run), grad as above against the reference.
const LOSS_RTOL = 1e-4;
const LOSS_ATOL = 1e-6;
const GRAD_TOL = 1e-4;

interface Options {
  quick: boolean;
  surface: boolean;
  json: boolean;
  cases: LossCase[];
  impls: Set<Impl>;
  modes: Mode[];
  shapes: number[][] | undefined;
  maxElements: number | undefined;
  reps: number;
  hostReps: number;
  warmup: number;
  referenceReps: number;
  referenceMaxElements: number;
  encodeCalls: number;
  wallClock: boolean;
  adapter: string | undefined;
  gpuSuite: boolean;
  dryRun: boolean;
  kernelStats: string | undefined;
}

function parseOptions(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      surface: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      cases: { type: 'string' },
      impls: { type: 'string' },
      modes: { type: 'string' },
      shapes: { type: 'string' },
      'max-elements': { type: 'string' },
      reps: { type: 'string', default: '20' },
      'host-reps': { type: 'string', default: '10' },
      warmup: { type: 'string', default: '3' },
      'reference-reps': { type: 'string', default: '3' },
      'reference-max-elements': { type: 'string', default: String(2 ** 24) },
      'encode-calls': { type: 'string', default: '1000' },
      'wall-clock': { type: 'boolean', default: false },
      adapter: { type: 'string' },
      'gpu-suite': { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
      'kernel-stats': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return undefined;
  }
  const list = (text: string | undefined) =>
    text
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const pick = <T extends string>(what: string, text: string | undefined, known: readonly T[]): T[] => {
    const names = list(text);
    if (!names) return [...known];
    for (const name of names) {
      if (!known.includes(name as T)) throw new Error(`Unknown ${what} "${name}"; known: ${known.join(', ')}.`);
    }
    return names as T[];
  };
  const count = (name: string, text: string, min: number) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got ${text}.`);
    return n;
  };
  const caseNames = pick(
    'case',
    values.cases,
    LOSS_CASES.map((c) => c.name),
  );
  const shapes = list(values.shapes)?.map((text) => {
    const dims = text.split('x').map(Number);
    if (dims.length < 2 || dims.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new Error(`--shapes: "${text}" is not a shape like 2x512x512x8.`);
    }
    return dims;
  });
  return {
    quick: values.quick,
    surface: values.surface,
    json: values.json || values['gpu-suite'],
    cases: LOSS_CASES.filter(
      (c) =>
        caseNames.includes(c.name) && (values.cases !== undefined || values['gpu-suite'] || !values.quick || c.quick),
    ),
    // The suite measures wgsl-dice against the copy ceiling (tfjs is not on the GPU machine).
    impls: new Set(
      values['gpu-suite'] && values.impls === undefined
        ? (['wgsl-dice', 'copy'] as Impl[])
        : pick('impl', values.impls, IMPLS),
    ),
    modes: pick('mode', values.modes, MODES),
    shapes,
    maxElements: values['max-elements'] === undefined ? undefined : count('max-elements', values['max-elements'], 1),
    reps: count('reps', values.reps, 1),
    hostReps: count('host-reps', values['host-reps'], 1),
    warmup: count('warmup', values.warmup, 0),
    referenceReps: count('reference-reps', values['reference-reps'], 1),
    referenceMaxElements: count('reference-max-elements', values['reference-max-elements'], 1),
    encodeCalls: count('encode-calls', values['encode-calls'], 1),
    wallClock: values['wall-clock'],
    adapter: values.adapter,
    gpuSuite: values['gpu-suite'],
    dryRun: values['dry-run'],
    kernelStats: values['kernel-stats'],
  };
}

/** The shapes this run measures, within the device's limits. */
function chooseShapes(options: Options, device: GPUDevice, software: boolean): { run: number[][]; skipped: string[] } {
  const limit = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
  let candidates: number[][];
  if (options.shapes) candidates = options.shapes;
  else if (options.quick) candidates = SHAPES.filter((s) => s.quick).map((s) => [...s.dims]);
  else {
    const cap = options.maxElements ?? (software ? SOFTWARE_MAX_ELEMENTS : Infinity);
    candidates = SHAPES.filter((s) => elementsOf(s.dims) <= cap).map((s) => [...s.dims]);
  }
  const run: number[][] = [];
  const skipped: string[] = [];
  for (const dims of candidates) {
    const bytes = elementsOf(dims) * 4;
    if (bytes > limit) skipped.push(`${shapeName(dims)}: ${bytes} bytes per tensor > device limit ${limit}`);
    else if (dims[0] > device.limits.maxComputeWorkgroupsPerDimension)
      skipped.push(`${shapeName(dims)}: batch too large`);
    else run.push(dims);
  }
  return { run, skipped };
}

/** Runs `fn` in validation / out-of-memory / internal error scopes; throws on any GPU error. */
async function withGpuErrors<T>(device: GPUDevice, fn: () => Promise<T>): Promise<T> {
  const filters: GPUErrorFilter[] = ['validation', 'out-of-memory', 'internal'];
  for (const filter of filters) device.pushErrorScope(filter);
  let result: T | undefined;
  let failure: unknown;
  try {
    result = await fn();
    await device.queue.onSubmittedWorkDone();
  } catch (error) {
    failure = error;
  }
  const messages: string[] = [];
  for (const filter of [...filters].reverse()) {
    const error = await device.popErrorScope();
    if (error) messages.push(`${filter}: ${error.message}`);
  }
  for (const error of takeUncapturedErrors(device)) messages.push(`uncaptured: ${error.message}`);
  if (messages.length > 0) throw new Error(`GPU error(s): ${messages.join('; ')}`);
  if (failure !== undefined) throw failure;
  return result as T;
}

async function readBack(device: GPUDevice, buffer: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
  const size = Math.ceil(bytes / 4) * 4;
  const staging = device.createBuffer({
    label: `bench readback of ${buffer.label}`,
    size,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  try {
    const encoder = device.createCommandEncoder({ label: 'bench readback' });
    encoder.copyBufferToBuffer(buffer, 0, staging, 0, size);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    return staging.getMappedRange().slice(0, bytes);
  } finally {
    staging.destroy();
  }
}

/** '' when every |a - e| <= atol + rtol |e|, else a description of the worst element. */
function mismatch(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  atol: number,
  rtol: number,
  what: string,
): string {
  if (actual.length !== expected.length) return `${what}: length ${actual.length}, expected ${expected.length}`;
  let bad = 0;
  let worst = -1;
  let worstExcess = -Infinity;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const bound = atol + rtol * Math.abs(e);
    if (a === e || Math.abs(a - e) <= bound) continue;
    bad++;
    const excess = Number.isNaN(a - e) ? Infinity : Math.abs(a - e) - bound;
    if (excess > worstExcess) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (bad === 0) return '';
  return (
    `${what}: ${bad} of ${actual.length} out of tolerance (atol ${atol.toExponential(1)}, rtol ${rtol}); ` +
    `worst [${worst}] got ${actual[worst]}, expected ${expected[worst]}`
  );
}

function maxAbs(values: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < values.length; i++) max = Math.max(max, Math.abs(values[i]));
  return max;
}

function checkLoss(got: number, want: number, what: string): string {
  return mismatch([got], [want], LOSS_ATOL, LOSS_RTOL, what);
}

function checkGrad(got: ArrayLike<number>, want: Float64Array, what: string): string {
  return mismatch(got, want, GRAD_TOL * maxAbs(want), GRAD_TOL, what);
}

/** engine.tune()'s timed runs per candidate in the GPU suite. */
const TUNE_REPEATS = 5;

/** The GPU suite's fields of a wgsl-dice row: which plan, and the default plan's kernel-stats rows. */
function suiteFields(
  suite: { plan: 'default' | 'tuned'; kernelStats: KernelStatsFigures[] },
  loss: EngineLoss,
): Partial<Row> {
  return {
    plan: suite.plan,
    ...(loss.plan !== undefined && { note: loss.plan }),
    ...(suite.plan === 'default' && suite.kernelStats.length > 0 && { kernel_stats: suite.kernelStats }),
  };
}

class Bench {
  readonly rows: Row[] = [];
  readonly #options: Options;
  readonly #device: GPUDevice;
  readonly #deviceName: string;
  readonly #timer: GpuTimer;
  readonly #date = new Date().toISOString();
  readonly #bar: cliProgress.SingleBar;
  #copyGbps: number | undefined;

  constructor(options: Options, device: GPUDevice, deviceName: string, timer: GpuTimer, bar: cliProgress.SingleBar) {
    this.#options = options;
    this.#device = device;
    this.#deviceName = deviceName;
    this.#timer = timer;
    this.#bar = bar;
  }

  /** A row with the fields every measurement shares. */
  base(impl: Impl, caseName: string, mode: string, shape: number[], extra: Partial<Row>): Row {
    return newRow({
      device: this.#deviceName,
      case: caseName,
      impl,
      mode,
      shape,
      elements: elementsOf(shape),
      date: this.#date,
      ...extra,
    });
  }

  emit(row: Row): void {
    const rated = withRates(row, this.#copyGbps);
    this.rows.push(rated);
    if (this.#options.json) process.stdout.write(`${jsonLine(rated)}\n`);
    if (rated.check.startsWith('FAIL')) {
      if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
      process.stderr.write(
        `CHECK FAILED: ${rated.impl} ${rated.case} ${shapeName(rated.shape)} ${rated.mode}: ${rated.check.slice(6)}\n`,
      );
      process.exitCode = 1;
    }
  }

  step(label: string): void {
    this.#bar.increment(1, { step: label });
  }

  /** Measures one thing; a thrown error becomes a FAIL row instead of a time. */
  async measure(row: Row, run: () => Promise<Partial<Row>>, emit = true): Promise<Row> {
    let result: Row;
    try {
      result = { ...row, ...(await run()) };
    } catch (error) {
      result = { ...row, check: `FAIL: ${error instanceof Error ? error.message : String(error)}` };
    }
    if (emit) this.emit(result);
    return result;
  }

  /** GPU time of `record`, the run's reps after its warm-up runs: the row's timing fields. */
  async #timed(record: (encoder: GPUCommandEncoder) => void, label: string): Promise<Partial<Row>> {
    const { reps, warmup } = this.#options;
    return timingFields(await this.#timer.time(record, reps, warmup, label), reps);
  }

  /** What the in-tfjs rows (tfjs-integration.ts) need of this benchmark. */
  tfjsHost(): TfjsIntegrationHost {
    return {
      base: (...args) => this.base(...args),
      measure: (row, run) => this.measure(row, run),
      step: (label) => this.step(label),
      checkLoss,
      checkGrad,
      hostReps: this.#options.hostReps,
      warmup: this.#options.warmup,
    };
  }

  startShape(): void {
    this.#copyGbps = undefined;
  }

  /** Both copy variants at this shape; the best GB/s becomes the ceiling for pct_of_copy. */
  async copy(
    kernels: CopyKernels,
    shape: number[],
    inputs: CaseInputs,
    pred: GPUBuffer,
    target: GPUBuffer,
  ): Promise<void> {
    const device = this.#device;
    const elements = elementsOf(shape);
    const out = device.createBuffer({
      label: 'bench copy output',
      size: Math.max(16, Math.ceil(elements / 4) * 16),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
    });
    // The copy's second input is a dense f32 tensor of the loss's size: a label-map target is
    // smaller, so such a case copies a separate f32 buffer (a copy of pred) instead.
    const denseTarget = inputs.target instanceof Float32Array && inputs.target.length === elements;
    const secondData = denseTarget ? (inputs.target as Float32Array) : Float32Array.from(inputs.pred);
    const second = denseTarget ? target : uploadBytes(device, secondData, 'bench copy second input');
    const results: Row[] = [];
    try {
      for (const variant of COPY_VARIANTS) {
        this.step(`copy ${variant.name} ${shapeName(shape)}`);
        const run = kernels.bind(variant, { first: pred, second, out }, elements);
        const row = this.base('copy', variant.name, 'copy', shape, { bytes: copyBytes(variant, elements) });
        results.push(
          await this.measure(
            row,
            () =>
              withGpuErrors(device, async () => {
                // Check once (at the largest grid), then keep the fastest grid for the ceiling.
                const check = device.createCommandEncoder({ label: 'bench copy check' });
                run.encode(check, run.maxWorkgroups);
                device.queue.submit([check.finish()]);
                const got = new Float32Array(await readBack(device, out, elements * 4));
                const problem = mismatch(got, expectedCopy(variant, inputs.pred, secondData), 0, 1e-6, 'copy output');
                if (problem) throw new Error(problem);

                let best = { workgroups: run.maxWorkgroups, median: Infinity };
                for (const workgroups of workgroupCandidates(run.maxWorkgroups)) {
                  const trial = await this.#timer.time(
                    (e) => run.encode(e, workgroups),
                    3,
                    1,
                    `copy trial ${workgroups}`,
                  );
                  const median = summarize(trial.ms).median;
                  if (median < best.median) best = { workgroups, median };
                }
                return {
                  ...(await this.#timed((e) => run.encode(e, best.workgroups), variant.name)),
                  workgroups: best.workgroups,
                };
              }),
            false,
          ),
        );
        run.destroy();
      }
    } finally {
      out.destroy();
      if (second !== target) second.destroy();
    }
    // Both variants are measured before either is reported, so their pct_of_copy uses the ceiling.
    const ceilings = results.filter((r) => r.ms_median !== null).map((r) => r.bytes! / (r.ms_median! * 1e-3) / 1e9);
    if (ceilings.length > 0) this.#copyGbps = Math.max(...ceilings);
    for (const row of results) this.emit(row);
  }

  /**
   * wgsl-dice in both modes: encode into the caller's encoder, buffers prepared once. In the GPU
   * suite (`suite`), the rows name the plan (default or tuned), default rows carry their
   * kernel-stats rows, and the backward passes are also timed alone ('bwd').
   */
  async wgslDice(
    engine: DiceEngine,
    lossCase: LossCase,
    shape: number[],
    reference: ReferenceResult,
    buffers: { pred: GPUBuffer; target: GPUBuffer; loss: GPUBuffer; grad: GPUBuffer },
    suite?: { plan: 'default' | 'tuned'; kernelStats: KernelStatsFigures[] },
  ): Promise<Map<Mode, number>> {
    const device = this.#device;
    const elements = elementsOf(shape);
    const losses = new Map<Mode, number>();
    let dice: EngineLoss | undefined;
    try {
      dice = await lossCase.create(engine, shape);
      const modes = this.#options.impls.has('wgsl-dice') ? this.#options.modes : [];
      for (const mode of modes) {
        this.step(`wgsl-dice ${lossCase.name} ${shapeName(shape)} ${mode}`);
        const encodeBuffers = {
          pred: buffers.pred,
          target: buffers.target,
          loss: buffers.loss,
          grad: mode === 'fwd+bwd' ? buffers.grad : undefined,
        };
        const row = this.base('wgsl-dice', lossCase.name, mode, shape, {
          bytes: lossBytes(lossCase, mode, shape),
          dtype: lossCase.dtype,
          layout: lossCase.layout,
          // What the planner chose, to judge it against the copy's best grid.
          ...dice.describe(mode),
          ...(suite && suiteFields(suite, dice)),
        });
        const loss = dice;
        await this.measure(row, () =>
          withGpuErrors(device, async () => {
            const check = device.createCommandEncoder({ label: 'bench wgsl-dice check' });
            loss.encode(check, encodeBuffers);
            device.queue.submit([check.finish()]);
            const got = new Float32Array(await readBack(device, buffers.loss, 4))[0];
            // Stats hold (dice, intersection, sum p, sum t) per group (the family a second vec4
            // after it): the per-group Dice catches a wrong reduction even where the scalar
            // loss happens to agree.
            const stats = new Float32Array(
              await readBack(device, loss.statsBuffer, loss.groupCount * loss.statsStride),
            );
            const floats = loss.statsStride / 4;
            const groupDice = Float32Array.from({ length: loss.groupCount }, (_, g) => stats[floats * g]);
            const problems = [
              checkLoss(got, reference.loss, 'loss'),
              mismatch(groupDice, reference.dice, LOSS_ATOL, LOSS_RTOL, 'per-group dice'),
            ];
            if (mode === 'fwd+bwd') {
              const grad = new Float32Array(await readBack(device, buffers.grad, elements * 4));
              problems.push(checkGrad(grad, reference.grad, 'grad'));
            }
            const problem = problems.filter(Boolean).join('; ');
            if (problem) throw new Error(problem);
            losses.set(mode, got);

            return this.#timed((e) => loss.encode(e, encodeBuffers), `wgsl-dice ${mode}`);
          }),
        );
      }

      if (suite && this.#options.modes.includes('fwd+bwd'))
        await this.#backwardAlone(dice, lossCase, shape, reference, buffers, suite);

      if (this.#options.impls.has('wgsl-dice-encode-cpu')) {
        this.step(`encode cpu ${lossCase.name} ${shapeName(shape)}`);
        const row = this.base('wgsl-dice-encode-cpu', lossCase.name, 'fwd+bwd', shape, {
          dtype: lossCase.dtype,
          layout: lossCase.layout,
          timing: 'host performance.now() around encode()',
          check: 'n/a',
          note: 'CPU time to record forward+backward into an encoder; nothing submitted',
        });
        const loss = dice;
        await this.measure(row, () =>
          withGpuErrors(device, async () => {
            const encodeBuffers = { ...buffers };
            const calls = this.#options.encodeCalls;
            const ms: number[] = [];
            for (let i = 0; i < calls + 50; i++) {
              const encoder = device.createCommandEncoder({ label: 'bench encode timing' });
              const start = performance.now();
              loss.encode(encoder, encodeBuffers);
              const elapsed = performance.now() - start;
              encoder.finish();
              if (i >= 50) ms.push(elapsed); // the first 50 calls warm up JIT and caches
            }
            const { median, min } = summarize(ms);
            return { ms_median: median, ms_min: min, reps: calls };
          }),
        );
      }
    } finally {
      dice?.destroy();
    }
    return losses;
  }

  /**
   * The backward passes alone (`_encodeBackward`), after the fwd+bwd rows: they read the
   * coefficients the last forward of these inputs left. The copy-kernel comparison the issue
   * asks about (bytes: target read, grad written; the family reads pred too).
   */
  async #backwardAlone(
    loss: EngineLoss,
    lossCase: LossCase,
    shape: number[],
    reference: ReferenceResult,
    buffers: { pred: GPUBuffer; target: GPUBuffer; loss: GPUBuffer; grad: GPUBuffer },
    suite: { plan: 'default' | 'tuned'; kernelStats: KernelStatsFigures[] },
  ): Promise<void> {
    const device = this.#device;
    this.step(`wgsl-dice ${lossCase.name} ${shapeName(shape)} bwd`);
    const row = this.base('wgsl-dice', lossCase.name, 'bwd', shape, {
      bytes: lossBytes(lossCase, 'fwd+bwd', shape) - lossBytes(lossCase, 'fwd', shape),
      dtype: lossCase.dtype,
      layout: lossCase.layout,
      kernels: loss.describe('fwd+bwd').kernels.split('+').slice(2).join('+'),
      ...suiteFields(suite, loss),
    });
    await this.measure(row, () =>
      withGpuErrors(device, async () => {
        const check = device.createCommandEncoder({ label: 'bench wgsl-dice bwd check' });
        loss.encodeBackward(check, buffers);
        device.queue.submit([check.finish()]);
        const grad = new Float32Array(await readBack(device, buffers.grad, elementsOf(shape) * 4));
        const problem = checkGrad(grad, reference.grad, 'grad');
        if (problem) throw new Error(problem);
        return this.#timed((e) => loss.encodeBackward(e, buffers), 'wgsl-dice bwd');
      }),
    );
  }

  /** engine.tune() on this device for a case at a shape: one row with the choice and every candidate's time. */
  async tune(engine: DiceEngine, lossCase: LossCase, shape: number[]): Promise<void> {
    const device = this.#device;
    this.step(`tune ${lossCase.name} ${shapeName(shape)}`);
    const row = this.base('wgsl-dice', lossCase.name, 'tune', shape, {
      bytes: lossBytes(lossCase, 'fwd+bwd', shape),
      dtype: lossCase.dtype,
      layout: lossCase.layout,
      timing: 'timestamp-query',
      reps: TUNE_REPEATS,
      plan: 'tuned',
    });
    await this.measure(row, () =>
      withGpuErrors(device, async () => {
        const probe = await lossCase.create(engine, shape);
        try {
          const result = await engine.tune(probe.loss, { repeats: TUNE_REPEATS, warmup: 2 });
          return {
            ms_median: result.ms,
            ms_min: result.ms,
            choice: result.choice,
            note: `chose ${result.plan}; the default plan ${result.defaultMs.toFixed(4)} ms (engine.tune, loss pass only)`,
            tune: { shapeClass: result.shapeClass, defaultMs: result.defaultMs, timings: result.timings },
          };
        } finally {
          probe.destroy();
        }
      }),
    );
  }

  async tfjs(
    baseline: TfjsBaseline,
    lossCase: LossCase,
    shape: number[],
    inputs: CaseInputs,
    reference: ReferenceResult,
    wgslLosses: Map<Mode, number>,
  ): Promise<void> {
    const { tf } = baseline;
    const { yTrue, yPred } = lossCase.tfjsInputs(tf, inputs, shape);
    try {
      for (const mode of this.#options.modes) {
        this.step(`tfjs ${lossCase.name} ${shapeName(shape)} ${mode}`);
        const row = this.base('tfjs-webgpu', lossCase.name, mode, shape, {
          bytes: lossBytes(lossCase, mode, shape),
          dtype: lossCase.dtype,
          layout: lossCase.layout,
          timing: 'wall-clock(op+await data())',
          note:
            mode === 'fwd'
              ? 'wall clock of the loss ops + await data() of the loss'
              : 'wall clock of tf.valueAndGrad + await data() of loss and grad (grad readback included)',
        });
        const lossFn = lossCase.tfjs;
        const run =
          mode === 'fwd'
            ? async () => {
                const value = tf.tidy(() => lossFn(tf, yTrue, yPred));
                const data = await value.data();
                value.dispose();
                return { loss: data[0], grad: undefined };
              }
            : async () => {
                const { value, grad } = tf.valueAndGrad((p: typeof yPred) => lossFn(tf, yTrue, p))(yPred);
                const [lossData, gradData] = await Promise.all([value.data(), grad.data()]);
                value.dispose();
                grad.dispose();
                return { loss: lossData[0], grad: gradData as Float32Array };
              };
        await this.measure(row, async () => {
          const tensorsBefore = tf.memory().numTensors;
          const first = await run();
          const expectedLoss = wgslLosses.get(mode);
          const problems = [
            expectedLoss === undefined
              ? checkLoss(first.loss, reference.loss, 'loss vs reference')
              : checkLoss(first.loss, expectedLoss, 'loss vs wgsl-dice'),
          ];
          if (first.grad) problems.push(checkGrad(first.grad, reference.grad, 'grad vs reference'));
          const gpuErrors = baseline.takeErrors();
          if (gpuErrors.length) problems.push(`tfjs GPU error(s): ${gpuErrors.join('; ')}`);
          const problem = problems.filter(Boolean).join('; ');
          if (problem) throw new Error(problem);

          const reps = this.#options.hostReps;
          const ms = await timeHost(run, reps, Math.min(this.#options.warmup, 2));
          const leaked = tf.memory().numTensors - tensorsBefore;
          if (leaked > 0) throw new Error(`tfjs baseline leaked ${leaked} tensors`);
          const { median, min } = summarize(ms);
          return { ms_median: median, ms_min: min, reps };
        });
      }
    } finally {
      yTrue.dispose();
      yPred.dispose();
    }
  }

  async referenceCpu(lossCase: LossCase, shape: number[], inputs: CaseInputs): Promise<void> {
    this.step(`reference ${lossCase.name} ${shapeName(shape)}`);
    const elements = elementsOf(shape);
    // diceReference always computes the gradient too, so it is timed as fwd+bwd only.
    const row = this.base('reference-cpu', lossCase.name, 'fwd+bwd', shape, {
      bytes: lossBytes(lossCase, 'fwd+bwd', shape),
      dtype: lossCase.dtype,
      layout: lossCase.layout,
      timing: 'wall-clock(host)',
      check: 'is-reference',
      note: 'float64 JS loops, one thread; always computes loss and grad',
    });
    if (elements > this.#options.referenceMaxElements) {
      this.emit({ ...row, check: 'n/a', note: `not timed above ${this.#options.referenceMaxElements} elements` });
      return;
    }
    await this.measure(row, async () => {
      const reps = this.#options.referenceReps;
      const ms = await timeHost(() => lossCase.reference(inputs, shape), reps, 0);
      const { median, min } = summarize(ms);
      return { ms_median: median, ms_min: min, reps };
    });
  }
}

/** --gpu-suite --dry-run: what the suite would run, one JSON line per case and shape, without a GPU. */
function printSuitePlan(options: Options): void {
  const kernelStatsOf = loadKernelStats(options.kernelStats);
  for (const entry of gpuSuiteEntries(options.quick, options.cases)) {
    const line = {
      case: entry.lossCase.name,
      shape: entry.shape,
      elements: elementsOf(entry.shape),
      plans: ['default', 'tuned'],
      modes: [...options.modes, 'bwd'],
      kernel_stats_rows: kernelStatsOf(entry.lossCase.name, entry.shape).length,
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
  process.stdout.write(`${JSON.stringify({ case: 'cl-dice', via: 'bench-cldice.js --json --skip-tfjs' })}\n`);
}

/**
 * The GPU suite's clDice rows: bench/cldice.ts (its own bundle beside this one) with --json,
 * without tfjs, its JSON lines passed through.
 */
async function clDiceRows(quick: boolean): Promise<Row[]> {
  const program = fileURLToPath(new URL('./bench-cldice.js', import.meta.url));
  const args = [
    program,
    '--json',
    '--skip-tfjs',
    ...(quick ? ['--shapes', '1x64x64x2', '--reps', '3'] : ['--reps', '10']),
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let text = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    text += chunk;
    process.stdout.write(chunk);
  });
  const status = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (status !== 0) {
    process.stderr.write(`clDice bench exited with status ${status}\n`);
    process.exitCode = 1;
  }
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Row);
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (!options) return;
  if (options.gpuSuite && options.dryRun) {
    printSuitePlan(options);
    return;
  }

  const dawnFlags = [
    'disable-dawn-features=timestamp_quantization',
    ...(options.adapter ? [`adapter=${options.adapter}`] : []),
  ];
  const device = await requestNodeDevice({ label: 'wgsl-dice bench', dawnFlags });
  const adapter = describeAdapter(device);
  const deviceName = adapter.description || adapter.device || adapter.vendor || 'unknown adapter';
  const software = isSoftwareAdapter(device);
  const timer = new GpuTimer(device, { forceWallClock: options.wallClock });
  const engine = await DiceEngine.create(device, { label: 'bench' });
  const copyKernels = options.impls.has('copy') ? await CopyKernels.create(device) : undefined;

  let tfjs: TfjsBaseline | undefined;
  if (options.impls.has('tfjs-webgpu') || options.impls.has('wgsl-dice/tfjs')) {
    tfjs = await loadTfjsWebgpu(dawnFlags);
    if (tfjs.adapterDescription !== deviceName) {
      process.stderr.write(`warning: tfjs runs on "${tfjs.adapterDescription}", wgsl-dice on "${deviceName}".\n`);
    }
  }

  if (options.surface) {
    await surfaceRows(options, device, deviceName, timer, engine, software);
    engine.destroy();
    device.destroy();
    return;
  }

  const { run: shapes, skipped } = chooseShapes(options, device, software);
  const header = [
    `wgsl-dice bench  ${new Date().toISOString().slice(0, 10)}`,
    `device: ${deviceName} (vendor ${adapter.vendor || '?'}, architecture ${adapter.architecture || '?'})` +
      (software ? '  [software adapter: runs on the CPU]' : ''),
    `GPU timing: ${timer.method}; tfjs: wall clock incl. await data(); engine grid: ` +
      `${engine.gridProfile.targetWorkgroups} target workgroups of ${engine.gridProfile.workgroupSize}`,
    `command: npm run bench -- ${process.argv.slice(2).join(' ')}`.trimEnd(),
    `host load average at start: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (other processes share the CPU a software adapter runs on)`,
    ...skipped.map((s) => `skipped ${s}`),
  ];
  if (!options.json) process.stderr.write(`${header[1]}\n`);

  // What runs, in order: each case at each shape, or the GPU suite's own list.
  const entries: RunEntry[] = options.gpuSuite
    ? gpuSuiteEntries(options.quick, options.cases).map((entry, i, all) => ({
        ...entry,
        seed: SEED + options.cases.indexOf(entry.lossCase),
        copyFirst: i === 0 || all[i - 1].benchShape.join('x') !== entry.benchShape.join('x'),
      }))
    : shapes.flatMap((benchShape) =>
        options.cases.flatMap((lossCase, index) =>
          // A volume case runs once, at its own shape.
          lossCase.fixedDims && benchShape !== shapes[0]
            ? []
            : [
                {
                  lossCase,
                  benchShape,
                  // The case's own shape (channels-first cases permute [B, H, W, C] to [B, C, H, W]).
                  shape: lossCase.fixedDims ? [...lossCase.fixedDims] : lossCase.dims(benchShape),
                  seed: SEED + index,
                  copyFirst: index === 0,
                },
              ],
        ),
      );
  const impls = options.impls;
  const stepsPerCase =
    (impls.has('wgsl-dice') ? options.modes.length : 0) +
    (impls.has('wgsl-dice-encode-cpu') ? 1 : 0) +
    (tfjs && impls.has('tfjs-webgpu') ? options.modes.length : 0) +
    (impls.has('reference-cpu') ? 1 : 0);
  // The losses inside tfjs: two tf.grad rows per case and shape, two unet-step rows per case and
  // one stand-in step per model head.
  const inTfjs = tfjs && impls.has('wgsl-dice/tfjs') ? options.cases.filter((c) => c.tfjsLibrary) : [];
  const heads = new Set(inTfjs.map((c) => c.passes)).size;
  const total = options.gpuSuite
    ? entries.length * (2 * options.modes.length + 3) + entries.filter((e) => e.copyFirst).length * COPY_VARIANTS.length
    : shapes.length *
        ((copyKernels ? COPY_VARIANTS.length : 0) + options.cases.length * stepsPerCase + 2 * inTfjs.length) +
      2 * inTfjs.length +
      heads;
  const bar = new cliProgress.SingleBar(
    { format: 'bench [{bar}] {value}/{total} {step}', hideCursor: true, clearOnComplete: true, stream: process.stderr },
    cliProgress.Presets.legacy,
  );
  bar.start(total, 0, { step: '' });
  const bench = new Bench(options, device, deviceName, timer, bar);

  const kernelStatsOf = options.gpuSuite ? loadKernelStats(options.kernelStats) : () => [];
  // Tuned choices apply to every later loss of their shape class: the default plans come from an
  // engine that never tunes.
  const tuneEngine = options.gpuSuite ? await DiceEngine.create(device, { label: 'bench tuned' }) : undefined;
  const started = performance.now();
  const overBudget = () => options.gpuSuite && performance.now() - started > SUITE_BUDGET_S * 1000;

  for (const { lossCase, benchShape, shape: caseShape, seed, copyFirst } of entries) {
    const shape = [...caseShape];
    if (copyFirst) bench.startShape();
    if (overBudget()) {
      bench.emit(
        bench.base('wgsl-dice', lossCase.name, 'fwd+bwd', shape, {
          dtype: lossCase.dtype,
          layout: lossCase.layout,
          check: `skipped: past the suite's ${SUITE_BUDGET_S} s budget`,
        }),
      );
      continue;
    }
    const elements = elementsOf(shape);
    const inputs = lossCase.makeInputs(shape, seed);
    const reference = lossCase.reference(inputs, shape);
    const pred = uploadBytes(device, lossCase.predUpload?.(inputs.pred) ?? inputs.pred, 'bench pred');
    const target = uploadBytes(device, inputs.target, 'bench target');
    const lossBuffer = device.createBuffer({
      label: 'bench loss',
      size: 16,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
    });
    const grad = device.createBuffer({
      label: 'bench grad',
      size: Math.max(16, Math.ceil(elements / 4) * 16),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
    });
    const buffers = { pred, target, loss: lossBuffer, grad };
    try {
      if (copyFirst && copyKernels) await bench.copy(copyKernels, [...benchShape], inputs, pred, target);
      let wgslLosses = new Map<Mode, number>();
      if (impls.has('wgsl-dice') || impls.has('wgsl-dice-encode-cpu')) {
        const suite = tuneEngine && { plan: 'default' as const, kernelStats: kernelStatsOf(lossCase.name, shape) };
        wgslLosses = await bench.wgslDice(engine, lossCase, shape, reference, buffers, suite);
      }
      if (tuneEngine) {
        await bench.tune(tuneEngine, lossCase, shape);
        await bench.wgslDice(tuneEngine, lossCase, shape, reference, buffers, { plan: 'tuned', kernelStats: [] });
      }
      if (tfjs && impls.has('tfjs-webgpu')) await bench.tfjs(tfjs, lossCase, shape, inputs, reference, wgslLosses);
      if (tfjs && inTfjs.includes(lossCase))
        await lossInTfjs(bench.tfjsHost(), tfjs, lossCase, shape, inputs, reference);
      if (impls.has('reference-cpu')) await bench.referenceCpu(lossCase, shape, inputs);
    } finally {
      pred.destroy();
      target.destroy();
      lossBuffer.destroy();
      grad.destroy();
    }
  }
  tuneEngine?.destroy();
  if (options.gpuSuite && (options.cases.length === LOSS_CASES.length || options.quick)) {
    if (overBudget()) process.stderr.write(`clDice skipped: past the suite's ${SUITE_BUDGET_S} s budget\n`);
    else for (const row of await clDiceRows(options.quick)) bench.rows.push(row);
  }
  if (tfjs && inTfjs.length > 0) await unetSteps(bench.tfjsHost(), tfjs, inTfjs);
  bar.stop();

  const rows = bench.rows;
  const table = formatTable(header, rows);
  const summary = formatSpeedups(speedups(rows));
  (options.json ? process.stderr : process.stdout).write(`${table}\n${summary ? `\n${summary}\n` : ''}`);

  engine.destroy();
  await device.queue.onSubmittedWorkDone();
  device.destroy();
}

/** `--surface`: the surface rows (bench/surface.ts) in the same JSON lines and table. */
async function surfaceRows(
  options: Options,
  device: GPUDevice,
  deviceName: string,
  timer: GpuTimer,
  engine: DiceEngine,
  software: boolean,
): Promise<void> {
  const shapes = options.shapes ?? (options.quick ? SURFACE_BENCH.shapes.slice(0, 1) : SURFACE_BENCH.shapes);
  const header = [
    `wgsl-dice bench --surface  ${new Date().toISOString().slice(0, 10)}`,
    `device: ${deviceName}${software ? '  [software adapter: runs on the CPU]' : ''}`,
    `GPU timing: ${timer.method}; command: npm run bench -- ${process.argv.slice(2).join(' ')}`,
    `host load average at start: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  ];
  if (!options.json) process.stderr.write(`${header[1]}\n`);
  const rows: Row[] = [];
  const bar = new cliProgress.SingleBar(
    { format: 'bench [{bar}] {value}/{total} {step}', hideCursor: true, clearOnComplete: true, stream: process.stderr },
    cliProgress.Presets.legacy,
  );
  bar.start(shapes.length * 8, 0, { step: '' });
  await runSurfaceBench({
    device,
    deviceName,
    engine,
    timer,
    shapes,
    reps: Math.min(options.reps, 5),
    hostReps: options.referenceReps,
    emit(row) {
      rows.push(row);
      if (options.json) process.stdout.write(`${jsonLine(row)}\n`);
      if (row.check.startsWith('FAIL')) process.exitCode = 1;
    },
    step: (label) => bar.increment(1, { step: label }),
  });
  bar.stop();
  const summary = formatSurfaceSummary(rows);
  (options.json ? process.stderr : process.stdout).write(
    `${formatTable(header, rows)}\n${summary ? `\n${summary}\n` : ''}`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`\nbench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
