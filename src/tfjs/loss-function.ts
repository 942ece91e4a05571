/**
 * Builds the functions `wgsl-dice/tfjs` hands out: `(yTrue, yPred, mask?) => tf.Scalar` in
 * Keras's argument order, usable as `model.compile({ loss })`, plus `prepare()` and `dispose()`.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { WgslDiceError, type DiceEngine } from '../index.js';
import { activeWebGPUBackend, type WebGPUBackend } from './backend.js';
import { LossCache, type Destroyable } from './cache.js';
import { gpuLoss, type EncodableLoss } from './custom-grad.js';
import { prepareScaleBy } from './scale-by.js';

/** A TensorFlow.js loss computed by wgsl-dice on the WebGPU backend's own buffers. */
export interface TfjsLossFunction {
  /** The loss of a batch, differentiable w.r.t. `yPred` (Keras order: targets first). */
  (yTrue: tf.Tensor, yPred: tf.Tensor, mask?: tf.Tensor): tf.Scalar;
  /**
   * Compiles the GPU loss for predictions of `predShape` on the active backend's device.
   * Calls at a shape not prepared yet start compiling and, for the seed losses, compute that
   * one call with the same formula in tfjs ops; {@link tfjsLoss} throws `LOSS_NOT_READY` instead.
   */
  prepare(predShape: readonly number[]): Promise<void>;
  /** Calls computed by wgsl-dice on the GPU, and by the tfjs-ops formula while compiling. */
  readonly calls: { readonly gpu: number; readonly tfjsOps: number };
  /** Destroys the compiled losses (they are recreated on the next call). */
  dispose(): void;
}

/** What distinguishes one kind of loss function from another. */
export interface LossKind<L extends EncodableLoss & Destroyable> {
  name: string;
  /** Throws SHAPE_MISMATCH / INVALID_DTYPE for tensors this loss cannot take. */
  check(yTrue: tf.Tensor, yPred: tf.Tensor, mask: tf.Tensor | undefined): void;
  create(engine: DiceEngine, predShape: readonly number[]): Promise<L>;
  targetFor(backend: WebGPUBackend): (yTrue: tf.Tensor) => tf.Tensor;
  /** The same loss in tfjs ops for a call at a shape still compiling; none: LOSS_NOT_READY. */
  tfjsOps?: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Scalar;
}

export function lossFunction<L extends EncodableLoss & Destroyable>(kind: LossKind<L>): TfjsLossFunction {
  const cache = new LossCache<L>(async (engine, key) => {
    await prepareScaleBy(engine);
    return kind.create(engine, JSON.parse(key) as number[]);
  });
  const calls = { gpu: 0, tfjsOps: 0 };
  const run = (yTrue: tf.Tensor, yPred: tf.Tensor, mask?: tf.Tensor): tf.Scalar => {
    const backend = activeWebGPUBackend();
    kind.check(yTrue, yPred, mask);
    const loss = cache.get(backend.device, JSON.stringify(yPred.shape));
    if (loss) {
      calls.gpu++;
      return gpuLoss({ backend, loss, yTrue, yPred, mask, targetFor: kind.targetFor(backend), label: kind.name });
    }
    if (kind.tfjsOps && !mask) {
      calls.tfjsOps++;
      return kind.tfjsOps(yTrue, yPred);
    }
    throw new WgslDiceError(
      'LOSS_NOT_READY',
      `${kind.name} is still compiling for predictions of shape [${yPred.shape.join(', ')}]; ` +
        `await loss.prepare([${yPred.shape.join(', ')}]) once before the first call at that shape (before model.fit).`,
    );
  };
  return Object.assign(run, {
    prepare: async (predShape: readonly number[]) => {
      await cache.prepare(activeWebGPUBackend().device, JSON.stringify([...predShape]));
    },
    calls,
    dispose: () => cache.clear(),
  });
}

/** Throws SHAPE_MISMATCH naming both shapes unless `ok`. */
export function requireShape(ok: boolean, what: string, got: readonly number[], want: string): void {
  if (!ok) {
    throw new WgslDiceError('SHAPE_MISMATCH', `${what} has shape [${got.join(', ')}] but this loss needs ${want}.`);
  }
}

/** Throws INVALID_DTYPE unless yPred is float32. */
export function requireFloatPred(name: string, yPred: tf.Tensor): void {
  if (yPred.dtype !== 'float32') {
    throw new WgslDiceError(
      'INVALID_DTYPE',
      `${name} takes float32 predictions, got ${yPred.dtype}; cast them with tf.cast(yPred, 'float32') (wgsl-dice/tfjs converts the bytes of such a cast).`,
    );
  }
}
