/**
 * Builds the functions `wgsl-dice/tfjs` hands out: `(yTrue, yPred, mask?) => tf.Scalar` in
 * Keras's argument order, usable as `model.compile({ loss })`, plus `prepare()`, `warmUp()`,
 * `checkInputs()` and `dispose()`.
 *
 * A call checks everything it can on the host before any tfjs op runs: the tensors (alive, of
 * the right shapes and dtypes) and the loss's options at yPred's shape (the engine's own pure
 * checks, once per shape). Input faults only the GPU sees (labels outside [0, C), NaN or
 * infinite values) make that call's value NaN and come back as a typed error later: see
 * {@link TfjsLossFunction.checkInputs}.
 */
import type { Scalar, Tensor } from '@tensorflow/tfjs-core';
import { WgslDiceError, type DiceEngine } from '../index.js';
import { activeWebGPUBackend, type WebGPUBackend } from './backend.js';
import { LossCache, MAX_SHAPES_PER_DEVICE, type CacheStats, type Destroyable } from './cache.js';
import { gpuLoss, type EncodableLoss } from './custom-grad.js';
import { faultError, type FaultContext } from './faults.js';
import { prepareScaleBy } from './scale-by.js';
import { tf } from './tfjs-core.js';

/** Reported by {@link TfjsLossFunction.warmUp} after each shape it has run. */
export interface WarmUpProgress {
  /** Shapes run so far, of `total`. */
  done: number;
  total: number;
  /** The prediction shape just run. */
  shape: number[];
  /** Milliseconds that shape took (compiling included). */
  ms: number;
}

/** A TensorFlow.js loss computed by wgsl-dice on the WebGPU backend's own buffers. */
export interface TfjsLossFunction {
  /** The loss of a batch, differentiable w.r.t. `yPred` (Keras order: targets first). */
  (yTrue: Tensor, yPred: Tensor, mask?: Tensor): Scalar;
  /**
   * Compiles the GPU loss for predictions of `predShape` on the active backend's device, and
   * keeps it compiled until {@link dispose} (prepared shapes are never evicted). Calls at a
   * shape not prepared yet start compiling and, for the classic Dice losses, compute that one call with
   * the same formula in tfjs ops; {@link tfjsLoss} throws `LOSS_NOT_READY` instead. Rejects with
   * the loss's option errors for that shape (`INVALID_SHAPE`, `INVALID_WEIGHTS`, ...).
   */
  prepare(predShape: readonly number[]): Promise<void>;
  /**
   * Runs every prepared shape once, forward and backward, on zero inputs, and waits for the GPU.
   * Some adapters (Mesa's lavapipe, other software ones) compile a pipeline only at its first
   * dispatch, seconds each, so without this the first training step takes that long; `progress`
   * hears after each shape. Not counted in {@link calls}.
   */
  warmUp(progress?: (event: WarmUpProgress) => void): Promise<void>;
  /**
   * Waits until the GPU has reported on every call so far, and rejects with the first input
   * fault it found: `LABEL_OUT_OF_RANGE` (label-map labels outside [0, C) that are not
   * ignoreIndex: too large, negative, or in a float label map NaN or fractional) or
   * `NON_FINITE_INPUT` (NaN or infinite yPred, dense yTrue or mask values). Such a call's value
   * is NaN; without checkInputs() its fault is thrown by the next call once known.
   */
  checkInputs(): Promise<void>;
  /** Calls computed by wgsl-dice on the GPU, and by the tfjs-ops formula while compiling. */
  readonly calls: { readonly gpu: number; readonly tfjsOps: number };
  /**
   * The compiled shapes. At most {@link MAX_SHAPES_PER_DEVICE} unprepared shapes are kept per
   * device; past that the least recently used is dropped and `evictions` counts it.
   */
  readonly cache: CacheStats;
  /** Destroys the compiled losses (they are recreated on the next call). */
  dispose(): void;
}

/** What distinguishes one kind of loss function from another. */
export interface LossKind<L extends EncodableLoss & Destroyable> {
  name: string;
  /** Throws SHAPE_MISMATCH / INVALID_DTYPE / INVALID_INPUT for tensors this loss cannot take. */
  check(yTrue: Tensor, yPred: Tensor, mask: Tensor | undefined): void;
  /** Throws the engine's option errors for predictions of this shape (pure, no GPU). */
  checkShape(predShape: readonly number[]): void;
  create(engine: DiceEngine, predShape: readonly number[]): Promise<L>;
  targetFor(backend: WebGPUBackend): (yTrue: Tensor) => Tensor;
  /** C of predictions of this shape, for fault messages. */
  classCount(predShape: readonly number[]): number;
  /** Zero targets (and a mask of ones where the loss takes one) for {@link TfjsLossFunction.warmUp}. */
  warmUpInputs(predShape: number[]): { yTrue: Tensor; mask?: Tensor };
  /** The same loss in tfjs ops for a call at a shape still compiling; none: LOSS_NOT_READY. */
  tfjsOps?: (yTrue: Tensor, yPred: Tensor) => Scalar;
}

/** Option checks remembered per shape (a training run meets a handful of shapes). */
const SHAPE_CHECKS_KEPT = 64;

export function lossFunction<L extends EncodableLoss & Destroyable>(kind: LossKind<L>): TfjsLossFunction {
  const cache = new LossCache<L>(async (engine, key) => {
    await prepareScaleBy(engine);
    return kind.create(engine, JSON.parse(key) as number[]);
  });
  const shapeChecks = new Map<string, unknown>();
  const checkShape = (key: string, shape: readonly number[]) => {
    if (!shapeChecks.has(key)) {
      let error: unknown = null;
      try {
        kind.checkShape(shape);
      } catch (thrown) {
        error = thrown;
      }
      if (shapeChecks.size >= SHAPE_CHECKS_KEPT) shapeChecks.delete(shapeChecks.keys().next().value!);
      shapeChecks.set(key, error);
    }
    const error = shapeChecks.get(key);
    if (error !== null) throw error;
  };
  const calls = { gpu: 0, tfjsOps: 0 };
  let callCount = 0;
  const pendingReads = new Set<Promise<void>>();
  let fault: WgslDiceError | undefined;
  const takeFault = () => {
    const found = fault;
    fault = undefined;
    if (found) throw found;
  };

  /** Reads a call's fault words back (after the op has returned) and keeps the first fault found. */
  const watchFaults = (words: Tensor, context: FaultContext) => {
    const read = words
      .data()
      .then(
        (values) => {
          fault ??= faultError(kind.name, Uint32Array.from(values), context);
        },
        // A failed read (the device lost, the backend disposed) is tfjs's own error to report.
        () => undefined,
      )
      .finally(() => {
        words.dispose();
        pendingReads.delete(read);
      });
    pendingReads.add(read);
  };

  const call = (yTrue: Tensor, yPred: Tensor, mask: Tensor | undefined, counted: boolean): Scalar => {
    const backend = activeWebGPUBackend();
    requireTensor(kind.name, 'yTrue', yTrue);
    requireTensor(kind.name, 'yPred', yPred);
    if (mask !== undefined) requireTensor(kind.name, 'the mask', mask);
    requireUsableShape(kind.name, yPred.shape);
    kind.check(yTrue, yPred, mask);
    const key = JSON.stringify(yPred.shape);
    checkShape(key, yPred.shape);
    takeFault();
    const dropped = cache.wasEvicted(backend.device, key); // before get() starts compiling it again
    const loss = cache.get(backend.device, key);
    const index = ++callCount;
    if (loss) {
      if (counted) calls.gpu++;
      let words: Tensor | undefined;
      const value = gpuLoss({
        backend,
        loss,
        yTrue,
        yPred,
        mask,
        targetFor: kind.targetFor(backend),
        label: kind.name,
        onFaults: (w) => (words = w),
      });
      if (words) watchFaults(words, { call: index, shape: yPred.shape, classes: kind.classCount(yPred.shape) });
      return value;
    }
    if (kind.tfjsOps && !mask) {
      if (counted) calls.tfjsOps++;
      return kind.tfjsOps(yTrue, yPred);
    }
    const shape = `[${yPred.shape.join(', ')}]`;
    throw new WgslDiceError(
      'LOSS_NOT_READY',
      dropped
        ? `${kind.name} compiled predictions of shape ${shape} before, but dropped them: it keeps the ` +
            `${MAX_SHAPES_PER_DEVICE} most recently used shapes it was not prepared for. It is compiling them again; ` +
            `await loss.prepare(${shape}) once to keep that shape compiled (prepared shapes are never dropped).`
        : `${kind.name} is still compiling for predictions of shape ${shape}; ` +
            `await loss.prepare(${shape}) once before the first call at that shape (before model.fit).`,
    );
  };

  const run = (yTrue: Tensor, yPred: Tensor, mask?: Tensor): Scalar => call(yTrue, yPred, mask, true);
  // A getter of its own (Object.assign would copy one value).
  Object.defineProperty(run, 'cache', { get: () => cache.stats, enumerable: true });
  return Object.assign(run as typeof run & { readonly cache: CacheStats }, {
    prepare: async (predShape: readonly number[]) => {
      const shape = shapeArgument(kind.name, predShape);
      const key = JSON.stringify(shape);
      checkShape(key, shape);
      await cache.prepare(activeWebGPUBackend().device, key);
    },
    warmUp: async (progress?: (event: WarmUpProgress) => void) => {
      if (progress !== undefined && typeof progress !== 'function') {
        throw new WgslDiceError(
          'INVALID_OPTION',
          `${kind.name}.warmUp(progress) takes a function (or nothing), got ${typeof progress}.`,
        );
      }
      const device = activeWebGPUBackend().device;
      const keys = cache.preparedKeys(device);
      if (keys.length === 0) {
        throw new WgslDiceError(
          'LOSS_NOT_READY',
          `${kind.name}.warmUp() runs each prepared shape once, and none is prepared on this device: ` +
            'await loss.prepare(predShape) first (the shape of yPred, e.g. [8, 128, 128, 3]).',
        );
      }
      for (const [done, key] of keys.entries()) {
        const start = performance.now();
        const shape = JSON.parse(key) as number[];
        await cache.prepare(device, key);
        const { yTrue, mask } = kind.warmUpInputs(shape);
        const yPred = tf.zeros(shape);
        const { value, grad } = tf.valueAndGrad((p: Tensor) => call(yTrue, p, mask, false))(yPred);
        try {
          await Promise.all([value.data(), grad.data()]);
        } finally {
          tf.dispose([yTrue, yPred, value, grad, ...(mask ? [mask] : [])]);
        }
        progress?.({ done: done + 1, total: keys.length, shape, ms: performance.now() - start });
      }
    },
    checkInputs: async () => {
      while (pendingReads.size > 0) await Promise.all([...pendingReads]);
      takeFault();
    },
    calls,
    dispose: () => cache.clear(),
  });
}

/** INVALID_INPUT unless `value` is a live tf.Tensor. */
function requireTensor(name: string, what: string, value: unknown): asserts value is Tensor {
  if (!(value instanceof tf.Tensor)) {
    const got = Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value;
    throw new WgslDiceError(
      'INVALID_INPUT',
      `${name}: ${what} must be a tf.Tensor, got ${got}; wrap host data with tf.tensor(data, shape).`,
    );
  }
  if (value.isDisposed) {
    throw new WgslDiceError(
      'INVALID_INPUT',
      `${name}: ${what} (shape [${value.shape.join(', ')}]) was disposed before the call (tensor.dispose(), or the ` +
        'tf.tidy that made it has ended); keep it alive until the loss call returns.',
    );
  }
}

/** INVALID_SHAPE for predictions no wgsl-dice loss takes: rank < 2, or no elements (an empty batch). */
function requireUsableShape(name: string, shape: readonly number[]): void {
  const text = `[${shape.join(', ')}]`;
  if (shape.length < 2) {
    throw new WgslDiceError(
      'INVALID_SHAPE',
      `${name}: yPred has shape ${text} (rank ${shape.length}); a loss needs [B, ...spatial, C] (rank 2 or more, ` +
        'e.g. [batch, classes] or [batch, height, width, classes]): reshape it, e.g. yPred.reshape([1, -1, 1]) for one sample of one class.',
    );
  }
  if (shape.some((dim) => dim === 0)) {
    throw new WgslDiceError(
      'INVALID_SHAPE',
      `${name}: yPred has shape ${text}, with no elements (an empty batch?); every axis needs at least one entry: ` +
        'skip the loss call for an empty batch.',
    );
  }
}

/** The shape given to prepare(): an array of positive integers. */
function shapeArgument(name: string, value: unknown): number[] {
  const ok = Array.isArray(value) && value.every((dim) => typeof dim === 'number' && Number.isInteger(dim) && dim > 0);
  if (!ok) {
    const got = Array.isArray(value) ? `[${value.map(String).join(', ')}]` : value === null ? 'null' : String(value);
    throw new WgslDiceError(
      'INVALID_SHAPE',
      `${name}.prepare(predShape) takes the shape of yPred as an array of positive integers, ` +
        `e.g. loss.prepare([8, 128, 128, 3]) or loss.prepare(yPred.shape); got ${got}.`,
    );
  }
  const shape = [...(value as number[])];
  requireUsableShape(name, shape);
  return shape;
}

/** Throws SHAPE_MISMATCH naming both shapes unless `ok`. */
export function requireShape(ok: boolean, what: string, got: readonly number[], want: string): void {
  if (!ok) {
    throw new WgslDiceError('SHAPE_MISMATCH', `${what} has shape [${got.join(', ')}] but this loss needs ${want}.`);
  }
}

/** Throws INVALID_DTYPE unless yPred is float32. */
export function requireFloatPred(name: string, yPred: Tensor): void {
  if (yPred.dtype !== 'float32') {
    throw new WgslDiceError(
      'INVALID_DTYPE',
      `${name} takes float32 predictions, got ${yPred.dtype}; cast them with tf.cast(yPred, 'float32') (wgsl-dice/tfjs converts the bytes of such a cast).`,
    );
  }
}
