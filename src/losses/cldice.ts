import { WgslDiceError } from '../core/errors.js';
import type { ClDiceGrids } from '../program/cldice.js';
import type { LossProgram } from '../program/program.js';
import { encodeBuffers, type BufferArg } from '../runtime/caller-buffers.js';
import type { LossHost } from '../runtime/host.js';
import { ProgramLoss, type CompiledPass, type EncodeOptions } from '../runtime/program-loss.js';
import { snapshotCompute } from '../runtime/submit.js';
import type { NormalizedClDiceOptions } from '../spec/cldice.js';
import { halfInput, widenGradient } from './family.js';

export interface ClDiceEncodeBuffers {
  /** Probabilities in the declared shape and layout: f32, or f16 with predType 'f16'. */
  pred: BufferArg;
  /** f32 target (one-hot or soft), same shape and layout as pred. */
  target: BufferArg;
  /** Receives the scalar loss (one f32). */
  loss: BufferArg;
  /** Receives dL/d(pred): f32, or f16 with gradType 'f16'. */
  grad?: BufferArg;
  /**
   * The target's soft skeleton, from {@link ClDiceLoss.encodeTargetSkeleton} or
   * {@link ClDiceLoss.targetSkeleton}: given, the target passes are skipped (fixed labels).
   */
  targetSkeleton?: BufferArg;
}

/**
 * What compute() returns. `clDice` and `softDice` are loss terms, each 1 − its score (0 is a
 * perfect match), as MONAI returns them: `loss = (1 − alpha) · softDice + alpha · clDice`.
 */
export interface ClDiceResult {
  loss: number;
  /** 1 − clDice score: 1 − 2·tprec·tsens / (tprec + tsens). */
  clDice: number;
  /** 1 − soft Dice score over the foreground classes: 1 − (2Σpt + smooth) / (Σp + Σt + smooth). */
  softDice: number;
  /** Topology precision: how much of pred's skeleton lies in the target. */
  tprec: number;
  /** Topology sensitivity: how much of the target's skeleton pred covers. */
  tsens: number;
  grad?: Float32Array;
}

/**
 * clDice of fixed shape and options (see {@link ClDiceOptions}), created by
 * `engine.loss({ formula: 'cl-dice', ... })`: a spec of the one pipeline (src/program/cldice.ts
 * plans its passes). Forward: soft skeletons of target and pred by stencil passes, the
 * foreground sums per workgroup with the input checks, one finalize. Backward: levels K down
 * to 0, routing gradients through the pooling choices with torch's tie rules. Every pass runs
 * in binding windows of whole volumes, in fixed order.
 */
export class ClDiceLoss extends ProgramLoss {
  readonly options: NormalizedClDiceOptions;
  /** The grid and binding windows of the passes. */
  readonly plan: ClDiceGrids;

  /** @internal Use `engine.loss({ formula: 'cl-dice', ... })`. */
  constructor(
    host: LossHost,
    options: NormalizedClDiceOptions,
    program: LossProgram<ClDiceGrids>,
    passes: readonly CompiledPass[],
  ) {
    super(host, program, passes, { what: 'loss', createdBy: "engine.loss({ formula: 'cl-dice' })" });
    this.options = options;
    this.plan = program.grids;
  }

  /** Two vec4<f32>: (loss, clDice, softDice, tprec), (tsens, 0, 0, 0); clDice and softDice are loss terms (1 − score). */
  get statsBuffer(): GPUBuffer {
    return this.scratchBuffer('stats');
  }

  protected get classCount(): number {
    return this.options.classes;
  }

  /**
   * Records the passes into the caller's encoder, or into a compute pass the caller has begun
   * (no submit, no readback). Non-finite pred or target values land in {@link statusBuffer}:
   * see {@link readStatus}.
   */
  encode(
    encoder: GPUCommandEncoder | GPUComputePassEncoder,
    given: ClDiceEncodeBuffers,
    options?: EncodeOptions,
  ): void {
    this.assertUsable();
    const owned = { statusBuffer: this.statusBuffer, statsBuffer: this.statsBuffer };
    const known = ['pred', 'target', 'loss', 'grad', 'targetSkeleton'];
    this.record(encoder, encodeBuffers<ClDiceEncodeBuffers>(given, known, owned), options);
  }

  /**
   * Records the soft skeleton of `target` into `skeleton` (same shape and layout), for a trainer
   * with fixed labels to pass as `targetSkeleton` to every later encode(). It folds no status:
   * the target is checked by the encode() that uses the skeleton.
   */
  encodeTargetSkeleton(
    encoder: GPUCommandEncoder | GPUComputePassEncoder,
    given: { target: BufferArg; skeleton: BufferArg },
    options?: EncodeOptions,
  ): void {
    this.assertUsable();
    const owned = { statusBuffer: this.statusBuffer, statsBuffer: this.statsBuffer };
    const buffers = encodeBuffers<{ target: BufferArg; skeleton: BufferArg }>(given, ['target', 'skeleton'], owned);
    if (buffers.skeleton === undefined) {
      throw new WgslDiceError(
        'INVALID_INPUT',
        'encodeTargetSkeleton() writes the skeleton: pass { target, skeleton }.',
      );
    }
    this.record(encoder, { target: buffers.target, targetSkeleton: buffers.skeleton }, options, ['target-skeleton']);
  }

  /**
   * Runs the loss once on host arrays (copied at the call) or GPU buffers and reads the result
   * back; NaN or infinity in pred or target (any class) throws NON_FINITE_INPUT naming the
   * input, the count and the first element.
   * With predType 'f16', pred is the bits of f16 values (a Uint16Array) or a Float32Array,
   * rounded to f16 here; with gradType 'f16' the gradient comes back widened to f32 (its values
   * are f16's).
   */
  async compute(
    pred: Float32Array | Uint16Array | BufferArg,
    target: Float32Array | BufferArg,
    given: { grad?: boolean; targetSkeleton?: Float32Array | BufferArg } = {},
  ): Promise<ClDiceResult> {
    this.assertUsable();
    // The caller's arrays are copied by the runtime at this call; only the options are read here.
    const { options } = snapshotCompute(null, null, given, ['grad', 'targetSkeleton']);
    const out = await this.runOnce(
      { pred: halfInput(pred, this.options.predType), target, targetSkeleton: options.targetSkeleton },
      options.grad === true,
      'clDice takes no labels.',
    );
    const [loss, clDice, softDice, tprec, tsens] = out.sections.get('stats')!;
    if (!Number.isFinite(loss)) {
      throw new WgslDiceError(
        'NON_FINITE_INPUT',
        `The clDice loss came out ${loss} although pred and target are finite: ` +
          (options.targetSkeleton === undefined
            ? 'their values are so large that the sums overflow f32 (3.4e38); rescale them.'
            : 'targetSkeleton holds NaN or infinity (or values so large the sums overflow f32); pass the skeleton targetSkeleton() made.'),
      );
    }
    const result: ClDiceResult = { loss, clDice, softDice, tprec, tsens };
    if (out.grad) result.grad = widenGradient(out.grad, this.options.elements, this.options.gradType);
    return result;
  }

  /** The soft skeleton of `target` (same shape and layout), to pass as `targetSkeleton` later. */
  async targetSkeleton(target: Float32Array | BufferArg): Promise<Float32Array> {
    this.assertUsable();
    // A host array is checked here (no status is folded for the target passes alone); a buffer
    // by what comes out, since NaN and infinity spread into the skeleton.
    if (target instanceof Float32Array) rejectNonFinite('target element', target);
    const skeleton = await this.runGroupsOnce({ target }, ['target-skeleton'], 'targetSkeleton');
    rejectNonFinite('target skeleton element', skeleton, ' (the target holds NaN or infinity)');
    return skeleton;
  }
}

/** NON_FINITE_INPUT naming the count and the first index, as the status does for pred and target. */
function rejectNonFinite(what: string, values: Float32Array, cause = ''): void {
  let count = 0;
  let first = -1;
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      if (count++ === 0) first = i;
    }
  }
  if (count > 0) {
    throw new WgslDiceError(
      'NON_FINITE_INPUT',
      `${count} ${what}(s) (first at element ${first}) are NaN or infinite${cause}; the skeleton would be NaN. ` +
        'Check the inputs for overflow or uninitialised memory.',
    );
  }
}
