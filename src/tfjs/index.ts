/**
 * `wgsl-dice/tfjs`: the seed's three Dice losses, and any `engine.loss` configuration, as
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
 * model.compile({ optimizer: 'adam', loss });
 * await model.fit(images, masks, { batchSize: 8, epochs: 10 });
 */
import { DEFAULT_EPSILON, WgslDiceError, type Epsilon, type LossOptions } from '../index.js';
import { lossFunction, requireFloatPred, requireShape, type TfjsLossFunction } from './loss-function.js';
import { seedLossInTfjsOps, type SeedFormula } from './seed-formulas.js';
import { float32Bytes, labelMapTarget } from './targets.js';

export type { TfjsLossFunction } from './loss-function.js';
export { MAX_SHAPES_PER_DEVICE } from './cache.js';

/** Options of the seed losses. */
export interface SeedLossOptions {
  /** Default 1e-6 on numerator and denominator, as in the seed. */
  epsilon?: Epsilon;
}

/** Seed example 1, `dice_loss`: one Dice per sample over every position and class; mean over the batch. */
export function diceLoss(options: SeedLossOptions = {}): TfjsLossFunction {
  return seedLoss('diceLoss', { reduce: 'global', weights: undefined, ...epsilonOf(options) }, options);
}

/** Seed example 2, `weighted_dice_loss`: Σ_c weights[c] · mean_b(1 − dice_bc), not divided by Σ weights. */
export function weightedDiceLoss(weights: readonly number[], options: SeedLossOptions = {}): TfjsLossFunction {
  if (!Array.isArray(weights) && !ArrayBuffer.isView(weights)) {
    throw new WgslDiceError(
      'INVALID_WEIGHTS',
      'weightedDiceLoss(weights) needs one weight per class, as an array of numbers.',
    );
  }
  return seedLoss(
    'weightedDiceLoss',
    { reduce: 'per-class', weights: Array.from(weights), ...epsilonOf(options) },
    options,
  );
}

/** Seed example 3, `multiclass_dice_loss`: mean over classes and batch of (1 − dice_bc). */
export function multiclassDiceLoss(options: SeedLossOptions = {}): TfjsLossFunction {
  return seedLoss('multiclassDiceLoss', { reduce: 'per-class', weights: undefined, ...epsilonOf(options) }, options);
}

function epsilonOf(options: SeedLossOptions): Pick<SeedFormula, 'epsilonNumerator' | 'epsilonDenominator'> {
  const epsilon = options.epsilon ?? DEFAULT_EPSILON;
  return typeof epsilon === 'number'
    ? { epsilonNumerator: epsilon, epsilonDenominator: epsilon }
    : { epsilonNumerator: epsilon.numerator, epsilonDenominator: epsilon.denominator };
}

function seedLoss(name: string, formula: SeedFormula, options: SeedLossOptions): TfjsLossFunction {
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
      if (formula.weights && formula.weights.length !== classes) {
        throw new WgslDiceError(
          'INVALID_WEIGHTS',
          `${name} was made with ${formula.weights.length} weights but yPred has C = ${classes} classes (last axis); pass one weight per class.`,
        );
      }
      if (mask)
        throw new WgslDiceError(
          'INVALID_INPUT',
          `${name} takes no mask; use tfjsLoss({ mask: 'weight' }) for masked Dice.`,
        );
    },
    create: (engine, shape) =>
      engine.dice({ shape, reduce: formula.reduce, weights: formula.weights, epsilon: options.epsilon, label: name }),
    targetFor: float32Bytes,
    tfjsOps: (yTrue, yPred) => seedLossInTfjsOps(formula, yTrue, yPred),
  });
}

/**
 * Options of {@link tfjsLoss}: those of `engine.loss` without `shape` (taken from yPred), with
 * targets given as a tensor: `'dense'` (f32 of yPred's shape) or `'label-map'` (int32, or
 * float32 holding whole numbers: `[B, ...spatial]`, or with a size-1 class axis).
 */
export interface TfjsLossOptions extends Omit<LossOptions, 'shape' | 'target'> {
  target?: 'dense' | 'label-map';
}

/**
 * Any loss of the wgsl-dice family (softmax or sigmoid on logits, label maps, ignoreIndex,
 * masks as a third argument, Tversky, Generalized Dice, cross-entropy...) as a tfjs loss. Its
 * gradient is w.r.t. yPred (the logits when an activation is fused). Await
 * `loss.prepare(predShape)` once per shape before the first call.
 */
export function tfjsLoss(options: TfjsLossOptions = {}): TfjsLossFunction {
  if (typeof options !== 'object' || options === null) {
    throw new WgslDiceError('INVALID_OPTION', 'tfjsLoss(options) takes the options of engine.loss without shape.');
  }
  const { target = 'dense', ...rest } = options;
  if (target !== 'dense' && target !== 'label-map') {
    throw new WgslDiceError('INVALID_OPTION', `target must be 'dense' or 'label-map', got ${JSON.stringify(target)}.`);
  }
  if ('shape' in rest) {
    throw new WgslDiceError('UNKNOWN_OPTION', 'tfjsLoss takes no shape: it is read from yPred at each call.');
  }
  const channelsFirst = rest.layout === 'channels-first';
  const masked = rest.mask !== undefined && rest.mask !== 'none';
  const sharedMask = rest.maskShape === 'shared';
  const name = 'tfjsLoss';
  return lossFunction({
    name,
    check(yTrue, yPred, mask) {
      requireFloatPred(name, yPred);
      const classAxis = channelsFirst ? 1 : yPred.rank - 1;
      const spatial = yPred.shape.filter((_, axis) => axis !== 0 && axis !== classAxis);
      const labelShape = [yPred.shape[0], ...spatial];
      if (target === 'dense') {
        requireShape(
          sameShape(yTrue.shape, yPred.shape),
          `${name}: yTrue`,
          yTrue.shape,
          `yPred's shape [${yPred.shape.join(', ')}]`,
        );
      } else {
        const withClassAxis = [...yPred.shape.slice(0, classAxis), 1, ...yPred.shape.slice(classAxis + 1)];
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
            ? `${name} was made with mask: '${rest.mask}'; pass the mask as the third argument.`
            : `${name} got a mask but was made without one; create it with mask: 'weight' (or 'logits').`,
        );
      }
      if (mask) {
        const want = sharedMask ? spatial : labelShape;
        requireShape(
          mask.size === want.reduce((a, b) => a * b, 1),
          `${name}: the mask`,
          mask.shape,
          `[${want.join(', ')}] (f32 voxel weights)`,
        );
      }
    },
    create: (engine, shape) =>
      engine.loss({ ...rest, shape, target: target === 'dense' ? 'dense' : 'u32', label: name }),
    targetFor: target === 'dense' ? float32Bytes : labelMapTarget,
  });
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
