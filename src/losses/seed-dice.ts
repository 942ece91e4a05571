import { WgslDiceError } from '../core/errors.js';
import { toFloat16Bits } from '../core/half.js';
import type { DiceShaderName } from '../kernels/sources.js';
import type { LossProgram } from '../program/program.js';
import type { SeedGrids } from '../program/seed.js';
import { encodeBuffers, type BufferArg } from '../runtime/caller-buffers.js';
import type { LossHost } from '../runtime/host.js';
import type { NestedNumbers } from '../runtime/nested-input.js';
import { ProgramLoss, type CompiledPass, type EncodeOptions } from '../runtime/program-loss.js';
import { rejectOverflow } from '../runtime/status.js';
import { snapshotCompute } from '../runtime/submit.js';
import type { NormalizedDiceOptions } from '../spec/seed.js';

/** Buffers for one {@link DiceLoss.encode}: all caller-owned, all with STORAGE usage. */
export interface DiceEncodeBuffers {
  /** f32 probabilities, `[B, ...spatial, C]` channels-last. */
  pred: BufferArg;
  /** f32 targets (one-hot or soft), same shape as pred. */
  target: BufferArg;
  /** Receives the scalar loss (one f32). */
  loss: BufferArg;
  /** Receives dL/dpred (f32, same shape as pred); omit to run the forward pass only. */
  grad?: BufferArg;
  /**
   * Receives one vec4<f32> per (sample, class) group: (dice, intersection, sum of pred, sum of
   * target). Omit to use the loss's own {@link DiceLoss.statsBuffer}.
   */
  stats?: BufferArg;
}

/**
 * Host input for {@link DiceLoss.compute}: a Float32Array, the raw bits of f16 values in a
 * Uint16Array (predType f16; a Float32Array is rounded to f16 for you), nested arrays of numbers
 * (row-major, the shape's element count), or a GPU buffer.
 */
export type DiceInput = Float32Array | Uint16Array | NestedNumbers | BufferArg;

export interface DiceResult {
  loss: number;
  /**
   * One entry per group, sample-major: (sample, class) for per-class Dice, one per sample for
   * global Dice. The same arrays as {@link perClass}, under the names engine.loss() results use
   * (score = dice, tp = intersection): read either.
   */
  groups: {
    score: Float32Array;
    tp: Float32Array;
    predSum: Float32Array;
    targetSum: Float32Array;
  };
  /** {@link groups} under the TensorFlow code's names (dice, intersection); kept for existing code. */
  perClass: {
    dice: Float32Array;
    intersection: Float32Array;
    predSum: Float32Array;
    targetSum: Float32Array;
  };
  /** dL/dpred, present when `grad: true` was asked for. */
  grad?: Float32Array;
}

/**
 * One Dice loss of the classic TensorFlow kind (global, class-weighted or multi-class softmax Dice on
 * probabilities) for a fixed shape, created by {@link DiceEngine.dice}: a spec of the one
 * pipeline (src/program), run by the shared runtime. It owns its uniforms and scratch buffers
 * (allocated once), borrows the caller's buffers, and caches bind groups by the buffers they
 * bind, so a steady training loop allocates nothing.
 */
export class DiceLoss extends ProgramLoss {
  readonly options: NormalizedDiceOptions;
  /** @internal The planner's grid and windows for this loss (not public API; may change in any release). */
  readonly plan: SeedGrids;
  /** The WGSL kernels this loss runs (shaders/NAME.wgsl, or a generated f16 variant of one). */
  readonly kernels: { reduce: DiceShaderName; finalize: DiceShaderName; backward: DiceShaderName };
  /** Number of Dice groups: B * C for per-class, B for global. */
  readonly groupCount: number;

  /** @internal Use {@link DiceEngine.dice}. */
  constructor(
    host: LossHost,
    options: NormalizedDiceOptions,
    program: LossProgram<SeedGrids>,
    passes: readonly CompiledPass[],
  ) {
    super(host, program, passes, { what: 'Dice loss', createdBy: 'engine.dice()' });
    this.options = options;
    this.plan = program.grids;
    const [reduce, finalize, backward] = program.passes.map((p) => p.kernel as DiceShaderName);
    this.kernels = { reduce, finalize, backward };
    this.groupCount = options.shape.batch * this.plan.groupsPerSlab;
  }

  /** Default destination of the per-group stats (see {@link DiceEncodeBuffers.stats}). */
  get statsBuffer(): GPUBuffer {
    return this.scratchBuffer('stats');
  }

  get elementCount(): number {
    return this.options.shape.elements;
  }

  protected get classCount(): number {
    return this.options.shape.classes;
  }

  /**
   * Records the forward pass (and the backward pass when `grad` is given) into the caller's
   * encoder, or into a compute pass the caller has begun. It submits nothing and reads nothing
   * back; after the first call with a given set of buffers it creates no GPU object at all.
   * Input faults (NaN or infinite values) land in {@link statusBuffer}: see {@link readStatus}.
   *
   * Every argument is checked before anything is recorded (a rejected call leaves the encoder
   * as it was), except whether a buffer was destroyed: WebGPU only reports that at submit, so
   * a destroyed buffer shows up as a validation error of the caller's `queue.submit`.
   *
   * @example
   * const encoder = device.createCommandEncoder();
   * loss.encode(encoder, { pred, target, loss: lossBuffer, grad: gradBuffer });
   * device.queue.submit([encoder.finish()]);
   */
  encode(encoder: GPUCommandEncoder | GPUComputePassEncoder, given: DiceEncodeBuffers, options?: EncodeOptions): void {
    this.assertUsable();
    const owned = { statusBuffer: this.statusBuffer, statsBuffer: this.statsBuffer };
    const buffers = encodeBuffers<DiceEncodeBuffers>(given, ['pred', 'target', 'loss', 'grad', 'stats'], owned, [
      'stats',
    ]);
    this.record(encoder, buffers, options);
  }

  /**
   * Runs the loss once and reads the results back: the convenient path for tests, tools and
   * inference-time evaluation. Inputs may be Float32Arrays (copied at the call, uploaded into
   * buffers this loss keeps) or GPU buffers. Calls on one loss run one after another. Throws
   * NON_FINITE_INPUT when pred or target holds NaN or infinite values.
   */
  async compute(pred: DiceInput, target: DiceInput, given: { grad?: boolean } = {}): Promise<DiceResult> {
    this.assertUsable();
    // The caller's arrays are copied by the runtime at this call; only the options are read here.
    const { options } = snapshotCompute(null, null, given, ['grad']);
    const f16 = this.options.predType === 'f16';
    const input = f16 && pred instanceof Float32Array ? toFloat16Bits(pred) : pred;
    const out = await this.runOnce({ pred: input, target }, options.grad === true, '');
    const stats = out.sections.get('stats')!;
    const column = (k: number) => Float32Array.from({ length: this.groupCount }, (_, g) => stats[g * 4 + k]);
    const [score, tp, predSum, targetSum] = [0, 1, 2, 3].map(column);
    const result: DiceResult = {
      loss: out.parts[0],
      groups: { score, tp, predSum, targetSum },
      perClass: { dice: score, intersection: tp, predSum, targetSum },
    };
    if (out.grad) result.grad = out.grad;
    rejectEmptyGroupWithoutSmoothing(this.options, result.perClass);
    rejectOverflow(result.loss, [result.perClass.intersection, result.perClass.predSum, result.perClass.targetSum]);
    return result;
  }
}

/**
 * With epsilon's denominator 0, a group whose prediction and target are both empty has Dice 0/0:
 * compute() says so instead of returning NaN (encode() leaves NaN in the loss buffer, as documented).
 */
function rejectEmptyGroupWithoutSmoothing(o: NormalizedDiceOptions, perClass: DiceResult['perClass']): void {
  if (o.smoothDenominator !== 0) return;
  const group = perClass.predSum.findIndex((p, g) => p + perClass.targetSum[g] === 0);
  if (group >= 0) {
    throw new WgslDiceError(
      'INVALID_OPTION',
      `Dice group ${group} has an empty prediction and target and epsilon's denominator is 0, so its Dice is 0/0 (NaN); ` +
        'give epsilon a positive denominator, e.g. { numerator: 0, denominator: 1e-6 }.',
    );
  }
}
