import { encodeBuffers, type BufferArg } from '../runtime/caller-buffers.js';
import type { DiceEngine } from '../engine.js';
import { optionalLabel, ownOptions, requireNonNegative, WgslDiceError } from '../core/errors.js';
import { snapshotCompute } from '../runtime/submit.js';
import type { FamilyPlan } from '../program/planner.js';
import type { LossProgram } from '../program/program.js';
import { ProgramLoss, type CompiledPass, type EncodeOptions } from '../runtime/program-loss.js';
import { parseLayoutShape } from '../spec/family.js';

/**
 * Options of {@link DiceEngine.wassersteinDice}: MONAI's GeneralizedWassersteinDiceLoss
 * (Fidon et al. 2017) on logits (always softmax over classes) and an integer label map, with
 * the per-sample class weights of the fixed batch > 1 behaviour (MONAI PR #8744).
 */
export interface WassersteinDiceOptions {
  /** Shape of pred: `[B, ...spatial, C]` (channels-last) or `[B, C, ...spatial]` (channels-first). */
  shape: readonly number[];
  /** Default 'channels-last'. */
  layout?: 'channels-last' | 'channels-first';
  /** The label map `[B, ...spatial]`: u8, u16 or u32 (default). */
  target?: 'u8' | 'u16' | 'u32';
  /** C x C distances between classes (row: the label), >= 0; normalised to a maximum of 1 as MONAI does. */
  distanceMatrix: readonly (readonly number[])[];
  /** 'default' (alpha 0 for class 0, 1 else) or 'GDL' (alpha_c = 1 / (volume_c + 1) per sample). */
  weighting?: 'default' | 'GDL';
  /** Over the per-sample losses: 'mean' (default), 'sum', or 'none' (scalar and gradient are the sum). */
  reduction?: 'mean' | 'sum' | 'none';
  smoothNumerator?: number;
  smoothDenominator?: number;
  label?: string;
}

export interface NormalizedWassersteinOptions {
  readonly dims: readonly number[];
  readonly batch: number;
  readonly classes: number;
  readonly spatial: number;
  readonly elements: number;
  readonly channelsFirst: boolean;
  readonly target: 'u8' | 'u16' | 'u32';
  /** Row-major C x C, normalised to a maximum of 1. */
  readonly distances: Float32Array<ArrayBuffer>;
  readonly weighting: 'default' | 'GDL';
  readonly reduction: 'mean' | 'sum' | 'none';
  readonly smoothNumerator: number;
  readonly smoothDenominator: number;
  readonly label: string;
}

const knownOptions = [
  'shape', 'layout', 'target', 'distanceMatrix', 'weighting', 'reduction', 'smoothNumerator', 'smoothDenominator', 'label',
] as const;

function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) {
    throw new WgslDiceError('INVALID_OPTION', `${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(value)}.`);
  }
  return value as T;
}

export function normalizeWassersteinOptions(options: unknown): NormalizedWassersteinOptions {
  if (typeof options !== 'object' || options === null) {
    throw new WgslDiceError('INVALID_OPTION', 'wassersteinDice() needs an options object with { shape, distanceMatrix }.');
  }
  const o = ownOptions<WassersteinDiceOptions>('wassersteinDice option', options, knownOptions);
  const channelsFirst = oneOf('layout', o.layout, ['channels-last', 'channels-first'] as const, 'channels-last') === 'channels-first';
  const shape = parseLayoutShape(o.shape, channelsFirst);
  const C = shape.classes;
  const matrix = o.distanceMatrix;
  if (!Array.isArray(matrix) || matrix.length !== C || matrix.some((row) => !Array.isArray(row) || row.length !== C)) {
    throw new WgslDiceError('INVALID_OPTION', `distanceMatrix must be a ${C} x ${C} array of arrays (C = ${C} classes).`);
  }
  const flat = (matrix as number[][]).flat();
  flat.forEach((d, i) => {
    if (typeof d !== 'number' || !Number.isFinite(d) || d < 0) {
      throw new WgslDiceError('INVALID_OPTION', `distanceMatrix[${Math.floor(i / C)}][${i % C}] must be a finite number >= 0, got ${String(d)}.`);
    }
  });
  const max = Math.max(...flat);
  if (!(max > 0)) throw new WgslDiceError('INVALID_OPTION', 'distanceMatrix is all zeros; it needs a positive distance to normalise by.');
  return {
    ...shape,
    channelsFirst,
    target: oneOf('target', o.target, ['u8', 'u16', 'u32'] as const, 'u32'),
    distances: Float32Array.from(flat, (d) => d / max),
    weighting: oneOf('weighting', o.weighting, ['default', 'GDL'] as const, 'default'),
    reduction: oneOf('reduction', o.reduction, ['mean', 'sum', 'none'] as const, 'mean'),
    smoothNumerator: o.smoothNumerator === undefined ? 1e-5 : requireNonNegative('smoothNumerator', o.smoothNumerator),
    smoothDenominator: o.smoothDenominator === undefined ? 1e-5 : requireNonNegative('smoothDenominator', o.smoothDenominator),
    label: optionalLabel(o.label, 'wgsl-dice wasserstein dice'),
  };
}

export interface WassersteinEncodeBuffers {
  /** f32 logits in the declared shape and layout. */
  pred: BufferArg;
  /** The packed integer label map `[B, ...spatial]`. */
  target: BufferArg;
  /** Receives the scalar loss (one f32). */
  loss: BufferArg;
  /** Receives dL/d(logits). */
  grad?: BufferArg;
}

export interface WassersteinResult {
  loss: number;
  /** Per sample: 1 - (2 TP + smooth_nr) / (den + smooth_dr). */
  perSample: Float32Array;
  grad?: Float32Array;
}

/**
 * MONAI's Generalized Wasserstein Dice loss of fixed shape and options (see
 * {@link WassersteinDiceOptions}), created by {@link DiceEngine.wassersteinDice}: a spec of the
 * one pipeline (src/program), with a voxel-major reduction with the softmax fused in, a
 * one-workgroup finalize and one elementwise backward pass, all in fixed order and in binding
 * windows for tensors of any size.
 */
export class WassersteinDiceLoss extends ProgramLoss {
  readonly options: NormalizedWassersteinOptions;
  /** The grids and binding windows of the passes. */
  readonly plan: FamilyPlan;

  /** @internal Use {@link DiceEngine.wassersteinDice}. */
  constructor(engine: DiceEngine, options: NormalizedWassersteinOptions, program: LossProgram<FamilyPlan>, passes: readonly CompiledPass[]) {
    super(engine, program, passes, { what: 'loss', createdBy: 'engine.wassersteinDice()' });
    this.options = options;
    this.plan = program.layout;
  }

  /** Per sample, one vec4<f32>: (loss, TP, denominator, sum of Wasserstein distances). */
  get statsBuffer(): GPUBuffer {
    return this.scratchBuffer('stats');
  }

  /** Bytes the packed label map must hold. */
  get targetBytes(): number {
    return this.program.tensors.find((t) => t.name === 'target')!.bytes;
  }

  protected get classCount(): number {
    return this.options.classes;
  }

  /** Records the passes into the caller's encoder or an open compute pass (no submit, no readback). */
  encode(encoder: GPUCommandEncoder | GPUComputePassEncoder, given: WassersteinEncodeBuffers, options?: EncodeOptions): void {
    this.assertUsable();
    const owned = { statusBuffer: this.statusBuffer, statsBuffer: this.statsBuffer };
    this.record(encoder, encodeBuffers<WassersteinEncodeBuffers>(given, ['pred', 'target', 'loss', 'grad'], owned), options);
  }

  /**
   * Runs the loss once on host arrays (copied at the call) or GPU buffers and reads everything
   * back; throws LABEL_OUT_OF_RANGE or NON_FINITE_INPUT rather than returning a silently wrong
   * number.
   */
  async compute(
    pred: Float32Array | BufferArg,
    target: Uint8Array | Uint16Array | Uint32Array | BufferArg,
    given: { grad?: boolean } = {},
  ): Promise<WassersteinResult> {
    this.assertUsable();
    // The caller's arrays are copied by the runtime at this call; only the options are read here.
    const { options } = snapshotCompute(null, null, given, ['grad']);
    const out = await this.runOnce({ pred, target }, options.grad === true, 'the distance matrix has no row for them.');
    const stats = out.sections.get('stats')!;
    const result: WassersteinResult = {
      loss: out.parts[0],
      perSample: Float32Array.from({ length: this.options.batch }, (_, b) => stats[b * 4]),
    };
    if (out.grad) result.grad = out.grad;
    return result;
  }
}
