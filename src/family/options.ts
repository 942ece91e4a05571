import { rejectUnknownKeys, requireNonNegative, WgslDiceError } from '../errors.js';

/**
 * Options of {@link DiceEngine.loss}: one engine for the whole Dice family. Every knob that
 * MONAI, segmentation_models.pytorch, Keras, qubvel segmentation_models and nnU-Net expose maps
 * onto these (the presets do that mapping).
 */
export interface LossOptions {
  /** Shape of pred: `[B, ...spatial, C]` (channels-last) or `[B, C, ...spatial]` (channels-first). */
  shape: readonly number[];
  /** Default 'channels-last'. */
  layout?: 'channels-last' | 'channels-first';
  /** Applied to pred inside the passes: 'none' (pred holds probabilities), 'sigmoid' or 'softmax' over classes. */
  activation?: 'none' | 'sigmoid' | 'softmax';
  /** Dense f32 targets of pred's shape, or an integer label map `[B, ...spatial]` of u8/u16/u32. */
  target?: 'dense' | 'u8' | 'u16' | 'u32';
  /** Label-map voxels with this label leave every sum (and the cross-entropy). */
  ignoreIndex?: number;
  /**
   * Voxel mask (f32, `[B, ...spatial]` or `[...spatial]` shared by all samples):
   * 'weight' multiplies every voxel's terms after the activation; 'logits' multiplies the
   * input and the target before the activation, as MONAI's MaskedDiceLoss does.
   */
  mask?: 'none' | 'weight' | 'logits';
  maskShape?: 'per-sample' | 'shared';
  /** 'per-class' (a Dice per class) or 'global' (classes pooled). Default 'per-class'. */
  groups?: 'per-class' | 'global';
  /** Pool the batch into one Dice per group (batch Dice) instead of one per sample. */
  batch?: boolean;
  /** Classes taking part in the Dice term (default all); includeBackground false drops class 0. */
  classes?: readonly number[];
  includeBackground?: boolean;
  /** The score: Dice, Jaccard (IoU), Tversky, F-beta, or Generalized Dice. Default 'dice'. */
  formula?: 'dice' | 'jaccard' | 'tversky' | 'f-beta' | 'generalized-dice';
  /** Raw score coefficients, overriding `formula`'s: (numTp*tp + snr) / (denTp*tp + denFp*fp + denFn*fn + sdr). */
  score?: { numTp: number; denTp: number; denFp: number; denFn: number };
  /** Tversky weights of false positives and false negatives (default 0.5, 0.5). */
  alpha?: number;
  beta?: number;
  /** F-beta's beta (default 1). */
  fBeta?: number;
  /** Generalized Dice class weights from the target volume (default 'square'). */
  gdlWeight?: 'square' | 'simple' | 'uniform';
  /** Sum p^2 and g^2 in the denominator (MONAI squared_pred). */
  squared?: boolean;
  /** The L1 soft-label form tp = (sum p + sum g - sum |p - g|) / 2 (MONAI soft_label, smp). */
  softLabel?: boolean;
  smoothNumerator?: number;
  smoothDenominator?: number;
  /** Lower clamp of the score's denominator (smp eps, nnU-Net 1e-8). Default 0 (no clamp). */
  denominatorMin?: number;
  /** How a score becomes a loss value: 1 - s (default), -log(max(s, logEps)) (smp log_loss), or -s (nnU-Net). */
  value?: 'one-minus' | 'negative-log' | 'negative';
  logEps?: number;
  /** Raise the aggregated Dice loss to this power (smp Tversky gamma, focal Tversky). Default 1. */
  gamma?: number;
  /** Per-class weights (length C, >= 0), or inverse class frequency computed on the GPU per batch. */
  weights?: readonly number[] | 'inverse-frequency';
  /**
   * How group values combine: 'mean' (of weight*value over groups), 'sum', 'weighted-mean'
   * (sum w*v / sum w), 'batch-mean' (sum over classes of w_c times the batch mean: the seed's
   * weighted Dice), or 'none' (every group's value is kept; the scalar and the gradient are their sum).
   */
  reduction?: 'mean' | 'sum' | 'weighted-mean' | 'batch-mean' | 'none';
  /** Groups whose target mass is 0: 'keep' the formula's value, or 'zero' (smp drops them). */
  emptyClass?: 'keep' | 'zero';
  /** Weight of the Dice term in a compound loss (default 1). */
  lambdaDice?: number;
  /** Add cross-entropy on the logits (softmax CE, or binary CE with sigmoid) in the same passes. */
  crossEntropy?: { lambda?: number; weights?: readonly number[] };
  label?: string;
}

const knownOptions = [
  'shape', 'layout', 'activation', 'target', 'ignoreIndex', 'mask', 'maskShape', 'groups', 'batch',
  'classes', 'includeBackground', 'formula', 'score', 'alpha', 'beta', 'fBeta', 'gdlWeight',
  'squared', 'softLabel', 'smoothNumerator', 'smoothDenominator', 'denominatorMin', 'value',
  'logEps', 'gamma', 'weights', 'reduction', 'emptyClass', 'lambdaDice', 'crossEntropy', 'label',
] as const;

/** Options of {@link DiceEngine.metric}: a loss's options plus how predictions are binarised. */
export interface MetricOptions extends Omit<LossOptions, 'activation' | 'crossEntropy'> {
  /** 'argmax' over classes (default) or pred > threshold. */
  binarize?: 'argmax' | 'threshold';
  threshold?: number;
}

export type Activation = NonNullable<LossOptions['activation']> | 'argmax' | 'threshold';
export type TargetKind = NonNullable<LossOptions['target']>;

export interface NormalizedLossOptions {
  readonly dims: readonly number[];
  readonly batch: number;
  readonly classes: number;
  readonly spatial: number;
  readonly elements: number;
  readonly channelsFirst: boolean;
  readonly activation: Activation;
  readonly threshold: number;
  readonly target: TargetKind;
  readonly ignoreIndex: number | undefined;
  readonly mask: 'none' | 'weight' | 'logits';
  readonly maskPerSample: boolean;
  readonly poolBatch: boolean;
  readonly poolClasses: boolean;
  readonly included: readonly boolean[];
  readonly score: { numTp: number; denTp: number; denFp: number; denFn: number };
  readonly gdlWeight: 'square' | 'simple' | 'uniform' | undefined;
  readonly squared: boolean;
  readonly softLabel: boolean;
  readonly smoothNumerator: number;
  readonly smoothDenominator: number;
  readonly denominatorMin: number;
  readonly value: 'one-minus' | 'negative-log' | 'negative';
  readonly logEps: number;
  readonly gamma: number;
  readonly inverseFrequency: boolean;
  /** Per-class group weight including the reduction's normalisation. */
  readonly groupWeights: Float64Array;
  readonly reduction: NonNullable<LossOptions['reduction']>;
  readonly emptyZero: boolean;
  readonly lambdaDice: number;
  readonly crossEntropy: { lambda: number; weights: Float64Array } | undefined;
  readonly label: string;
}

function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) {
    throw new WgslDiceError(
      'INVALID_OPTION',
      `${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(value)}.`,
    );
  }
  return value as T;
}

function finite(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new WgslDiceError('INVALID_OPTION', `${name} must be a finite number, got ${String(value)}.`);
  }
  return value;
}

function nonNegative(name: string, value: unknown, fallback: number): number {
  return value === undefined ? fallback : requireNonNegative(name, value);
}

function boolean(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    throw new WgslDiceError('INVALID_OPTION', `${name} must be true or false, got ${String(value)}.`);
  }
  return value;
}

function classWeights(name: string, value: unknown, classes: number): Float64Array {
  if (!Array.isArray(value) && !ArrayBuffer.isView(value)) {
    throw new WgslDiceError('INVALID_WEIGHTS', `${name} must be an array of ${classes} numbers.`);
  }
  const list = Array.from(value as ArrayLike<number>);
  if (list.length !== classes) {
    throw new WgslDiceError(
      'INVALID_WEIGHTS',
      `${name} has ${list.length} entries but there are C = ${classes} classes; pass one weight per class.`,
    );
  }
  list.forEach((w, c) => {
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) {
      throw new WgslDiceError('INVALID_WEIGHTS', `${name}[${c}] must be a finite number >= 0, got ${String(w)}.`);
    }
  });
  return Float64Array.from(list);
}

export function parseLayoutShape(shape: unknown, channelsFirst: boolean) {
  if (!Array.isArray(shape) || shape.length < 2) {
    throw new WgslDiceError(
      'INVALID_SHAPE',
      `shape must be [B, ...spatial, C] or [B, C, ...spatial] with at least 2 entries, got ${JSON.stringify(shape)}.`,
    );
  }
  shape.forEach((d, axis) => {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 1) {
      throw new WgslDiceError('INVALID_SHAPE', `shape[${axis}] must be a positive integer, got ${String(d)}.`);
    }
  });
  const dims = shape as number[];
  const classes = channelsFirst ? dims[1] : dims[dims.length - 1];
  const spatialDims = channelsFirst ? dims.slice(2) : dims.slice(1, -1);
  const spatial = spatialDims.reduce((a, b) => a * b, 1);
  const elements = dims[0] * classes * spatial;
  if (elements > 2 ** 32 - 1) {
    throw new WgslDiceError('INVALID_SHAPE', `shape ${JSON.stringify(dims)} has more than 2^32 - 1 elements.`);
  }
  return { dims: [...dims], batch: dims[0], classes, spatial, elements };
}

export function scoreCoefficients(formula: string, alpha: number, beta: number, fBeta: number) {
  switch (formula) {
    case 'jaccard':
      return { numTp: 1, denTp: 1, denFp: 1, denFn: 1 };
    case 'tversky':
      return { numTp: 1, denTp: 1, denFp: alpha, denFn: beta };
    case 'f-beta': {
      const b2 = fBeta * fBeta;
      return { numTp: 1 + b2, denTp: 1 + b2, denFp: 1, denFn: b2 };
    }
    default:
      // Dice and Generalized Dice: 2tp / (2tp + fp + fn) = 2I / (P + G).
      return { numTp: 2, denTp: 2, denFp: 1, denFn: 1 };
  }
}

export function normalizeLossOptions(options: unknown, extra: { activation?: Activation; threshold?: number } = {}): NormalizedLossOptions {
  if (typeof options !== 'object' || options === null) {
    throw new WgslDiceError('INVALID_OPTION', 'loss() needs an options object with at least { shape }.');
  }
  rejectUnknownKeys('loss option', options, knownOptions);
  const o = options as LossOptions;
  const layout = oneOf('layout', o.layout, ['channels-last', 'channels-first'] as const, 'channels-last');
  const channelsFirst = layout === 'channels-first';
  const shape = parseLayoutShape(o.shape, channelsFirst);
  const { classes, batch } = shape;

  const activation = extra.activation ?? oneOf('activation', o.activation, ['none', 'sigmoid', 'softmax'] as const, 'none');
  const target = oneOf('target', o.target, ['dense', 'u8', 'u16', 'u32'] as const, 'dense');
  let ignoreIndex: number | undefined;
  if (o.ignoreIndex !== undefined) {
    if (target === 'dense') {
      throw new WgslDiceError('INVALID_OPTION', "ignoreIndex applies to label-map targets; set target to 'u8', 'u16' or 'u32'.");
    }
    const max = target === 'u8' ? 255 : target === 'u16' ? 65535 : 2 ** 32 - 1;
    if (!Number.isInteger(o.ignoreIndex) || o.ignoreIndex < 0 || o.ignoreIndex > max) {
      throw new WgslDiceError('INVALID_OPTION', `ignoreIndex must be an integer in [0, ${max}] for ${target} labels, got ${o.ignoreIndex}.`);
    }
    ignoreIndex = o.ignoreIndex;
  }
  const mask = oneOf('mask', o.mask, ['none', 'weight', 'logits'] as const, 'none');
  const maskShape = oneOf('maskShape', o.maskShape, ['per-sample', 'shared'] as const, 'per-sample');
  const groups = oneOf('groups', o.groups, ['per-class', 'global'] as const, 'per-class');
  const formula = oneOf('formula', o.formula, ['dice', 'jaccard', 'tversky', 'f-beta', 'generalized-dice'] as const, 'dice');
  const alpha = nonNegative('alpha', o.alpha, 0.5);
  const beta = nonNegative('beta', o.beta, 0.5);
  const fBeta = nonNegative('fBeta', o.fBeta, 1);
  let score = scoreCoefficients(formula, alpha, beta, fBeta);
  if (o.score !== undefined) {
    if (typeof o.score !== 'object' || o.score === null) {
      throw new WgslDiceError('INVALID_OPTION', 'score must be { numTp, denTp, denFp, denFn }.');
    }
    rejectUnknownKeys('score field', o.score, ['numTp', 'denTp', 'denFp', 'denFn']);
    score = {
      numTp: finite('score.numTp', o.score.numTp, NaN),
      denTp: finite('score.denTp', o.score.denTp, NaN),
      denFp: finite('score.denFp', o.score.denFp, NaN),
      denFn: finite('score.denFn', o.score.denFn, NaN),
    };
  }

  const included = Array.from({ length: classes }, () => true);
  if (o.classes !== undefined) {
    if (!Array.isArray(o.classes)) throw new WgslDiceError('INVALID_OPTION', 'classes must be an array of class indices.');
    included.fill(false);
    for (const c of o.classes) {
      if (!Number.isInteger(c) || c < 0 || c >= classes) {
        throw new WgslDiceError('INVALID_OPTION', `classes contains ${String(c)}, not a class index in [0, ${classes - 1}].`);
      }
      included[c] = true;
    }
  }
  if (!boolean('includeBackground', o.includeBackground, true)) {
    if (classes === 1) {
      throw new WgslDiceError('INVALID_OPTION', 'includeBackground: false needs C > 1 (it drops class 0).');
    }
    included[0] = false;
  }
  const includedCount = included.filter(Boolean).length;
  if (includedCount === 0) throw new WgslDiceError('INVALID_OPTION', 'No class is left in the Dice term.');

  const poolBatch = boolean('batch', o.batch, false);
  const poolClasses = groups === 'global' || formula === 'generalized-dice';
  const reduction = oneOf('reduction', o.reduction, ['mean', 'sum', 'weighted-mean', 'batch-mean', 'none'] as const, 'mean');
  let fixedWeights: Float64Array | undefined;
  let inverseFrequency = false;
  if (o.weights === 'inverse-frequency') {
    inverseFrequency = true;
  } else if (o.weights !== undefined) {
    fixedWeights = classWeights('weights', o.weights, classes);
  }
  if ((fixedWeights || inverseFrequency) && poolClasses) {
    throw new WgslDiceError('INVALID_WEIGHTS', "class weights need per-class groups; drop weights or use groups: 'per-class'.");
  }
  const groupBatches = poolBatch ? 1 : batch;
  const groupClasses = poolClasses ? 1 : includedCount;
  const groupWeights = new Float64Array(poolClasses ? 1 : classes);
  let weightSum = 0;
  for (let c = 0; c < groupWeights.length; c++) {
    if (!poolClasses && !included[c]) continue;
    groupWeights[c] = fixedWeights ? fixedWeights[c] : 1;
    weightSum += groupWeights[c];
  }
  const normalisation =
    reduction === 'mean' ? groupBatches * groupClasses
    : reduction === 'weighted-mean' ? groupBatches * (weightSum || 1)
    : reduction === 'batch-mean' ? groupBatches
    : 1;
  for (let c = 0; c < groupWeights.length; c++) groupWeights[c] /= normalisation;

  const squared = boolean('squared', o.squared, false);
  const softLabel = boolean('softLabel', o.softLabel, false);
  if (squared && softLabel) {
    throw new WgslDiceError('INVALID_OPTION', 'squared and softLabel cannot be combined (MONAI uses one or the other).');
  }
  const activationNeedsLogits = activation === 'sigmoid' || activation === 'softmax';
  if (mask === 'logits' && !activationNeedsLogits) {
    throw new WgslDiceError('INVALID_OPTION', "mask: 'logits' masks logits before an activation; use mask: 'weight' with activation 'none'.");
  }
  let crossEntropy: NormalizedLossOptions['crossEntropy'];
  if (o.crossEntropy !== undefined) {
    if (typeof o.crossEntropy !== 'object' || o.crossEntropy === null) {
      throw new WgslDiceError('INVALID_OPTION', 'crossEntropy must be an object like { lambda: 1 }.');
    }
    rejectUnknownKeys('crossEntropy field', o.crossEntropy, ['lambda', 'weights']);
    if (!activationNeedsLogits) {
      throw new WgslDiceError('INVALID_OPTION', "crossEntropy works on logits: set activation to 'softmax' or 'sigmoid'.");
    }
    crossEntropy = {
      lambda: nonNegative('crossEntropy.lambda', o.crossEntropy.lambda, 1),
      weights: o.crossEntropy.weights === undefined
        ? new Float64Array(classes).fill(1)
        : classWeights('crossEntropy.weights', o.crossEntropy.weights, classes),
    };
  }
  const value = oneOf('value', o.value, ['one-minus', 'negative-log', 'negative'] as const, 'one-minus');
  const gamma = finite('gamma', o.gamma, 1);
  if (gamma <= 0) throw new WgslDiceError('INVALID_OPTION', `gamma must be > 0, got ${gamma}.`);

  return {
    ...shape,
    channelsFirst,
    activation,
    threshold: extra.threshold ?? 0.5,
    target,
    ignoreIndex,
    mask,
    maskPerSample: maskShape === 'per-sample',
    poolBatch,
    poolClasses,
    included,
    score,
    gdlWeight: formula === 'generalized-dice' ? oneOf('gdlWeight', o.gdlWeight, ['square', 'simple', 'uniform'] as const, 'square') : undefined,
    squared,
    softLabel,
    smoothNumerator: nonNegative('smoothNumerator', o.smoothNumerator, 1e-5),
    smoothDenominator: nonNegative('smoothDenominator', o.smoothDenominator, 1e-5),
    denominatorMin: nonNegative('denominatorMin', o.denominatorMin, 0),
    value,
    logEps: nonNegative('logEps', o.logEps, 1e-7),
    gamma,
    inverseFrequency,
    groupWeights,
    reduction,
    emptyZero: oneOf('emptyClass', o.emptyClass, ['keep', 'zero'] as const, 'keep') === 'zero',
    lambdaDice: nonNegative('lambdaDice', o.lambdaDice, 1),
    crossEntropy,
    label: o.label ?? 'wgsl-dice loss',
  };
}

export function groupCount(o: NormalizedLossOptions): number {
  return (o.poolBatch ? 1 : o.batch) * (o.poolClasses ? 1 : o.classes);
}
