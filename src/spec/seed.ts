import { WgslDiceError } from '../core/errors.js';
import {
  describeValue,
  isF32Representable,
  optionalLabel,
  ownOptions,
  requireNonNegative,
  snapshotOptions,
} from '../core/validate.js';
import { parseNhwcShape, type NhwcShape } from '../core/shape.js';
import { rejectUndeclaredChannelsFirst } from './layout-hint.js';

/** How Dice groups are formed, as in the three classic TensorFlow Dice losses. */
export type DiceReduce = 'global' | 'per-class';

/** Smoothing added to the Dice numerator and denominator: one value for both, or each. */
export type Epsilon = number | { numerator: number; denominator: number };

export interface DiceLossOptions {
  /** Channels-last shape `[B, ...spatial, C]` of both pred and target. */
  shape: readonly number[];
  /**
   * `'global'`: one Dice per sample over every spatial position and class (the global Dice loss).
   * `'per-class'`: one Dice per (sample, class) over the spatial positions (examples 2 and 3).
   * Default `'global'`.
   */
  reduce?: DiceReduce;
  /**
   * Per-class weights (length C, finite, >= 0), `'per-class'` only. With weights the loss is
   * sum_c w_c * mean_b(1 - dice) (the class-weighted Dice loss, not normalised by the weights' sum);
   * without, mean over classes and batch (example 3).
   */
  weights?: ArrayLike<number>;
  /** Default 1e-6 on both, as in the TensorFlow code. */
  epsilon?: Epsilon;
  /**
   * Element type of pred: 'f32' (default) or 'f16' (half the bytes to read; needs the device
   * feature 'shader-f16'). Sums are accumulated in f32 either way; target and grad stay f32.
   */
  predType?: 'f32' | 'f16';
  /** Prefix for the labels of the GPU objects this loss creates. */
  label?: string;
}

const knownOptions = ['shape', 'reduce', 'weights', 'epsilon', 'predType', 'label'] as const;

export interface NormalizedDiceOptions {
  readonly shape: NhwcShape;
  readonly reduce: DiceReduce;
  readonly weights: Float64Array | undefined;
  readonly smoothNumerator: number;
  readonly smoothDenominator: number;
  readonly predType: 'f32' | 'f16';
  readonly label: string;
}

export const DEFAULT_EPSILON = 1e-6;

export function normalizeDiceOptions(given: unknown): NormalizedDiceOptions {
  // Read once (see snapshotOptions): validated and used from this copy only.
  const options = snapshotOptions(given);
  if (typeof options !== 'object' || options === null) {
    throw new WgslDiceError('INVALID_OPTION', 'dice() needs an options object with at least { shape }.');
  }
  rejectUndeclaredChannelsFirst(
    options,
    'engine.dice() reads channels-last data only: for [B, C, ...spatial] data transpose it, or use engine.loss with layout: \'channels-first\' (docs/presets.md, "Migrating a training script").',
  );
  const o = ownOptions<DiceLossOptions>('Dice option', options, knownOptions);
  const shape = parseNhwcShape(o.shape);
  const reduce = o.reduce ?? 'global';
  if (reduce !== 'global' && reduce !== 'per-class') {
    throw new WgslDiceError('INVALID_OPTION', `reduce must be 'global' or 'per-class', got ${JSON.stringify(reduce)}.`);
  }
  const { numerator, denominator } = normalizeEpsilon(o.epsilon);
  const predType = o.predType ?? 'f32';
  if (predType !== 'f32' && predType !== 'f16') {
    throw new WgslDiceError('INVALID_OPTION', `predType must be 'f32' or 'f16', got ${JSON.stringify(predType)}.`);
  }
  return {
    shape,
    reduce,
    weights: o.weights === undefined ? undefined : normalizeWeights(o.weights, shape.classes, reduce),
    smoothNumerator: numerator,
    smoothDenominator: denominator,
    predType,
    label: optionalLabel(o.label, 'wgsl-dice'),
  };
}

function normalizeEpsilon(epsilon: Epsilon | undefined): { numerator: number; denominator: number } {
  if (epsilon === undefined) return { numerator: DEFAULT_EPSILON, denominator: DEFAULT_EPSILON };
  if (typeof epsilon === 'number') {
    requireNonNegative('epsilon', epsilon);
    return { numerator: epsilon, denominator: epsilon };
  }
  if (typeof epsilon !== 'object' || epsilon === null) {
    throw new WgslDiceError(
      'INVALID_OPTION',
      `epsilon must be a number or { numerator, denominator }, got ${describeValue(epsilon)}.`,
    );
  }
  const e = ownOptions<{ numerator: number; denominator: number }>('epsilon field', epsilon, [
    'numerator',
    'denominator',
  ]);
  return {
    numerator: requireNonNegative('epsilon.numerator', e.numerator),
    denominator: requireNonNegative('epsilon.denominator', e.denominator),
  };
}

function normalizeWeights(weights: ArrayLike<number>, classes: number, reduce: DiceReduce): Float64Array {
  if (reduce !== 'per-class') {
    throw new WgslDiceError(
      'INVALID_WEIGHTS',
      "weights apply to per-class Dice only; pass reduce: 'per-class' or drop weights.",
    );
  }
  if (!Array.isArray(weights) && !(ArrayBuffer.isView(weights) && !(weights instanceof DataView))) {
    throw new WgslDiceError(
      'INVALID_WEIGHTS',
      `weights must be an array of ${classes} numbers, got ${describeValue(weights)}.`,
    );
  }
  if (weights.length !== classes) {
    throw new WgslDiceError(
      'INVALID_WEIGHTS',
      `weights has ${weights.length} entries but the shape has C = ${classes} classes; pass one weight per class.`,
    );
  }
  // Each entry is checked as given: Float64Array.from would turn null, '2' and true into numbers.
  const out = new Float64Array(classes);
  for (let c = 0; c < classes; c++) {
    const w: unknown = weights[c];
    if (typeof w !== 'number' || w < 0 || !isF32Representable(w)) {
      throw new WgslDiceError(
        'INVALID_WEIGHTS',
        `weights[${c}] must be a finite number >= 0, got ${describeValue(w)} (the kernels read f32: 0, or 1.2e-38 to 3.4e38).`,
      );
    }
    out[c] = w;
  }
  return out;
}

/**
 * Each group's share of the loss, normalisation included: 1/B (global), w_c/B (weighted
 * per-class), 1/(B*C) (per-class mean).
 */
export function groupWeights(o: NormalizedDiceOptions): Float32Array<ArrayBuffer> {
  const { batch, classes } = o.shape;
  if (o.reduce === 'global') return new Float32Array([1 / batch]);
  if (o.weights) return Float32Array.from(o.weights, (w) => w / batch);
  return new Float32Array(classes).fill(1 / (batch * classes));
}
