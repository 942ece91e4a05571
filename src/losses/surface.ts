import { WgslDiceError } from '../core/errors.js';
import type { LossProgram } from '../program/program.js';
import type { SurfaceLayoutPlan } from '../program/surface-grid.js';
import { encodeBuffers, type BufferArg } from '../runtime/caller-buffers.js';
import type { LossHost } from '../runtime/host.js';
import { ProgramLoss, type CompiledPass, type EncodeOptions } from '../runtime/program-loss.js';
import { rejectBadInput, type InputStatus } from '../runtime/status.js';
import { snapshotCompute } from '../runtime/submit.js';
import { halfInput, widenGradient } from './family.js';
import type {
  NormalizedDistanceTransform,
  NormalizedHausdorffDT,
  NormalizedSurfaceMetrics,
  SurfaceInputKind,
} from '../spec/surface.js';

/** A mask or label map as compute() takes it: f32 for dense masks, the label map's own width otherwise. */
export type SurfaceInput = Float32Array | Uint8Array | Uint16Array | Uint32Array | BufferArg;

/** Where a surface program's inputs are binary masks: faults are labels >= C and values other than 0 and 1. */
function rejectMaskFaults(status: InputStatus, classes: number, names: { pred: string; target: string }): void {
  if (status.badLabels > 0) rejectBadInput(status, classes, 'labels must be 0 .. C - 1.');
  const found = [
    [status.nonFinite, names.pred, status.firstNonFiniteElement],
    [status.nonFiniteTarget, names.target, status.firstNonFiniteTargetElement],
  ] as const;
  const bad = found.filter(([count]) => count > 0);
  if (bad.length > 0) {
    throw new WgslDiceError(
      'INVALID_INPUT',
      `${bad.map(([count, what, first]) => `${count} ${what} element(s) (first at element ${first})`).join(', ')} ` +
        'are not 0 or 1: the masks must be binary (one-hot or multi-label); threshold or one-hot them first.',
    );
  }
}

function kindName(kind: SurfaceInputKind): string {
  return kind === 'dense'
    ? 'a Float32Array'
    : `a ${kind === 'u8' ? 'Uint8' : kind === 'u16' ? 'Uint16' : 'Uint32'}Array label map`;
}

export interface DistanceTransformResult {
  /** f32 in the transform's shape and layout. */
  distances: Float32Array;
}

export interface DistanceTransformBuffers {
  /** The mask: dense f32 of the shape, or the packed label map `[B, ...spatial]`. */
  mask: BufferArg;
  /** Receives the distances (f32, the shape and layout of the transform). */
  distances: BufferArg;
}

/**
 * The exact distance transform of every (sample, class) mask, created by
 * {@link DiceEngine.distanceTransform}: see {@link DistanceTransformOptions}. Squared distances
 * with unit spacing are exact integers (bitwise those of the float64 reference while below 2^24).
 */
export class DistanceTransform extends ProgramLoss {
  readonly options: NormalizedDistanceTransform;
  readonly plan: SurfaceLayoutPlan;

  /** @internal Use {@link DiceEngine.distanceTransform}. */
  constructor(
    host: LossHost,
    options: NormalizedDistanceTransform,
    program: LossProgram<SurfaceLayoutPlan>,
    passes: readonly CompiledPass[],
  ) {
    super(host, program, passes, { what: 'distance transform', createdBy: 'engine.distanceTransform()' });
    this.options = options;
    this.plan = program.grids;
  }

  /** Bytes the mask buffer must hold. */
  get maskBytes(): number {
    return this.program.tensors.find((t) => t.name === 'mask')!.bytes;
  }

  /** Bytes the distances buffer must hold. */
  get distancesBytes(): number {
    return this.program.tensors.find((t) => t.name === 'distances')!.bytes;
  }

  protected get classCount(): number {
    return this.options.geometry.classes;
  }

  protected override rejectInput(status: InputStatus): void {
    rejectMaskFaults(status, this.classCount, { pred: 'mask', target: 'mask' });
  }

  /**
   * Records the passes into the caller's encoder or open compute pass (no submit). Faults of the
   * mask land in {@link statusBuffer}: in what {@link readStatus} returns, `nonFiniteTarget` (and
   * its first index) counts dense mask values other than 0 and 1, `badLabels` labels >= C.
   */
  encode(
    encoder: GPUCommandEncoder | GPUComputePassEncoder,
    given: DistanceTransformBuffers,
    options?: EncodeOptions,
  ): void {
    this.assertUsable();
    const buffers = encodeBuffers<DistanceTransformBuffers>(given, ['mask', 'distances'], {
      statusBuffer: this.statusBuffer,
    });
    if (buffers.distances === undefined) {
      throw new WgslDiceError('INVALID_INPUT', 'encode() needs { mask, distances }: pass the distances buffer.');
    }
    this.record(encoder, buffers, options);
  }

  /**
   * Runs the transform once on a host array (copied at the call) or a GPU buffer and reads the
   * distances back. Throws INVALID_INPUT (values other than 0 and 1) or LABEL_OUT_OF_RANGE,
   * with the count and the first index, on a bad mask.
   */
  async compute(mask: SurfaceInput): Promise<DistanceTransformResult> {
    this.assertUsable();
    const { pred } = snapshotCompute(mask, null, {}, []);
    const out = await this.runOnce({ mask: pred }, false, `the mask must be ${kindName(this.options.target)}.`);
    return { distances: out.sections.get('distances')! };
  }
}

export interface SurfaceMetricsBuffers {
  pred: BufferArg;
  target: BufferArg;
  /** Receives 8 f32 per (sample, class reported): see {@link SurfaceMetrics.statsBuffer}. */
  stats?: BufferArg;
}

/** Per (sample, class reported), sample-major: NaN and Infinity where MONAI has them. */
export interface SurfaceMetricsResult {
  /** [B, C']: C' = the classes reported. */
  shape: [number, number];
  hausdorff?: Float32Array;
  averageSurfaceDistance?: Float32Array;
  surfaceDice?: Float32Array;
  /** The Hausdorff distance (or percentile) of each direction: prediction to target, target to prediction (NaN when directed). */
  hausdorffForward?: Float32Array;
  hausdorffBackward?: Float32Array;
  /** Surface elements (edge voxels), or with subvoxels the boundary's length or area. */
  predSurface: Float32Array;
  targetSurface: Float32Array;
  /** Whether the run took the surfaces and distance fields of an earlier one (reuseDistances). */
  reusedDistances: boolean;
}

/**
 * Surface metrics of every (sample, class) from two masks or label maps on the GPU, created by
 * {@link DiceEngine.surfaceMetrics}: see {@link SurfaceMetricsOptions}.
 */
export class SurfaceMetrics extends ProgramLoss {
  readonly options: NormalizedSurfaceMetrics;
  readonly plan: SurfaceLayoutPlan;

  /** @internal Use {@link DiceEngine.surfaceMetrics}. */
  constructor(
    host: LossHost,
    options: NormalizedSurfaceMetrics,
    program: LossProgram<SurfaceLayoutPlan>,
    passes: readonly CompiledPass[],
  ) {
    super(host, program, passes, { what: 'surface metrics', createdBy: 'engine.surfaceMetrics()' });
    this.options = options;
    this.plan = program.grids;
  }

  /**
   * The metrics of the last run: 8 f32 per (sample, class reported), sample-major:
   * 0 Hausdorff distance (percentile, directed as asked), 1 average surface distance, 2 surface
   * Dice (NaN unless 'nsd' was asked for), 3 the prediction's surface (edge voxels, or length /
   * area with subvoxels), 4 the target's, 5 Hausdorff prediction to target, 6 target to
   * prediction (NaN when directed), 7 0. Both surfaces empty: NaN; one empty: Hausdorff
   * +Infinity (NaN with a percentile), average surface distance +Infinity, surface Dice 0.
   * Without 'hausdorff', the Hausdorff words cover the directions the other metrics need: only
   * prediction to target (6 NaN) when none needs target to prediction (a non-symmetric average
   * surface distance alone), since the program then transforms one distance volume, not two.
   */
  get statsBuffer(): GPUBuffer {
    return this.scratchBuffer('stats');
  }

  /** Bytes the pred and target buffers must hold. */
  get inputBytes(): { pred: number; target: number } {
    const bytes = (name: string) => this.program.tensors.find((t) => t.name === name)!.bytes;
    return { pred: bytes('pred'), target: bytes('target') };
  }

  protected get classCount(): number {
    return this.options.geometry.classes;
  }

  protected override rejectInput(status: InputStatus): void {
    rejectMaskFaults(status, this.classCount, { pred: 'pred', target: 'target' });
  }

  /**
   * Records the passes (no submit). The metrics land in `stats` if given, else in
   * {@link statsBuffer}; faults in {@link statusBuffer}: in what {@link readStatus} returns,
   * `nonFinite` and `nonFiniteTarget` (with their first indices) count dense pred and target
   * values other than 0 and 1, `badLabels` labels >= C in either label map.
   */
  encode(
    encoder: GPUCommandEncoder | GPUComputePassEncoder,
    given: SurfaceMetricsBuffers,
    options?: EncodeOptions,
  ): void {
    this.assertUsable();
    const buffers = encodeBuffers<SurfaceMetricsBuffers>(given, ['pred', 'target', 'stats'], {
      statusBuffer: this.statusBuffer,
      statsBuffer: this.statsBuffer,
    });
    this.record(encoder, buffers, options);
  }

  /**
   * Runs once on host arrays (copied at the call) or GPU buffers and reads the metrics back.
   * Throws INVALID_INPUT (dense values other than 0 and 1) or LABEL_OUT_OF_RANGE with the count
   * and first index.
   */
  async compute(pred: SurfaceInput, target: SurfaceInput): Promise<SurfaceMetricsResult> {
    this.assertUsable();
    const snap = snapshotCompute(pred, target, {}, []);
    const out = await this.runOnce({ pred: snap.pred, target: snap.target }, false, 'labels must be 0 .. C - 1.');
    const stats = out.sections.get('stats')!;
    const pairs = this.plan.pairs;
    const column = (k: number) => Float32Array.from({ length: pairs }, (_, p) => stats[p * 8 + k]);
    const metrics = this.options.metrics;
    const result: SurfaceMetricsResult = {
      shape: [this.options.geometry.batch, this.plan.kept],
      predSurface: column(3),
      targetSurface: column(4),
      reusedDistances: out.reused,
    };
    if (metrics.includes('hausdorff')) {
      result.hausdorff = column(0);
      result.hausdorffForward = column(5);
      result.hausdorffBackward = column(6);
    }
    if (metrics.includes('asd')) result.averageSurfaceDistance = column(1);
    if (metrics.includes('nsd')) result.surfaceDice = column(2);
    return result;
  }
}

export interface HausdorffDTBuffers {
  pred: BufferArg;
  target: BufferArg;
  loss: BufferArg;
  grad?: BufferArg;
}

export interface HausdorffDTResult {
  loss: number;
  /** reduction 'none': each (sample, class) value (or per class with batch), log applied; else undefined. */
  values?: Float32Array;
  grad?: Float32Array;
}

/**
 * MONAI's HausdorffDTLoss and LogHausdorffDTLoss on the GPU, created by
 * `engine.loss({ formula: 'hausdorff-dt', ... })`: see {@link HausdorffDTOptions}. The distance
 * fields come from the prediction thresholded at 0.5 and from the target at every call, and are
 * constants of the gradient, as in MONAI.
 */
export class HausdorffDTLoss extends ProgramLoss {
  readonly options: NormalizedHausdorffDT;
  readonly plan: SurfaceLayoutPlan;

  /** @internal Use engine.loss({ formula: 'hausdorff-dt' }). */
  constructor(
    host: LossHost,
    options: NormalizedHausdorffDT,
    program: LossProgram<SurfaceLayoutPlan>,
    passes: readonly CompiledPass[],
  ) {
    super(host, program, passes, { what: 'Hausdorff-DT loss', createdBy: "engine.loss({ formula: 'hausdorff-dt' })" });
    this.options = options;
    this.plan = program.grids;
  }

  protected get classCount(): number {
    return this.options.geometry.classes;
  }

  /** Records the passes (no submit); with `grad`, the backward pass too. Faults land in {@link statusBuffer}. */
  encode(encoder: GPUCommandEncoder | GPUComputePassEncoder, given: HausdorffDTBuffers, options?: EncodeOptions): void {
    this.assertUsable();
    const buffers = encodeBuffers<HausdorffDTBuffers>(given, ['pred', 'target', 'loss', 'grad'], {
      statusBuffer: this.statusBuffer,
    });
    this.record(encoder, buffers, options);
  }

  /**
   * Runs once on host arrays or GPU buffers: the loss, the values with reduction 'none', and
   * with `grad: true` d(loss)/d(pred) (w.r.t. the logits with an activation; with predType
   * 'f16' pred is f16 bits or a Float32Array rounded here, with gradType 'f16' the gradient
   * comes back widened to f32). Throws
   * NON_FINITE_INPUT or LABEL_OUT_OF_RANGE on bad input.
   */
  async compute(
    pred: Float32Array | Uint16Array | BufferArg,
    target: SurfaceInput,
    given: { grad?: boolean } = {},
  ): Promise<HausdorffDTResult> {
    this.assertUsable();
    const snap = snapshotCompute(halfInput(pred, this.options.predType), target, given, ['grad']);
    const out = await this.runOnce(
      { pred: snap.pred, target: snap.target },
      snap.options.grad === true,
      'labels must be 0 .. C - 1.',
    );
    const result: HausdorffDTResult = { loss: out.parts[0] };
    if (this.options.reduction === 'none') result.values = out.sections.get('values')!;
    const g = this.options.geometry;
    if (out.grad) result.grad = widenGradient(out.grad, g.batch * g.spatial * g.classes, this.options.gradType);
    return result;
  }
}
