/**
 * The TensorFlow.js baseline: the three classic TensorFlow Dice losses written with tfjs ops, line for line
 * as the classic TensorFlow code (per-class losses loop over classes and slice `y[..., i]`), on
 * tfjs's WebGPU backend running on the same dawn.node adapter as wgsl-dice. Gradients come from
 * `tf.valueAndGrad`; results are read with `await data()` (never dataSync, which would block the
 * event loop dawn.node needs).
 */
import type * as Tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { useTfjsWebGPU } from '../src/node/index.js';

export type TfModule = typeof Tf;

/** A loss as the TensorFlow code writes it: `(y_true, y_pred) -> scalar`. */
export type TfjsLoss = (tf: TfModule, yTrue: Tf.Tensor, yPred: Tf.Tensor) => Tf.Scalar;

const EPSILON = 1e-6;

/** y[..., i] for a channels-last tensor: tf.slice on the last axis, then drop that axis. */
function classSlice(tf: TfModule, y: Tf.Tensor, i: number): Tf.Tensor {
  const begin = y.shape.map((_, axis) => (axis === y.rank - 1 ? i : 0));
  const size = y.shape.map((_, axis) => (axis === y.rank - 1 ? 1 : -1));
  return tf.squeeze(tf.slice(y, begin, size), [y.rank - 1]);
}

/** Axes 1..rank-1 (seed: [1, 2, 3]) and 1..rank-2 for a sliced class (seed: [1, 2]). */
const innerAxes = (rank: number) => Array.from({ length: rank - 1 }, (_, k) => k + 1);

/** The global Dice loss: dice per sample over H, W, C; mean over the batch. */
function diceLoss(tf: TfModule, yTrue: Tf.Tensor, yPred: Tf.Tensor): Tf.Scalar {
  const axes = innerAxes(yTrue.rank);
  const intersection = tf.sum(tf.mul(yTrue, yPred), axes);
  const union = tf.add(tf.sum(yTrue, axes), tf.sum(yPred, axes));
  const dice = tf.div(tf.add(tf.mul(2.0, intersection), EPSILON), tf.add(union, EPSILON));
  return tf.mean(tf.sub(1.0, dice));
}

/** The class-weighted Dice loss: loss = sum_i weights[i] * mean_b(1 - dice_i). */
function weightedDiceLoss(tf: TfModule, yTrue: Tf.Tensor, yPred: Tf.Tensor, weights: readonly number[]): Tf.Scalar {
  const numClasses = weights.length;
  const axes = innerAxes(yTrue.rank - 1);
  let loss: Tf.Tensor = tf.scalar(0.0);
  for (let i = 0; i < numClasses; i++) {
    const t = classSlice(tf, yTrue, i);
    const p = classSlice(tf, yPred, i);
    const intersection = tf.sum(tf.mul(t, p), axes);
    const union = tf.add(tf.sum(t, axes), tf.sum(p, axes));
    const dice = tf.div(tf.add(tf.mul(2.0, intersection), EPSILON), tf.add(union, EPSILON));
    loss = tf.add(loss, tf.mul(weights[i], tf.mean(tf.sub(1.0, dice))));
  }
  return loss as Tf.Scalar;
}

/** The multi-class softmax Dice loss: mean over classes of mean_b(1 - dice_c). */
function multiclassDiceLoss(tf: TfModule, yTrue: Tf.Tensor, yPred: Tf.Tensor): Tf.Scalar {
  const numClasses = yTrue.shape[yTrue.rank - 1];
  const axes = innerAxes(yTrue.rank - 1);
  const losses: Tf.Tensor[] = [];
  for (let i = 0; i < numClasses; i++) {
    const t = classSlice(tf, yTrue, i);
    const p = classSlice(tf, yPred, i);
    const intersection = tf.sum(tf.mul(t, p), axes);
    const union = tf.add(tf.sum(t, axes), tf.sum(p, axes));
    const dice = tf.div(tf.add(tf.mul(2.0, intersection), EPSILON), tf.add(union, EPSILON));
    losses.push(tf.mean(tf.sub(1.0, dice)));
  }
  return tf.mean(tf.stack(losses));
}

/**
 * The loss family's cases in tfjs ops: the activation on the logits (softmax over the class
 * axis, or sigmoid), tf.oneHot of the int32 label map for label-map cases, then per-class Dice
 * per sample as in the multi-class softmax Dice loss (smoothing 1e-5 on numerator and denominator, the
 * family's default), mean over samples and classes. The spatial axes are reduced in one op with
 * the class axis kept (channels-last: axes [1, ..., rank-2]; channels-first: [2, ..., rank-1],
 * class axis 1). Gradients via tf.valueAndGrad are w.r.t. the logits.
 */
export function familyTfjsLoss(spec: {
  layout: 'channels-last' | 'channels-first';
  activation: 'softmax' | 'sigmoid';
  target: 'dense' | 'u8';
}): TfjsLoss {
  const smooth = 1e-5;
  const channelsFirst = spec.layout === 'channels-first';
  return (tf, yTrue, yPred) => {
    const rank = yPred.rank;
    const classAxis = channelsFirst ? 1 : rank - 1;
    const classes = yPred.shape[classAxis];
    let p: Tf.Tensor;
    if (spec.activation === 'sigmoid') p = tf.sigmoid(yPred);
    // tf.softmax works on the last axis only: channels-first uses exp(z - logsumexp(z)).
    else if (!channelsFirst) p = tf.softmax(yPred);
    else p = tf.exp(tf.sub(yPred, tf.logSumExp(yPred, classAxis, true)));
    let t: Tf.Tensor = yTrue;
    if (spec.target === 'u8') {
      // oneHot straight to float32 (its dtype argument), not a cast of the int32 one-hot:
      // tfjs-webgpu 4.22 then emits invalid WGSL for the transpose that tf.sum over non-last
      // axes does (an i32 read into an f32 output). Channels-first builds [B, C, ...spatial]
      // directly (labels == class index, broadcast), with no transpose of the one-hot.
      if (!channelsFirst)
        t = tf.oneHot(yTrue as Tf.Tensor, classes, 1, 0, 'float32'); // [B, ...spatial, C]
      else {
        const classIds = tf.reshape(tf.range(0, classes, 1, 'int32'), [1, classes, ...Array(rank - 2).fill(1)]);
        t = tf.cast(tf.equal(tf.expandDims(yTrue, 1), classIds), 'float32');
      }
    }
    const axes = channelsFirst
      ? Array.from({ length: rank - 2 }, (_, k) => k + 2)
      : Array.from({ length: rank - 2 }, (_, k) => k + 1);
    const intersection = tf.sum(tf.mul(t, p), axes); // [B, C]
    const union = tf.add(tf.sum(t, axes), tf.sum(p, axes));
    const dice = tf.div(tf.add(tf.mul(2.0, intersection), smooth), tf.add(union, smooth));
    return tf.mean(tf.sub(1.0, dice));
  };
}

export const seedTfjsLosses = {
  global: diceLoss,
  weighted: weightedDiceLoss,
  multiclass: multiclassDiceLoss,
};

export interface TfjsBaseline {
  tf: TfModule;
  /** The adapter tfjs's backend runs on, to compare with wgsl-dice's. */
  adapterDescription: string;
  /** GPU errors raised on tfjs's device since the last call (it has no listener of its own). */
  takeErrors(): string[];
}

/**
 * Loads TensorFlow.js and makes its WebGPU backend the active one, set up as a Node user of
 * wgsl-dice/tfjs would (`useTfjsWebGPU` from wgsl-dice/node): on the pinned dawn.node device,
 * with the features the engine uses (subgroups where offered). Both the tfjs-ops losses and
 * wgsl-dice/tfjs run on that one device.
 */
export async function loadTfjsWebgpu(dawnFlags: readonly string[]): Promise<TfjsBaseline> {
  const tf = await import('@tensorflow/tfjs');
  await useTfjsWebGPU(tf, { dawnFlags: [...dawnFlags] });
  await import('@tensorflow/tfjs-backend-webgpu'); // registers the 'webgpu' backend
  await tf.ready();
  const backend = tf.backend() as WebGPUBackend;
  const device = backend.device;
  const errors: string[] = [];
  device.addEventListener('uncapturederror', (event) => {
    // Without preventDefault dawn.node prints the error to stdout, into the JSON lines.
    event.preventDefault();
    errors.push((event as GPUUncapturedErrorEvent).error.message);
  });
  const info = device.adapterInfo;
  return {
    tf,
    adapterDescription: info?.description || info?.device || 'unknown',
    takeErrors: () => errors.splice(0),
  };
}
