import { WgslDiceError } from '../core/errors.js';
import { fromFloat16Bits, toFloat16Bits } from '../core/half.js';
import { termScale } from '../program/family.js';
import type { LossProgram } from '../program/program.js';
import type { VoxelGrids } from '../program/voxel.js';
import { encodeBuffers, type BufferArg } from '../runtime/caller-buffers.js';
import type { LossHost } from '../runtime/host.js';
import type { NestedNumbers } from '../runtime/nested-input.js';
import { ProgramLoss, type CompiledPass, type EncodeOptions } from '../runtime/program-loss.js';
import { rejectOverflow } from '../runtime/status.js';
import { snapshotCompute } from '../runtime/submit.js';
import { groupCount, type NormalizedLossOptions } from '../spec/family.js';

export interface LossEncodeBuffers {
  /** Probabilities or logits (see `activation`), f32 or f16 (`predType`), in the declared shape and layout. */
  pred: BufferArg;
  /** Dense f32 targets of pred's shape, or the packed integer label map `[B, ...spatial]`. */
  target: BufferArg;
  /** Receives the scalar loss (one f32). */
  loss: BufferArg;
  /** Receives dL/d(pred input), f32 or f16 (`gradType`): w.r.t. logits when an activation is fused. */
  grad?: BufferArg;
  /** f32 voxel mask when the loss was created with `mask`. */
  mask?: BufferArg;
}

export type TargetInput = Float32Array | Uint8Array | Uint16Array | Uint32Array | NestedNumbers | BufferArg;

export interface LossResult {
  loss: number;
  /** The Dice-family term before lambdaDice (after gamma). */
  diceLoss: number;
  /** The cross-entropy term before its lambda (0 without crossEntropy). */
  crossEntropy: number;
  /** The focal term before its lambda (0 without focal). */
  focal: number;
  /** With `boundary`: the boundary term mean(p * phi) before its lambda. */
  boundary?: number;
  /**
   * With focal: per (sample, class) pair, sample-major, the focal terms' sum times the class's
   * alpha and weight, before the reduction's division (0 for classes outside the focal term).
   */
  pairFocal?: Float32Array;
  /** Per group (sample-major, then class): score, tp, sum of pred, sum of target, value, weight. */
  groups: {
    score: Float32Array;
    tp: Float32Array;
    predSum: Float32Array;
    targetSum: Float32Array;
    value: Float32Array;
    weight: Float32Array;
  };
  grad?: Float32Array;
}

/**
 * What else makes a pred value non-finite in mask-the-logits mode: the kernels compute
 * pred x mask in f32, so finite values whose product passes 3.4e38 (1e30 x 1e10) overflow.
 */
const OVERFLOWING_SCALED_LOGITS =
  " (with mask: 'logits' also a finite logit times its mask beyond f32's range, |pred x mask| > 3.4e38: " +
  'rescale the logits or the mask)';

/**
 * compute()'s pred for predType 'f16': the bits of f16 values in a Uint16Array, or a Float32Array
 * rounded to f16 here (as engine.dice does); anything else as given.
 */
export function halfInput<T>(pred: T, predType: 'f32' | 'f16'): T | Uint16Array {
  return predType === 'f16' && pred instanceof Float32Array ? toFloat16Bits(pred) : pred;
}

/** compute()'s gradient as f32: an f16 gradient (gradType 'f16') read back as bits and widened. */
export function widenGradient(grad: Float32Array, elements: number, gradType: 'f32' | 'f16'): Float32Array {
  if (gradType === 'f32') return grad;
  return Float32Array.from(fromFloat16Bits(new Uint16Array(grad.buffer, grad.byteOffset, elements)));
}

/**
 * NON_FINITE_INPUT when a term of a loss whose inputs were all finite came out infinite: the
 * finite values were so large (logits, weights or options near f32's limit, 3.4e38) that the
 * term itself passes f32's range. (The loss is then NaN, as it is on the encode path; a term
 * whose mean is finite stays finite: see family_forward.wgsl's term_scale.)
 */
function rejectTermOverflow(result: LossResult): void {
  if (Number.isFinite(result.loss)) return;
  const parts = [
    ['Dice term', result.diceLoss],
    ['cross-entropy term', result.crossEntropy],
    ['focal term', result.focal],
  ] as const;
  const infinite = parts.filter(([, value]) => value === Infinity || value === -Infinity);
  if (infinite.length === 0) return;
  throw new WgslDiceError(
    'NON_FINITE_INPUT',
    `The loss is NaN although every input value is finite: its ${infinite.map(([name, v]) => `${name} came out ${v}`).join(' and its ')}, ` +
      "past f32's range (3.4e38). Rescale the inputs or the weights (a 'sum' reduction of large terms overflows first; 'mean' stays in range).",
  );
}

/**
 * A Dice-family loss of fixed shape and options (see {@link LossOptions}), created by
 * {@link DiceEngine.loss}: a spec of the one pipeline (src/program), with activation, label
 * maps, masks and cross-entropy fused into one voxel-major reduction, a one-workgroup finalize
 * and one elementwise backward pass.
 */
export class FamilyLoss extends ProgramLoss {
  readonly options: NormalizedLossOptions;
  readonly groupCount: number;
  /** The grids and binding windows of the passes. */
  readonly plan: VoxelGrids;

  /** @internal Use {@link DiceEngine.loss}. */
  constructor(
    host: LossHost,
    options: NormalizedLossOptions,
    program: LossProgram<VoxelGrids>,
    passes: readonly CompiledPass[],
  ) {
    super(host, program, passes, { what: 'loss', createdBy: 'engine.loss()' });
    this.options = options;
    this.plan = program.grids;
    this.groupCount = groupCount(options);
  }

  /**
   * Per group, two vec4<f32>: (score, tp, P, G) and (value, T, target mass, weight). T, the sum of
   * min(p, g), is summed only in the soft-label forms (`softLabel`; 0 otherwise): the forward
   * adds only the sums its loss needs.
   */
  get statsBuffer(): GPUBuffer {
    return this.scratchBuffer('stats');
  }

  /** Bytes the target buffer must hold: f32 per element, or the packed label map. */
  get targetBytes(): number {
    return this.program.tensors.find((t) => t.name === 'target')!.bytes;
  }

  get maskBytes(): number {
    return (this.options.maskPerSample ? this.options.batch : 1) * this.options.spatial * 4;
  }

  protected get classCount(): number {
    return this.options.classes;
  }

  /**
   * Records the passes into the caller's encoder, or into a compute pass the caller has begun
   * (no submit, no readback; no GPU allocation once the buffers have been seen). Input faults
   * land in {@link statusBuffer}: see {@link readStatus}.
   */
  encode(encoder: GPUCommandEncoder | GPUComputePassEncoder, given: LossEncodeBuffers, options?: EncodeOptions): void {
    this.assertUsable();
    const owned = { statusBuffer: this.statusBuffer, statsBuffer: this.statsBuffer };
    const buffers = encodeBuffers<LossEncodeBuffers>(given, ['pred', 'target', 'loss', 'grad', 'mask'], owned);
    this.#checkOptional(buffers.mask !== undefined, buffers.grad !== undefined);
    this.record(encoder, buffers, options);
  }

  #checkOptional(mask: boolean, grad: boolean): void {
    const o = this.options;
    if (o.mask !== 'none' && !mask) {
      throw new WgslDiceError('INVALID_INPUT', `This loss was created with mask: '${o.mask}'; pass the mask buffer.`);
    }
    if (o.mask === 'none' && mask) {
      throw new WgslDiceError(
        'INVALID_INPUT',
        "A mask was passed but this loss was created without one; create it with mask: 'weight' or 'logits'.",
      );
    }
    if (grad && (o.activation === 'argmax' || o.activation === 'threshold')) {
      throw new WgslDiceError('INVALID_INPUT', 'Metrics on binarised predictions have no gradient; omit grad.');
    }
  }

  /**
   * Runs the loss once on host arrays (copied at the call; nested arrays are flattened row-major,
   * holding exactly the elements the shape needs) or GPU buffers and reads everything back.
   * Throws LABEL_OUT_OF_RANGE or NON_FINITE_INPUT (with the count and first index) when the input
   * was bad, rather than returning a silently wrong number. With predType 'f16', pred is the bits
   * of f16 values (a Uint16Array) or a Float32Array, rounded to f16 here; with gradType 'f16' the
   * gradient comes back widened to f32 (its values are f16's).
   */
  async compute(
    pred: Float32Array | Uint16Array | NestedNumbers | BufferArg,
    target: TargetInput,
    given: { grad?: boolean; mask?: Float32Array | NestedNumbers | BufferArg } = {},
  ): Promise<LossResult> {
    this.assertUsable();
    // The caller's arrays are copied by the runtime at this call; only the options are read here.
    const { options } = snapshotCompute(null, null, given, ['grad', 'mask']);
    const wantGrad = options.grad === true;
    this.#checkOptional(options.mask !== undefined, wantGrad);
    const o = this.options;
    const out = await this.runOnce(
      { pred: halfInput(pred, o.predType), target, mask: options.mask },
      wantGrad,
      'fix the labels, or set ignoreIndex for a void label.',
      o.mask === 'logits' ? OVERFLOWING_SCALED_LOGITS : '',
    );
    const stats = out.sections.get('stats')!;
    const column = (k: number) => Float32Array.from({ length: this.groupCount }, (_, g) => stats[g * 8 + k]);
    const result: LossResult = {
      loss: out.parts[0],
      diceLoss: out.parts[1],
      crossEntropy: out.parts[2],
      focal: out.parts[3],
      groups: {
        score: column(0),
        tp: column(1),
        predSum: column(2),
        targetSum: column(3),
        value: column(4),
        weight: column(7),
      },
    };
    if (out.grad) result.grad = widenGradient(out.grad, o.elements, o.gradType);
    const boundary = out.sections.get('boundary value');
    if (boundary) result.boundary = boundary[0];
    // Per pair, the second vec4 of pair_sums ends with the weighted focal sum, summed times the
    // forward's term scale (a power of two: dividing it out is exact).
    const pairSums = out.sections.get('pair sums');
    const scale = termScale(o);
    if (pairSums)
      result.pairFocal = Float32Array.from({ length: o.batch * o.classes }, (_, k) => pairSums[k * 8 + 7] / scale);
    rejectOverflow(result.loss, [result.groups.tp, result.groups.predSum, result.groups.targetSum]);
    rejectTermOverflow(result);
    return result;
  }
}
