import { WgslDiceError } from '../core/errors.js';
import { MAX_CLASSES } from '../core/limits.js';
import { parseLayoutShape, type LayoutShape } from '../core/shape.js';
import { rejectUndeclaredChannelsFirst } from './layout-hint.js';
import { familyBoundary, type BoundaryOptions, type NormalizedBoundary } from './surface.js';
import {
  classWeights,
  describeValue,
  oneOf,
  optionalBoolean,
  optionalF32,
  optionalLabel,
  optionalNonNegative,
  ownOptions,
  requireF32,
  snapshotOptions,
} from '../core/validate.js';

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
  /**
   * Applied to pred inside the passes for the Dice term: 'none' (pred holds probabilities),
   * 'sigmoid', 'softmax' over classes, or 'tanh' (MONAI other_act=torch.tanh).
   */
  activation?: 'none' | 'sigmoid' | 'softmax' | 'tanh';
  /**
   * Dense f32 targets of pred's shape, or an integer label map `[B, ...spatial]` of u8/u16/u32
   * (packed 4 / 2 / 1 to a u32 word). `'label-map'` is `'u32'`, one label per 32-bit word: the
   * name wgsl-dice/tfjs uses for its int32 label maps.
   */
  target?: 'dense' | 'label-map' | 'u8' | 'u16' | 'u32';
  /**
   * Label-map voxels with this label leave every sum (and the cross-entropy). With a dense
   * target, any finite value: elements whose target equals it leave every sum (smp's
   * ignore_index in binary and multilabel mode masks pred and target element-wise).
   */
  ignoreIndex?: number;
  /**
   * Voxel mask (f32, `[B, ...spatial]` or `[...spatial]` shared by all samples):
   * 'weight' multiplies every voxel's terms after the activation; 'logits' multiplies the
   * input and the target before the activation, as MONAI's MaskedDiceLoss does (a label map's
   * label is multiplied and truncated, so a masked voxel becomes class 0).
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
  /**
   * The L1 soft-label form tp = (sum p + sum g - sum |p - g|) / 2 (smp), or with 'absolute'
   * MONAI's soft_label form over absolute values: tp = (sum |p| + sum |g| - sum |p - g|) / 2,
   * fp = sum |p| - tp, fn = sum |g| - tp (different for predictions outside [0, 1]).
   */
  softLabel?: boolean | 'absolute';
  /** Lower clip of tp in the score, fp and fn keeping the unclipped tp (nnU-Net clip_tp). */
  tpMin?: number;
  smoothNumerator?: number;
  smoothDenominator?: number;
  /** Lower clamp of the score's denominator (smp eps, nnU-Net 1e-8). Default: no clamp. */
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
   * (sum w*v / sum w), 'batch-mean' (sum over classes of w_c times the batch mean: the classic losses'
   * weighted Dice), or 'none' (every group's value is kept; the scalar and the gradient are their sum).
   */
  reduction?: 'mean' | 'sum' | 'weighted-mean' | 'batch-mean' | 'none';
  /** Groups whose target mass is 0: 'keep' the formula's value, or 'zero' (smp drops them). */
  emptyClass?: 'keep' | 'zero';
  /** Weight of the Dice term in a compound loss (default 1). */
  lambdaDice?: number;
  /**
   * Add cross-entropy on the raw input (the logits, whatever the Dice activation) in the same
   * passes: `form` 'softmax' (torch CrossEntropyLoss) or 'binary' (BCEWithLogitsLoss), by
   * default the activation's ('softmax', or 'binary' with sigmoid).
   * `posWeight` (binary CE only) weighs the positive term as torch's BCEWithLogitsLoss(pos_weight):
   * l = -[posWeight * g * log sigmoid(z) + (1 - g) * log(1 - sigmoid(z))].
   * `labelSmoothing` e (softmax CE only, in [0, 1]) uses the target (1 - e) g + e / C, as
   * torch's CrossEntropyLoss(label_smoothing).
   * `reduction` 'mean' (default) divides as torch does: by the weights of the true classes for a
   * label map, by the voxel count for a dense (probability) target, by the element count for
   * binary CE; 'sum' does not divide.
   */
  crossEntropy?: {
    lambda?: number;
    weights?: readonly number[];
    posWeight?: number;
    labelSmoothing?: number;
    form?: 'softmax' | 'binary';
    reduction?: 'mean' | 'sum';
  };
  /** Add MONAI's focal loss on the raw input (logits) in the same passes: see {@link FocalOptions}. */
  focal?: FocalOptions;
  /**
   * Add the boundary loss of Kervadec et al. (mean over samples, classes and voxels of the
   * activated prediction times the target's signed distance), times its lambda: see
   * {@link BoundaryOptions}. 1 to 3 spatial axes; not with a mask or ignoreIndex.
   */
  boundary?: BoundaryOptions;
  /**
   * Element type of pred: 'f32' (default) or 'f16' (mixed-precision logits, half the bytes to
   * read; needs the device feature 'shader-f16'). Every term is computed and summed in f32.
   */
  predType?: 'f32' | 'f16';
  /**
   * Element type of the gradient written: 'f32' (default) or 'f16' (rounded from the f32
   * gradient as it is stored; magnitudes past 65504 become infinities; needs 'shader-f16').
   */
  gradType?: 'f32' | 'f16';
  label?: string;
}

/**
 * MONAI's FocalLoss as a term of the loss, on the raw input z (the logits; after the
 * mask when mask is 'logits'), per element of the focal classes: every class, less class 0
 * when includeBackground is false (the `classes` subset applies to the Dice term only).
 * - sigmoid form: l = (z - z g - log sigmoid(z)) * sigmoid(-z (2g - 1))^gamma, times
 *   g * alpha + (1 - g) * (1 - alpha) when alpha is given;
 * - softmax form (`useSoftmax`): l = -(1 - p)^gamma * log p * g with p the softmax over the
 *   focal classes only, times alpha_c (a scalar alpha gives class 0 the factor 1 - alpha and
 *   every other class alpha; it needs includeBackground).
 * Each class's terms are multiplied by `weights[c]` and by the voxel weight (mask, ignoreIndex).
 */
export interface FocalOptions {
  /** Weight of the focal term in the loss (default 1). */
  lambda?: number;
  /** Focusing exponent (default 2, >= 0). */
  gamma?: number;
  /** A scalar, or one value per focal class (C, or C - 1 without background). */
  alpha?: number | readonly number[];
  /** One weight per class (length C, >= 0). */
  weights?: readonly number[];
  useSoftmax?: boolean;
  /**
   * 'mean' over every focal element (default), 'sum-of-means' (per (sample, class) spatial
   * means, summed: MONAI's reduction='sum'), or 'sum' over every element.
   */
  reduction?: 'mean' | 'sum-of-means' | 'sum';
}

const knownOptions = [
  'shape',
  'layout',
  'activation',
  'target',
  'ignoreIndex',
  'mask',
  'maskShape',
  'groups',
  'batch',
  'classes',
  'includeBackground',
  'formula',
  'score',
  'alpha',
  'beta',
  'fBeta',
  'gdlWeight',
  'squared',
  'softLabel',
  'tpMin',
  'smoothNumerator',
  'smoothDenominator',
  'denominatorMin',
  'value',
  'logEps',
  'gamma',
  'weights',
  'reduction',
  'emptyClass',
  'lambdaDice',
  'crossEntropy',
  'focal',
  'boundary',
  'predType',
  'gradType',
  'label',
] as const;

/** Options of {@link DiceEngine.metric}: a loss's options plus how predictions are binarised (no gradient, so no gradType). */
export interface MetricOptions extends Omit<
  LossOptions,
  'activation' | 'crossEntropy' | 'focal' | 'boundary' | 'gradType'
> {
  /** 'argmax' over classes (default) or pred > threshold. */
  binarize?: 'argmax' | 'threshold';
  threshold?: number;
}

export type Activation = NonNullable<LossOptions['activation']> | 'argmax' | 'threshold';
/** A target kind after normalisation ('label-map' is read as 'u32'). */
export type TargetKind = Exclude<NonNullable<LossOptions['target']>, 'label-map'>;

export interface NormalizedLossOptions extends LayoutShape {
  readonly activation: Activation;
  readonly threshold: number;
  readonly target: TargetKind;
  /** The ignored label, or for a dense target the f32 bits of the ignored value. */
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
  /** softLabel 'absolute': sums of |p| and |g| (MONAI). */
  readonly softAbs: boolean;
  /** Lower clip of tp (-Infinity: none). */
  readonly tpMin: number;
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
  readonly crossEntropy:
    | {
        lambda: number;
        weights: Float64Array;
        posWeight: number;
        labelSmoothing: number;
        form: 'softmax' | 'binary';
        /** The CE sum is divided by this; 0: by the weights of the true classes. */
        divisor: number;
      }
    | undefined;
  readonly focal: NormalizedFocal | undefined;
  /** The boundary term (src/program/boundary.ts), when asked for. */
  readonly boundary?: NormalizedBoundary;
  readonly predType: 'f32' | 'f16';
  readonly gradType: 'f32' | 'f16';
  readonly label: string;
}

export interface NormalizedFocal {
  readonly lambda: number;
  readonly gamma: number;
  readonly useSoftmax: boolean;
  /** The focal classes are firstClass .. C - 1. */
  readonly firstClass: number;
  /** Per class: the factor on terms with g (alpha x weight) and on terms with 1 - g (0 in the softmax form). */
  readonly positive: Float64Array;
  readonly negative: Float64Array;
  /** The sum of the focal terms is divided by this. */
  readonly normaliser: number;
}

/** LIMIT_EXCEEDED past {@link MAX_CLASSES} classes, with its reason. */
export function requireClassLimit(classes: number): void {
  if (classes > MAX_CLASSES) {
    throw new WgslDiceError(
      'LIMIT_EXCEEDED',
      `C = ${classes} classes is more than the ${MAX_CLASSES} these losses take (every label of a u16 label map); ` +
        'merge classes, or split the class axis into several losses.',
    );
  }
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

export function normalizeLossOptions(
  given: unknown,
  extra: { activation?: Activation; threshold?: number } = {},
): NormalizedLossOptions {
  // Read once (see snapshotOptions): validated and used from this copy only.
  const options = snapshotOptions(given);
  if (typeof options !== 'object' || options === null) {
    throw new WgslDiceError('INVALID_OPTION', 'loss() needs an options object with at least { shape }.');
  }
  rejectUndeclaredChannelsFirst(options, "If the data is [B, C, ...spatial], pass layout: 'channels-first'.");
  const o = ownOptions<LossOptions>('loss option', options, knownOptions);
  if (o.target === 'label-map') o.target = 'u32'; // one vocabulary with wgsl-dice/tfjs
  const layout = oneOf('layout', o.layout, ['channels-last', 'channels-first'] as const, 'channels-last');
  const channelsFirst = layout === 'channels-first';
  const shape = parseLayoutShape(o.shape, channelsFirst);
  const { classes, batch } = shape;
  requireClassLimit(classes);

  const activation =
    extra.activation ?? oneOf('activation', o.activation, ['none', 'sigmoid', 'softmax', 'tanh'] as const, 'none');
  const target = oneOf('target', o.target, ['dense', 'u8', 'u16', 'u32'] as const, 'dense');
  let ignoreIndex: number | undefined;
  if (o.ignoreIndex !== undefined && target === 'dense') {
    // Passed as its f32 bits, compared as a value with the f32 target in the kernels (-0 == 0).
    ignoreIndex = new Uint32Array(Float32Array.of(optionalF32('ignoreIndex', o.ignoreIndex, 0)).buffer)[0];
  } else if (o.ignoreIndex !== undefined) {
    const max = target === 'u8' ? 255 : target === 'u16' ? 65535 : 2 ** 32 - 1;
    if (!Number.isInteger(o.ignoreIndex) || o.ignoreIndex < 0 || o.ignoreIndex > max) {
      throw new WgslDiceError(
        'INVALID_OPTION',
        `ignoreIndex must be an integer in [0, ${max}] for ${target} labels, got ${o.ignoreIndex}.`,
      );
    }
    ignoreIndex = o.ignoreIndex;
  }
  const mask = oneOf('mask', o.mask, ['none', 'weight', 'logits'] as const, 'none');
  const maskShape = oneOf('maskShape', o.maskShape, ['per-sample', 'shared'] as const, 'per-sample');
  const groups = oneOf('groups', o.groups, ['per-class', 'global'] as const, 'per-class');
  const formula = oneOf(
    'formula',
    o.formula,
    ['dice', 'jaccard', 'tversky', 'f-beta', 'generalized-dice'] as const,
    'dice',
  );
  rejectInapplicable(o, formula);
  const alpha = optionalNonNegative('alpha', o.alpha, 0.5);
  const beta = optionalNonNegative('beta', o.beta, 0.5);
  const fBeta = optionalNonNegative('fBeta', o.fBeta, 1);
  let score = scoreCoefficients(formula, alpha, beta, fBeta);
  if (o.score !== undefined) {
    if (typeof o.score !== 'object' || o.score === null) {
      throw new WgslDiceError('INVALID_OPTION', 'score must be { numTp, denTp, denFp, denFn }.');
    }
    const s = ownOptions<typeof score>('score field', o.score, ['numTp', 'denTp', 'denFp', 'denFn']);
    // All four or none: a missing one has no sensible default (it would be NaN in every group).
    const field = (name: keyof typeof score) => {
      if (s[name] === undefined) {
        throw new WgslDiceError(
          'INVALID_OPTION',
          `score.${name} is missing; score needs all of numTp, denTp, denFp and denFn.`,
        );
      }
      return requireF32(`score.${name}`, s[name]);
    };
    score = { numTp: field('numTp'), denTp: field('denTp'), denFp: field('denFp'), denFn: field('denFn') };
  }

  const included = Array.from({ length: classes }, () => true);
  if (o.classes !== undefined) {
    if (!Array.isArray(o.classes))
      throw new WgslDiceError('INVALID_OPTION', 'classes must be an array of class indices.');
    included.fill(false);
    for (const c of o.classes) {
      if (!Number.isInteger(c) || c < 0 || c >= classes) {
        throw new WgslDiceError(
          'INVALID_OPTION',
          `classes contains ${String(c)}, not a class index in [0, ${classes - 1}].`,
        );
      }
      included[c] = true;
    }
  }
  const includeBackground = optionalBoolean('includeBackground', o.includeBackground, true);
  if (!includeBackground) {
    if (classes === 1) {
      throw new WgslDiceError('INVALID_OPTION', 'includeBackground: false needs C > 1 (it drops class 0).');
    }
    included[0] = false;
  }
  const includedCount = included.filter(Boolean).length;
  if (includedCount === 0) throw new WgslDiceError('INVALID_OPTION', 'No class is left in the Dice term.');

  const poolBatch = optionalBoolean('batch', o.batch, false);
  const poolClasses = groups === 'global' || formula === 'generalized-dice';
  const reduction = oneOf(
    'reduction',
    o.reduction,
    ['mean', 'sum', 'weighted-mean', 'batch-mean', 'none'] as const,
    'mean',
  );
  let fixedWeights: Float64Array | undefined;
  let inverseFrequency = false;
  if (o.weights === 'inverse-frequency') {
    inverseFrequency = true;
  } else if (o.weights !== undefined) {
    fixedWeights = classWeights('weights', o.weights, classes);
  }
  if ((fixedWeights || inverseFrequency) && poolClasses) {
    throw new WgslDiceError(
      'INVALID_WEIGHTS',
      "class weights need per-class groups; drop weights or use groups: 'per-class'.",
    );
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
    reduction === 'mean'
      ? groupBatches * groupClasses
      : reduction === 'weighted-mean'
        ? groupBatches * (weightSum || 1)
        : reduction === 'batch-mean'
          ? groupBatches
          : 1;
  for (let c = 0; c < groupWeights.length; c++) groupWeights[c] /= normalisation;

  const squared = optionalBoolean('squared', o.squared, false);
  const softAbs = o.softLabel === 'absolute';
  const softLabel = softAbs || optionalBoolean('softLabel', o.softLabel, false);
  if (squared && softLabel) {
    throw new WgslDiceError(
      'INVALID_OPTION',
      'squared and softLabel cannot be combined (MONAI uses one or the other).',
    );
  }
  let crossEntropy: NormalizedLossOptions['crossEntropy'];
  if (o.crossEntropy !== undefined) {
    if (typeof o.crossEntropy !== 'object' || o.crossEntropy === null) {
      throw new WgslDiceError('INVALID_OPTION', 'crossEntropy must be an object like { lambda: 1 }.');
    }
    const ce = ownOptions<NonNullable<LossOptions['crossEntropy']>>('crossEntropy field', o.crossEntropy, [
      'lambda',
      'weights',
      'posWeight',
      'labelSmoothing',
      'form',
      'reduction',
    ]);
    const defaultForm = activation === 'softmax' ? 'softmax' : activation === 'sigmoid' ? 'binary' : undefined;
    const form = oneOf('crossEntropy.form', ce.form ?? defaultForm, ['softmax', 'binary'] as const, 'softmax');
    if (ce.form === undefined && defaultForm === undefined) {
      throw new WgslDiceError(
        'INVALID_OPTION',
        `crossEntropy with activation '${activation}' needs crossEntropy.form: 'softmax' or 'binary' (the cross-entropy runs on the logits).`,
      );
    }
    if (ce.posWeight !== undefined && form !== 'binary') {
      throw new WgslDiceError(
        'INVALID_OPTION',
        "crossEntropy.posWeight weighs binary cross-entropy: it needs crossEntropy.form 'binary'.",
      );
    }
    const labelSmoothing = optionalNonNegative('crossEntropy.labelSmoothing', ce.labelSmoothing, 0);
    if (labelSmoothing > 1 || (labelSmoothing > 0 && form !== 'softmax')) {
      throw new WgslDiceError(
        'INVALID_OPTION',
        `crossEntropy.labelSmoothing must be in [0, 1] and needs crossEntropy.form 'softmax' (as torch's CrossEntropyLoss), got ${labelSmoothing}.`,
      );
    }
    const ceReduction = oneOf('crossEntropy.reduction', ce.reduction, ['mean', 'sum'] as const, 'mean');
    const divisor =
      ceReduction === 'sum' ? 1 : form === 'binary' ? shape.elements : target === 'dense' ? batch * shape.spatial : 0;
    crossEntropy = {
      form,
      divisor,
      labelSmoothing,
      lambda: optionalNonNegative('crossEntropy.lambda', ce.lambda, 1),
      weights:
        ce.weights === undefined
          ? new Float64Array(classes).fill(1)
          : classWeights('crossEntropy.weights', ce.weights, classes),
      posWeight: optionalNonNegative('crossEntropy.posWeight', ce.posWeight, 1),
    };
  }
  const focal = o.focal === undefined ? undefined : normalizeFocal(o.focal, shape, includeBackground ? 0 : 1);
  const value = oneOf('value', o.value, ['one-minus', 'negative-log', 'negative'] as const, 'one-minus');
  const gamma = optionalF32('gamma', o.gamma, 1);
  if (gamma <= 0) throw new WgslDiceError('INVALID_OPTION', `gamma must be > 0, got ${gamma}.`);

  return {
    ...shape,
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
    gdlWeight:
      formula === 'generalized-dice'
        ? oneOf('gdlWeight', o.gdlWeight, ['square', 'simple', 'uniform'] as const, 'square')
        : undefined,
    squared,
    softLabel,
    softAbs,
    tpMin: o.tpMin === undefined ? -Infinity : optionalF32('tpMin', o.tpMin, 0),
    smoothNumerator: optionalNonNegative('smoothNumerator', o.smoothNumerator, 1e-5),
    smoothDenominator: optionalNonNegative('smoothDenominator', o.smoothDenominator, 1e-5),
    // No clamp unless asked: raw (unactivated) inputs can make a denominator negative, and
    // MONAI, Keras and qsm divide by it as it is.
    denominatorMin:
      o.denominatorMin === undefined ? -Infinity : optionalNonNegative('denominatorMin', o.denominatorMin, 0),
    value,
    logEps: optionalNonNegative('logEps', o.logEps, 1e-7),
    gamma,
    inverseFrequency,
    groupWeights,
    reduction,
    emptyZero: oneOf('emptyClass', o.emptyClass, ['keep', 'zero'] as const, 'keep') === 'zero',
    lambdaDice: optionalNonNegative('lambdaDice', o.lambdaDice, 1),
    crossEntropy,
    focal,
    predType: oneOf('predType', o.predType, ['f32', 'f16'] as const, 'f32'),
    gradType: oneOf('gradType', o.gradType, ['f32', 'f16'] as const, 'f32'),
    ...(o.boundary === undefined ? {} : { boundary: familyBoundary(o.boundary, { ...o, layout, activation }) }),
    label: optionalLabel(o.label, 'wgsl-dice loss'),
  };
}

/**
 * Options given for a configuration they do not affect are errors, not silently dropped: they
 * usually mean the caller expected another formula or value.
 */
function rejectInapplicable(o: Partial<LossOptions>, formula: string): void {
  const doesNotApply = (given: string, needs: string) => {
    throw new WgslDiceError('INVALID_OPTION', `${given} has no effect unless ${needs}; drop it or set ${needs}.`);
  };
  if (o.score !== undefined) {
    for (const key of ['formula', 'alpha', 'beta', 'fBeta'] as const) {
      if (o[key] !== undefined) {
        throw new WgslDiceError(
          'INVALID_OPTION',
          `score replaces the coefficients that ${key} selects; pass one or the other.`,
        );
      }
    }
  }
  if ((o.alpha !== undefined || o.beta !== undefined) && formula !== 'tversky')
    doesNotApply('alpha / beta', "formula: 'tversky'");
  if (o.fBeta !== undefined && formula !== 'f-beta') doesNotApply('fBeta', "formula: 'f-beta'");
  if (o.gdlWeight !== undefined && formula !== 'generalized-dice')
    doesNotApply('gdlWeight', "formula: 'generalized-dice'");
  if (o.maskShape !== undefined && (o.mask === undefined || o.mask === 'none'))
    doesNotApply('maskShape', "mask: 'weight' or 'logits'");
  if (o.logEps !== undefined && o.value !== 'negative-log') doesNotApply('logEps', "value: 'negative-log'");
}

/**
 * The options of {@link DiceEngine.metric}: a loss's options without activation, cross-entropy
 * or focal terms, no smoothing unless given, and predictions binarised by argmax or a threshold.
 */
export function normalizeMetricOptions(given: unknown): NormalizedLossOptions {
  const options = snapshotOptions(given);
  if (typeof options !== 'object' || options === null) {
    throw new WgslDiceError(
      'INVALID_OPTION',
      `metric() needs an options object with at least { shape }, got ${describeValue(options)}.`,
    );
  }
  const metricOnly = ['binarize', 'threshold'];
  const known = [
    ...knownOptions.filter(
      (k) => k !== 'activation' && k !== 'crossEntropy' && k !== 'focal' && k !== 'boundary' && k !== 'gradType',
    ),
    ...metricOnly,
  ];
  const { binarize = 'argmax', threshold, ...rest } = ownOptions<MetricOptions>('metric option', options, known);
  if (binarize !== 'argmax' && binarize !== 'threshold') {
    throw new WgslDiceError(
      'INVALID_OPTION',
      `binarize must be 'argmax' or 'threshold', got ${describeValue(binarize)}.`,
    );
  }
  if (threshold !== undefined && binarize !== 'threshold') {
    throw new WgslDiceError(
      'INVALID_OPTION',
      "threshold applies to binarize: 'threshold' only; drop it or set binarize.",
    );
  }
  return normalizeLossOptions(
    { smoothNumerator: 0, smoothDenominator: 0, ...rest },
    { activation: binarize, threshold: threshold === undefined ? 0.5 : requireF32('threshold', threshold) },
  );
}

function normalizeFocal(
  given: unknown,
  shape: { batch: number; classes: number; spatial: number },
  firstClass: number,
): NormalizedFocal {
  if (typeof given !== 'object' || given === null) {
    throw new WgslDiceError('INVALID_OPTION', 'focal must be an object like { gamma: 2 }.');
  }
  const f = ownOptions<FocalOptions>('focal field', given, [
    'lambda',
    'gamma',
    'alpha',
    'weights',
    'useSoftmax',
    'reduction',
  ]);
  const { classes } = shape;
  const useSoftmax = optionalBoolean('focal.useSoftmax', f.useSoftmax, false);
  const weights =
    f.weights === undefined ? new Float64Array(classes).fill(1) : classWeights('focal.weights', f.weights, classes);
  const focalClasses = classes - firstClass;
  // Per focal class: the factor on g-terms and on (1 - g)-terms; no alpha means 1 and 1.
  const positive = new Float64Array(classes);
  const negative = new Float64Array(classes);
  let alpha: number[] | undefined;
  if (typeof f.alpha === 'number') {
    const a = focalAlpha('focal.alpha', f.alpha);
    if (!useSoftmax) alpha = new Array<number>(focalClasses).fill(a);
    else if (firstClass !== 0) {
      throw new WgslDiceError(
        'INVALID_OPTION',
        'a scalar focal.alpha in the softmax form weighs the background class: it needs includeBackground; pass one alpha per focal class instead.',
      );
    } else alpha = Array.from({ length: focalClasses }, (_, i) => (i === 0 ? 1 - a : a));
  } else if (f.alpha !== undefined) {
    if (!Array.isArray(f.alpha) || f.alpha.length !== focalClasses) {
      throw new WgslDiceError(
        'INVALID_OPTION',
        `focal.alpha must be a number or ${focalClasses} numbers (one per focal class).`,
      );
    }
    alpha = f.alpha.map((a, i) => focalAlpha(`focal.alpha[${i}]`, a));
  }
  for (let c = firstClass; c < classes; c++) {
    const a = alpha?.[c - firstClass];
    positive[c] = weights[c] * (a ?? 1);
    negative[c] = useSoftmax ? 0 : weights[c] * (a === undefined ? 1 : 1 - a);
  }
  const reduction = oneOf('focal.reduction', f.reduction, ['mean', 'sum-of-means', 'sum'] as const, 'mean');
  const normaliser =
    reduction === 'mean'
      ? shape.batch * focalClasses * shape.spatial
      : reduction === 'sum-of-means'
        ? shape.spatial
        : 1;
  return {
    lambda: optionalNonNegative('focal.lambda', f.lambda, 1),
    gamma: optionalNonNegative('focal.gamma', f.gamma, 2),
    useSoftmax,
    firstClass,
    positive,
    negative,
    normaliser,
  };
}

/**
 * A focal alpha: the weight of the terms with g, 1 - alpha that of the terms with 1 - g, so in
 * [0, 1]; outside, a term's weight is negative and so can the loss be.
 */
function focalAlpha(name: string, value: unknown): number {
  const a = requireF32(name, value);
  if (a < 0 || a > 1) {
    throw new WgslDiceError(
      'INVALID_OPTION',
      `${name} must be in [0, 1] (the weight of the positive terms; 1 - alpha weighs the negative ones), got ${a}.`,
    );
  }
  return a;
}

export function groupCount(o: NormalizedLossOptions): number {
  return (o.poolBatch ? 1 : o.batch) * (o.poolClasses ? 1 : o.classes);
}
