/**
 * `wgsl-dice/tfjs`: the three classic TensorFlow Dice losses, and any `engine.loss` configuration, as
 * TensorFlow.js losses on tfjs's WebGPU backend. Each returns `(yTrue, yPred) => tf.Scalar`
 * (Keras's order) for `model.compile({ loss })`, `tf.grad` or `optimizer.minimize`; the
 * forward and dL/dpred run as wgsl-dice passes on the tensors' own GPUBuffers in one submit.
 *
 * @example
 * import * as tf from '@tensorflow/tfjs';
 * import '@tensorflow/tfjs-backend-webgpu';
 * import { diceLoss } from 'wgsl-dice/tfjs';
 *
 * await tf.setBackend('webgpu');            // Node: await useTfjsWebGPU(tf) from 'wgsl-dice/node'
 * const loss = diceLoss();
 * await loss.prepare([8, 128, 128, 3]);     // optional: compiles before the first step
 * await loss.warmUp();                      // optional: runs it once (software adapters compile then)
 * model.compile({ optimizer: 'adam', loss });
 * await model.fit(images, masks, { batchSize: 8, epochs: 10 });
 * await loss.checkInputs();                 // throws if any call met bad labels or NaN values
 *
 * A label-map loss (`tfjsLoss({ target: 'label-map' })`) works with tf.grad, tf.valueAndGrad and
 * optimizer.minimize, but not model.fit: tfjs-layers checks that targets have the model
 * output's shape before the loss runs. Use dense one-hot targets with model.fit.
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import {
  _normalizeDiceOptions,
  _normalizeLossOptions,
  _rejectUnknownKeys,
  _snapshotOptions,
  WgslDiceError,
  type Epsilon,
  type LossOptions,
} from '../index.js';
import { lossFunction, requireFloatPred, requireShape, type TfjsLossFunction } from './loss-function.js';
import { seedLossInTfjsOps, type SeedFormula } from './seed-formulas.js';
import { float32Bytes, labelMapTarget } from './targets.js';
import { tf } from './tfjs-core.js';

export type { TfjsLossFunction, WarmUpProgress } from './loss-function.js';
export type { CacheStats } from './cache.js';
export { MAX_SHAPES_PER_DEVICE } from './cache.js';
export { TfjsUnavailableError } from './tfjs-core.js';

/** Options of the three classic TensorFlow Dice losses (diceLoss, weightedDiceLoss, multiclassDiceLoss). */
export interface ClassicDiceLossOptions {
  /** Default 1e-6 on numerator and denominator, as in the TensorFlow code. */
  epsilon?: Epsilon;
}

/** @deprecated The former name of {@link ClassicDiceLossOptions}. */
export type SeedLossOptions = ClassicDiceLossOptions;

/** The global Dice loss (TensorFlow's `dice_loss`): one Dice per sample over every position and class; mean over the batch. */
export function diceLoss(options: ClassicDiceLossOptions = {}): TfjsLossFunction {
  return seedLoss('diceLoss', 'global', undefined, options);
}

/** The class-weighted Dice loss (TensorFlow's `weighted_dice_loss`): Σ_c weights[c] · mean_b(1 − dice_bc), not divided by Σ weights. */
export function weightedDiceLoss(weights: readonly number[], options: ClassicDiceLossOptions = {}): TfjsLossFunction {
  if (!Array.isArray(weights) && !(ArrayBuffer.isView(weights) && !(weights instanceof DataView))) {
    throw new WgslDiceError(
      'INVALID_WEIGHTS',
      'weightedDiceLoss(weights) needs one weight per class, as an array of numbers.',
    );
  }
  if (weights.length === 0) {
    throw new WgslDiceError(
      'INVALID_WEIGHTS',
      'weightedDiceLoss(weights) got no weights; pass one per class (the last axis of yPred).',
    );
  }
  // Read once: later changes to the caller's array do not reach the loss.
  return seedLoss('weightedDiceLoss', 'per-class', Array.from(weights as ArrayLike<number>), options);
}

/** The multi-class softmax Dice loss (TensorFlow's `multiclass_dice_loss`): mean over classes and batch of (1 − dice_bc). */
export function multiclassDiceLoss(options: ClassicDiceLossOptions = {}): TfjsLossFunction {
  return seedLoss('multiclassDiceLoss', 'per-class', undefined, options);
}

/**
 * Checks the options now (at creation, with C = the number of weights, or 1), reading each
 * option once: a bad epsilon or weight fails here, not at the first call.
 */
function seedLoss(
  name: string,
  reduce: SeedFormula['reduce'],
  weights: number[] | undefined,
  options: unknown,
): TfjsLossFunction {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new WgslDiceError(
      'INVALID_OPTION',
      `${name}(options) takes an object such as { epsilon: 1e-6 }, got ${options === null ? 'null' : typeof options}.`,
    );
  }
  _rejectUnknownKeys(`${name} option`, options, ['epsilon']);
  const epsilon = (options as ClassicDiceLossOptions).epsilon;
  const checked = _normalizeDiceOptions({ shape: [1, 1, weights?.length ?? 1], reduce, weights, epsilon });
  const smoothing = { numerator: checked.smoothNumerator, denominator: checked.smoothDenominator };
  const formula: SeedFormula = {
    reduce,
    weights,
    epsilonNumerator: smoothing.numerator,
    epsilonDenominator: smoothing.denominator,
  };
  const diceOptions = (shape: readonly number[]) => ({ shape, reduce, weights, epsilon: smoothing, label: name });
  return lossFunction({
    name,
    check(yTrue, yPred, mask) {
      requireFloatPred(name, yPred);
      requireShape(
        sameShape(yTrue.shape, yPred.shape),
        `${name}: yTrue`,
        yTrue.shape,
        `yPred's shape [${yPred.shape.join(', ')}] (dense one-hot or soft targets)`,
      );
      const classes = yPred.shape[yPred.rank - 1];
      if (weights && weights.length !== classes) {
        throw new WgslDiceError(
          'INVALID_WEIGHTS',
          `${name} was made with ${weights.length} weights but yPred has C = ${classes} classes (last axis); pass one weight per class.`,
        );
      }
      if (mask)
        throw new WgslDiceError(
          'INVALID_INPUT',
          `${name} takes no mask; use tfjsLoss({ mask: 'weight' }) for masked Dice.`,
        );
    },
    checkShape: (shape) => void _normalizeDiceOptions(diceOptions(shape)),
    create: (engine, shape) => engine.dice(diceOptions(shape)),
    targetFor: float32Bytes,
    classCount: (shape) => shape[shape.length - 1],
    warmUpInputs: (shape) => ({ yTrue: tf.zeros(shape) }),
    tfjsOps: (yTrue, yPred) => seedLossInTfjsOps(formula, yTrue, yPred),
  });
}

/**
 * Options of {@link tfjsLoss}: those of `engine.loss` without `shape` (taken from yPred), with
 * targets given as a tensor: `'dense'` (f32 of yPred's shape) or `'label-map'` (int32, or
 * float32 holding whole numbers: `[B, ...spatial]`, or with a size-1 class axis). `'u32'` is
 * `'label-map'`, as in engine.loss (one label per 32-bit word); tfjs has no u8 or u16 tensors.
 */
export interface TfjsLossOptions extends Omit<LossOptions, 'shape' | 'target'> {
  target?: 'dense' | 'label-map' | 'u32';
}

/**
 * Any loss of the wgsl-dice family (softmax or sigmoid on logits, label maps, ignoreIndex,
 * masks as a third argument, Tversky, Generalized Dice, cross-entropy...) as a tfjs loss. Its
 * gradient is w.r.t. yPred (the logits when an activation is fused). Await
 * `loss.prepare(predShape)` once per shape before the first call.
 *
 * Every option is checked here, at creation (misspelt names get a "did you mean"), and again
 * for each new shape before any tfjs op runs. clDice (`formula: 'cl-dice'`), the Hausdorff-DT
 * loss and the boundary term are not available as tfjs losses yet: `NOT_SUPPORTED`.
 */
export function tfjsLoss(options: TfjsLossOptions = {}): TfjsLossFunction {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new WgslDiceError('INVALID_OPTION', 'tfjsLoss(options) takes the options of engine.loss without shape.');
  }
  // One snapshot: each option (a getter included, nested arrays and objects too) is read once, here.
  const given = _snapshotOptions(options) as Record<string, unknown>;
  if ('shape' in given) {
    throw new WgslDiceError('UNKNOWN_OPTION', 'tfjsLoss takes no shape: it is read from yPred at each call.');
  }
  if (given.formula === 'cl-dice') {
    throw new WgslDiceError(
      'NOT_SUPPORTED',
      "tfjsLoss({ formula: 'cl-dice' }): clDice is not available as a TensorFlow.js loss yet (its passes have no " +
        "tfjs gradient hook). Use engine.loss({ formula: 'cl-dice', shape }) with compute() or encode() on the " +
        "tensors' buffers, or another formula here: 'dice', 'jaccard', 'tversky', 'f-beta' or 'generalized-dice'.",
    );
  }
  if (given.formula === 'hausdorff-dt' || given.boundary !== undefined) {
    throw new WgslDiceError(
      'NOT_SUPPORTED',
      "tfjsLoss: the distance-field terms (formula 'hausdorff-dt', boundary) are not available as TensorFlow.js " +
        "losses yet: their gradient needs the call's distance fields, which the tfjs gradient hook does not keep. " +
        "Use engine.loss({ ..., shape }) with compute() or encode() on the tensors' buffers.",
    );
  }
  const { target = 'dense', ...rest } = given;
  if (target !== 'dense' && target !== 'label-map' && target !== 'u32') {
    const packed = target === 'u8' || target === 'u16';
    throw new WgslDiceError(
      'INVALID_OPTION',
      `tfjsLoss: target must be 'dense' or 'label-map' (also called 'u32'), got ${JSON.stringify(target)}` +
        (packed
          ? "; tfjs has no u8 or u16 tensors: a tfjs label map's element type comes from the tensor (int32, or float32 holding whole numbers): pass target: 'label-map'."
          : '.'),
    );
  }
  const labelMap = target !== 'dense';
  const coreOptions = (shape: readonly number[]) =>
    ({ ...rest, shape, target: labelMap ? 'u32' : 'dense', label: rest.label ?? 'tfjsLoss' }) as LossOptions;
  const checked = _normalizeLossOptions(coreOptions(placeholderShape(rest)));
  const { channelsFirst, maskPerSample } = checked;
  const masked = checked.mask !== 'none';
  const name = 'tfjsLoss';
  const axes = (predShape: readonly number[]) => {
    const classAxis = channelsFirst ? 1 : predShape.length - 1;
    const spatial = predShape.filter((_, axis) => axis !== 0 && axis !== classAxis);
    const labelShape = [predShape[0], ...spatial];
    const withClassAxis = [...predShape.slice(0, classAxis), 1, ...predShape.slice(classAxis + 1)];
    return { classAxis, spatial, labelShape, withClassAxis };
  };
  return lossFunction({
    name,
    check(yTrue, yPred, mask) {
      requireFloatPred(name, yPred);
      const { spatial, labelShape, withClassAxis } = axes(yPred.shape);
      if (!labelMap) {
        requireShape(
          sameShape(yTrue.shape, yPred.shape),
          `${name}: yTrue`,
          yTrue.shape,
          `yPred's shape [${yPred.shape.join(', ')}]`,
        );
      } else {
        requireShape(
          sameShape(yTrue.shape, labelShape) || sameShape(yTrue.shape, withClassAxis),
          `${name}: the label map yTrue`,
          yTrue.shape,
          `[${labelShape.join(', ')}] or [${withClassAxis.join(', ')}]`,
        );
      }
      if (masked !== (mask !== undefined)) {
        throw new WgslDiceError(
          'INVALID_INPUT',
          masked
            ? `${name} was made with mask: '${checked.mask}'; pass the mask as the third argument.`
            : `${name} got a mask but was made without one; create it with mask: 'weight' (or 'logits').`,
        );
      }
      if (mask) {
        // Shapes, not only sizes: a transposed mask of the right size would weight the wrong voxels.
        const shapes = maskPerSample ? [labelShape, withClassAxis] : [spatial, [1, ...spatial]];
        requireShape(
          shapes.some((want) => sameShape(mask.shape, want)),
          `${name}: the mask`,
          mask.shape,
          `${shapes.map((want) => `[${want.join(', ')}]`).join(' or ')} (f32 voxel weights${maskPerSample ? '' : " shared by the batch (maskShape: 'shared')"})`,
        );
      }
    },
    checkShape: (shape) => void _normalizeLossOptions(coreOptions(shape)),
    create: (engine, shape) => engine.loss(coreOptions(shape)),
    targetFor: labelMap ? labelMapTarget : float32Bytes,
    classCount: (shape) => shape[axes(shape).classAxis],
    warmUpInputs: (shape) => {
      const { spatial, labelShape } = axes(shape);
      const yTrue: Tensor = labelMap ? tf.zeros(labelShape, 'int32') : tf.zeros(shape);
      return masked ? { yTrue, mask: tf.ones(maskPerSample ? labelShape : spatial) } : { yTrue };
    },
  });
}

/**
 * A shape for checking options before any call: one sample, one voxel, and as many classes as
 * the options imply (the weights' count, or past the largest class index), at least 2.
 */
function placeholderShape(options: Record<string, unknown>): number[] {
  const { weights, classes, layout } = options;
  let count = 2;
  if (Array.isArray(weights) || (ArrayBuffer.isView(weights) && !(weights instanceof DataView))) {
    count = (weights as ArrayLike<number>).length;
  } else if (Array.isArray(classes)) {
    count = Math.max(
      count,
      ...classes.filter((c): c is number => Number.isInteger(c) && c >= 0 && c < 2 ** 16).map((c) => c + 1),
    );
  }
  return layout === 'channels-first' ? [1, count, 1] : [1, 1, count];
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
