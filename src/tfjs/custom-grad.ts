/**
 * The tfjs op behind every `wgsl-dice/tfjs` loss: a `tf.customGrad` whose forward records the
 * wgsl-dice passes (loss and dL/dpred, one submit) on the tensors' own GPUBuffers and whose
 * gradient is `dy * dL/dpred`, one more pass on the GPU (./scale-by.ts). Nothing is read back
 * and nothing copied.
 */
import * as tf from '@tensorflow/tfjs-core';
import { bufferOf, pooledTensor, submitPendingTfjsWork, type WebGPUBackend } from './backend.js';
import { scaleBy } from './scale-by.js';
import { float32Bytes } from './targets.js';

/** The part of a wgsl-dice loss (seed or family) this op uses. */
export interface EncodableLoss {
  encode(
    encoder: GPUCommandEncoder,
    buffers: { pred: GPUBuffer; target: GPUBuffer; loss: GPUBuffer; grad?: GPUBuffer; mask?: GPUBuffer },
  ): void;
}

export interface GpuLossCall {
  backend: WebGPUBackend;
  loss: EncodableLoss;
  yTrue: tf.Tensor;
  yPred: tf.Tensor;
  mask?: tf.Tensor;
  /**
   * The tensor whose buffer holds the target as the loss reads it: yTrue itself, or a
   * conversion made with tfjs ops (run inside the forward, so tfjs disposes it afterwards).
   */
  targetFor: (yTrue: tf.Tensor) => tf.Tensor;
  label: string;
}

/**
 * The loss as a tfjs scalar, differentiable w.r.t. yPred. Targets and masks are data: their
 * "gradient" is a scalar placeholder that tfjs rejects (shape mismatch) if anyone asks for it,
 * rather than a wrong zero tensor of their shape.
 */
export function gpuLoss(call: GpuLossCall): tf.Scalar {
  const { backend, loss, label } = call;
  const inputs = call.mask ? [call.yTrue, call.yPred, call.mask] : [call.yTrue, call.yPred];
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[inputs.length] as tf.GradSaveFunc;
    const [yTrue, yPred, mask] = args.slice(0, inputs.length) as tf.Tensor[];
    const target = bufferOf(backend, call.targetFor(yTrue));
    const pred = bufferOf(backend, float32Bytes(backend)(yPred));
    const maskBuffer = mask ? bufferOf(backend, float32Bytes(backend)(mask)) : undefined;
    const value = pooledTensor(backend, []);
    const grad = pooledTensor(backend, yPred.shape);
    submitPendingTfjsWork(backend);
    const device = backend.device;
    const encoder = device.createCommandEncoder({ label });
    loss.encode(encoder, {
      pred,
      target,
      loss: value.buffer,
      grad: grad.buffer,
      ...(maskBuffer ? { mask: maskBuffer } : {}),
    });
    device.queue.submit([encoder.finish()]);
    save([grad.tensor]);
    return {
      value: value.tensor as tf.Scalar,
      gradFunc: (dy: tf.Scalar, [dPred]: tf.Tensor[]) =>
        inputs.map((_, i) => (i === 1 ? scaleBy(backend, dy, dPred) : tf.scalar(0))),
    };
  });
  return op(...inputs);
}
