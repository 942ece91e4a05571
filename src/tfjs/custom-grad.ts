/**
 * The tfjs op behind every `wgsl-dice/tfjs` loss: a `tf.customGrad` on the tensors' own
 * GPUBuffers (no readback, no copy of yPred or yTrue).
 * - The forward records the loss's forward passes and copies the call's gradient coefficients
 *   (a few vec4s, see LossProgram.gradientCoefficients) into a saved tensor.
 * - The gradient function scales those coefficients by dy (./scale-by.ts) and records the
 *   loss's backward pass, which writes dy · dL/dpred directly.
 * So a call without a gradient (evaluation, metrics) runs the forward only, and the gradient
 * costs no pass over the gradient beyond the one that writes it. Saving the coefficients per
 * call keeps a loss used twice in one tape correct: the queue runs both backward passes, each
 * after its own coefficients were written back.
 *
 * The input faults the passes count (labels outside [0, C), NaN or infinite pred, target or
 * mask values: the first words of the loss's status buffer) are copied into a small int32
 * tensor per call. The call's value is NaN when any was counted, so a bad input never yields a
 * loss that looks valid; the caller reads the tensor back later for the typed error.
 */
import type { GradSaveFunc, Scalar, Tensor } from '@tensorflow/tfjs-core';
import { bufferOf, pooledTensor, submitPendingTfjsWork, type WebGPUBackend } from './backend.js';
import { recordScaleBy } from './scale-by.js';
import { float32Bytes } from './targets.js';
import { tf } from './tfjs-core.js';

/**
 * Words of the status buffer copied per call: the four fault counts (labels, pred, target,
 * mask), then the first index of each (0xffffffff for none); see STATUS_BYTES in the core.
 */
export const FAULT_WORDS = 8;

type Buffers = { pred: GPUBuffer; target: GPUBuffer; grad?: GPUBuffer; mask?: GPUBuffer };

/** The part of a wgsl-dice loss (seed or family) this op uses. */
export interface EncodableLoss {
  encode(encoder: GPUCommandEncoder, buffers: Buffers & { loss: GPUBuffer }): void;
  /** Input faults and loss of the last run (see {@link FAULT_WORDS}). */
  readonly statusBuffer: GPUBuffer;
  readonly _gradientCoefficients: GPUBuffer | undefined;
  _encodeBackward(encoder: GPUCommandEncoder, buffers: Buffers): void;
}

export interface GpuLossCall {
  backend: WebGPUBackend;
  loss: EncodableLoss;
  yTrue: Tensor;
  yPred: Tensor;
  mask?: Tensor;
  /**
   * The tensor whose buffer holds the target as the loss reads it: yTrue itself, or a
   * conversion made with tfjs ops (run inside the forward and saved for the gradient).
   */
  targetFor: (yTrue: Tensor) => Tensor;
  label: string;
  /** Receives the call's fault words (int32 [FAULT_WORDS], kept: the receiver disposes it). */
  onFaults: (faults: Tensor) => void;
}

/**
 * The loss as a tfjs scalar, differentiable w.r.t. yPred. Targets and masks are data: their
 * "gradient" is a scalar placeholder that tfjs rejects (shape mismatch) if anyone asks for it,
 * rather than a wrong zero tensor of their shape.
 */
export function gpuLoss(call: GpuLossCall): Scalar {
  const { backend, loss, label } = call;
  const device = backend.device;
  const coefficients = loss._gradientCoefficients;
  if (!coefficients) throw new Error(`internal error: ${label}'s program has no gradient coefficients`);
  const inputs = call.mask ? [call.yTrue, call.yPred, call.mask] : [call.yTrue, call.yPred];
  const buffersOf = (target: Tensor, yPred: Tensor, mask: Tensor | undefined): Buffers => ({
    pred: bufferOf(backend, yPred),
    target: bufferOf(backend, target),
    ...(mask ? { mask: bufferOf(backend, mask) } : {}),
  });
  const op = tf.customGrad((...args: (Tensor | GradSaveFunc)[]) => {
    const save = args[inputs.length] as GradSaveFunc;
    const [yTrue, rawPred, rawMask] = args.slice(0, inputs.length) as Tensor[];
    const target = call.targetFor(yTrue);
    const yPred = float32Bytes(backend)(rawPred);
    const mask = rawMask ? float32Bytes(backend)(rawMask) : undefined;
    const buffers = buffersOf(target, yPred, mask);
    const value = pooledTensor(backend, []);
    const saved = pooledTensor(backend, [coefficients.size / 4]);
    const faults = pooledTensor(backend, [FAULT_WORDS], 'int32');
    submitPendingTfjsWork(backend);
    const encoder = device.createCommandEncoder({ label });
    loss.encode(encoder, { ...buffers, loss: value.buffer });
    encoder.copyBufferToBuffer(coefficients, 0, saved.buffer, 0, coefficients.size);
    encoder.copyBufferToBuffer(loss.statusBuffer, 0, faults.buffer, 0, FAULT_WORDS * 4);
    device.queue.submit([encoder.finish()]);
    // tfjs keeps these only while it records a tape (a gradient may follow).
    save(mask ? [target, yPred, saved.tensor, mask] : [target, yPred, saved.tensor]);
    // The forward runs inside a tf.tidy: the fault words must outlive it until read back.
    call.onFaults(tf.keep(faults.tensor));
    const anyFault = tf.any(tf.notEqual(tf.slice(faults.tensor, [0], [4]), 0));
    return {
      value: tf.where(anyFault, tf.scalar(Number.NaN), value.tensor) as Scalar,
      gradFunc: (dy: Scalar, [savedTarget, savedPred, savedCoefficients, savedMask]: Tensor[]) => {
        const grad = pooledTensor(backend, savedPred.shape);
        const scale = bufferOf(backend, float32Bytes(backend)(dy));
        const source = bufferOf(backend, savedCoefficients);
        const backwardBuffers = { ...buffersOf(savedTarget, savedPred, savedMask), grad: grad.buffer };
        submitPendingTfjsWork(backend);
        const encoder = device.createCommandEncoder({ label: `${label} gradient` });
        recordScaleBy(device, encoder, { source, scale, out: coefficients, bytes: coefficients.size });
        loss._encodeBackward(encoder, backwardBuffers);
        device.queue.submit([encoder.finish()]);
        return inputs.map((_, i) => (i === 1 ? grad.tensor : tf.scalar(0)));
      },
    };
  });
  return op(...inputs);
}
