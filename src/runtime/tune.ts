import { WgslDiceError } from '../core/errors.js';
import { describeValue, optionalBoolean, ownOptions } from '../core/validate.js';
import { canonicalChoice, programIdentity, type DeviceCaps } from '../program/candidates.js';
import { describeChoice, type PlanChoice } from '../program/profile.js';
import type { LossProgram, TensorName, TensorSpec } from '../program/program.js';
import { checkChoice } from '../program/tuning-table.js';
import type { LossHost } from './host.js';
import { median, requireTimestamps, timeRecordings } from './pass-timer.js';

// engine.tune(): times candidate plans of one loss on the device and picks the fastest. The
// engine supplies the planning and the loss classes; this module knows neither.

/** How {@link DiceEngine.tune} measures. */
export interface TuneOptions {
  /** Timed runs of each candidate (default 10, at most 100); its median decides. */
  repeats?: number;
  /** Untimed runs of each candidate first (default 2). */
  warmup?: number;
  /** Time the backward passes too (default: true where the loss has a gradient). */
  grad?: boolean;
  /**
   * The choices to time, instead of the default candidates (each knob moved alone from the
   * device class's plan, then the best moves together). The device class's plan is always timed.
   */
  candidates?: readonly PlanChoice[];
  /**
   * Input buffers to time on (the loss's tensors by name: pred, target, mask); default:
   * buffers tune() fills with a constant. The timings of these kernels do not depend on the values.
   */
  inputs?: Readonly<Partial<Record<'pred' | 'target' | 'mask', GPUBuffer>>>;
}

/** One candidate's median GPU time. */
export interface PlanTiming {
  readonly choice: PlanChoice;
  /** The choice in words (`workgroupSize=128`, or 'the defaults'). */
  readonly plan: string;
  readonly ms: number;
}

/** What {@link DiceEngine.tune} found. */
export interface TuneResult {
  /** The losses the choice is kept for (see shapeClassOf in src/program/candidates.ts). */
  readonly shapeClass: string;
  /** The fastest choice ({} when the device class's plan was fastest). */
  readonly choice: PlanChoice;
  readonly plan: string;
  /** Its median GPU milliseconds per run, and the device class's plan's. */
  readonly ms: number;
  readonly defaultMs: number;
  /** Every candidate timed, in the order timed (the final round last). */
  readonly timings: readonly PlanTiming[];
}

/** The buffers a timed run binds, by tensor name. */
export interface TimedBuffers {
  pred: GPUBuffer;
  target: GPUBuffer;
  loss: GPUBuffer;
  grad?: GPUBuffer;
  mask?: GPUBuffer;
}

/** A loss made for timing: what tune() records. */
export interface TimedLoss {
  encode(
    encoder: GPUCommandEncoder,
    buffers: TimedBuffers,
    options: { timestampWrites: GPUComputePassTimestampWrites },
  ): void;
  destroy(): void;
}

/** What the engine gives tune(): its device, the loss's plans, and a way to make each. */
export interface TuneContext {
  readonly host: LossHost;
  /** The device class's plan: the tensors, and whether there is a gradient. */
  readonly defaultProgram: LossProgram;
  readonly shapeClass: string;
  readonly caps: DeviceCaps;
  /** The default candidates (candidateChoices). */
  readonly candidates: readonly PlanChoice[];
  plan(choice: PlanChoice): { program: LossProgram; workgroupSize: number };
  create(choice: PlanChoice): Promise<TimedLoss>;
}

/** A knob moved alone counts as helping when it beats the device class's plan by 2% or more. */
const IMPROVEMENT = 0.98;

export async function tunePlans(context: TuneContext, given: TuneOptions): Promise<TuneResult> {
  const options = readOptions(given, context);
  const { host, defaultProgram } = context;
  requireTimestamps(host.device);
  const explicit = options.candidates !== undefined;
  const first = distinctPlans(context, [{}, ...(options.candidates ?? context.candidates)], explicit);
  const buffers = inputBuffers(host.device, defaultProgram, options);
  try {
    const timings = await timeChoices(context, first, buffers.all, options);
    let best = fastest(timings);
    if (!explicit) {
      // The knobs that helped alone, each at its best value, moved together.
      const base = timings[0].ms;
      const moves = new Map<string, PlanTiming>();
      for (const t of timings.slice(1)) {
        if (t.ms >= base * IMPROVEMENT) continue;
        const knob = Object.keys(t.choice).join(',');
        if (!moves.has(knob) || moves.get(knob)!.ms > t.ms) moves.set(knob, t);
      }
      const combined = canonicalChoice(Object.assign({}, ...[...moves.values()].map((t) => t.choice)));
      const final = distinctPlans(context, [{}, best.choice, combined], false);
      if (moves.size >= 2 && final.length === 3) {
        const round = await timeChoices(context, final, buffers.all, options);
        timings.push(...round);
        best = fastest(round);
      }
    }
    const defaultMs = timings.filter((t) => Object.keys(t.choice).length === 0).at(-1)!.ms;
    return { shapeClass: context.shapeClass, ...best, defaultMs, timings };
  } finally {
    for (const buffer of buffers.own) buffer.destroy();
  }
}

function readOptions(given: TuneOptions, context: TuneContext) {
  const o = ownOptions<TuneOptions>('tune option', given, ['repeats', 'warmup', 'grad', 'candidates', 'inputs']);
  const count = (name: string, value: unknown, fallback: number, low: number, high: number) => {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < low || value > high) {
      throw new WgslDiceError(
        'INVALID_OPTION',
        `${name} must be an integer in [${low}, ${high}], got ${describeValue(value)}.`,
      );
    }
    return value;
  };
  const hasGrad = context.defaultProgram.passes.some((p) => p.group === 'backward');
  const grad = optionalBoolean('grad', o.grad, hasGrad);
  if (grad && !hasGrad) {
    throw new WgslDiceError('INVALID_OPTION', 'grad: true, but this loss has no gradient (a metric); omit grad.');
  }
  let candidates: PlanChoice[] | undefined;
  if (o.candidates !== undefined) {
    if (!Array.isArray(o.candidates)) {
      throw new WgslDiceError(
        'INVALID_OPTION',
        `candidates must be an array of plan choices, got ${describeValue(o.candidates)}.`,
      );
    }
    candidates = o.candidates.map((c, i) => checkChoice(c, `candidates[${i}]`, context.caps));
  }
  const inputs = o.inputs ?? {};
  if (typeof inputs !== 'object' || inputs === null) {
    throw new WgslDiceError('INVALID_OPTION', `inputs must be an object of GPU buffers, got ${describeValue(inputs)}.`);
  }
  const reads = context.defaultProgram.tensors.filter((t) => t.access === 'read').map((t) => t.name as string);
  for (const [name, buffer] of Object.entries(inputs)) {
    if (!reads.includes(name)) {
      throw new WgslDiceError('UNKNOWN_OPTION', `inputs.${name}: this loss reads ${reads.join(', ')}.`);
    }
    if (typeof buffer !== 'object' || buffer === null || typeof (buffer as GPUBuffer).destroy !== 'function') {
      throw new WgslDiceError('INVALID_INPUT', `inputs.${name} must be a GPUBuffer, got ${describeValue(buffer)}.`);
    }
  }
  return {
    repeats: count('repeats', o.repeats, 10, 1, 100),
    warmup: count('warmup', o.warmup, 2, 0, 20),
    grad,
    candidates,
    inputs: inputs as Partial<Record<TensorName, GPUBuffer>>,
  };
}

/**
 * The choices whose programs differ, in order. A default candidate whose plan fails (a grid the
 * device cannot run) is left out; an explicit one throws.
 */
function distinctPlans(context: TuneContext, choices: readonly PlanChoice[], explicit: boolean): PlanChoice[] {
  const seen = new Set<string>();
  const out: PlanChoice[] = [];
  choices.forEach((choice, i) => {
    let identity: string;
    try {
      const { program, workgroupSize } = context.plan(choice);
      identity = programIdentity(program, workgroupSize);
    } catch (error) {
      if (explicit || i === 0) throw error;
      return;
    }
    if (seen.has(identity)) return;
    seen.add(identity);
    out.push(choice);
  });
  return out;
}

async function timeChoices(
  context: TuneContext,
  choices: readonly PlanChoice[],
  buffers: Record<string, GPUBuffer>,
  options: ReturnType<typeof readOptions>,
): Promise<PlanTiming[]> {
  const losses: TimedLoss[] = [];
  try {
    for (const choice of choices) losses.push(await context.create(choice));
    const bound = { ...buffers } as Record<string, GPUBuffer | undefined>;
    if (!options.grad) delete bound.grad;
    const timed = bound as unknown as TimedBuffers;
    const samples = await timeRecordings(
      context.host,
      losses.map((loss) => (encoder, timestampWrites) => loss.encode(encoder, timed, { timestampWrites })),
      options.repeats,
      options.warmup,
    );
    return choices.map((choice, i) => ({ choice, plan: describeChoice(choice), ms: median(samples[i]) }));
  } finally {
    for (const loss of losses) loss.destroy();
  }
}

/** The first of the fastest. */
function fastest(timings: readonly PlanTiming[]): PlanTiming {
  return timings.reduce((best, t) => (t.ms < best.ms ? t : best));
}

/**
 * Every tensor the program binds except stats (the loss's own stands in): the caller's inputs
 * where given, else buffers made here and filled with a constant (0.25 for floats, label 0).
 */
function inputBuffers(
  device: GPUDevice,
  program: LossProgram,
  options: { inputs: Partial<Record<TensorName, GPUBuffer>> },
): { all: Record<string, GPUBuffer>; own: GPUBuffer[] } {
  const all: Record<string, GPUBuffer> = {};
  const own: GPUBuffer[] = [];
  for (const tensor of program.tensors) {
    if (tensor.name === 'stats') continue;
    const given = options.inputs[tensor.name];
    if (given) {
      all[tensor.name] = given;
      continue;
    }
    const buffer = device.createBuffer({
      label: `wgsl-dice tune ${tensor.name}`,
      size: Math.max(16, Math.ceil(tensor.bytes / 16) * 16),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      mappedAtCreation: tensor.access === 'read',
    });
    if (tensor.access === 'read') {
      fill(new Uint32Array(buffer.getMappedRange()), tensor);
      buffer.unmap();
    }
    own.push(buffer);
    all[tensor.name] = buffer;
  }
  return { all, own };
}

/** 0.25 in every f32 (and f16) element; integer labels stay 0. */
function fill(words: Uint32Array, tensor: TensorSpec): void {
  const type = tensor.host?.type ?? 'f32';
  if (type === 'f32') words.fill(0x3e800000);
  else if (type === 'f16-bits') words.fill(0x34003400);
}
