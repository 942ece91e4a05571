/**
 * The custom gradient's `dy * dL/dpred` on the GPU (shaders/scale_by.wgsl): one vec4 pass into
 * a tensor from tfjs's pool. tfjs's own `tf.mul(dy, grad)` broadcasts the scalar element by
 * element and took about as long as the whole wgsl-dice loss on lavapipe (18 ms of 40 at
 * 2x512x512x8, measured in one process, same load); it remains the fallback for element counts
 * that are not a multiple of 4. The pipeline comes from the engine's cache, compiled when a loss
 * function prepares a shape, not during a training step.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DiceEngine } from '../index.js';
import { bufferOf, pooledTensor, submitPendingTfjsWork, type WebGPUBackend } from './backend.js';

/** A few hundred workgroups keep any device busy; each thread then strides over the rest. */
const MAX_WORKGROUPS = 1024;

type ScaleKernel = Awaited<ReturnType<DiceEngine['_standaloneKernel']>>;

/** The compiled pass, per device, once {@link prepareScaleBy} has resolved. */
const kernels = new WeakMap<GPUDevice, ScaleKernel>();

/** Compiles the pass in the engine's pipeline cache; loss functions await it before their first call. */
export async function prepareScaleBy(engine: DiceEngine): Promise<void> {
  if (!kernels.has(engine.device)) kernels.set(engine.device, await engine._standaloneKernel('scale_by'));
}

/** `dy * grad` for a scalar dy, as a new float32 tensor of grad's shape. */
export function scaleBy(backend: WebGPUBackend, dy: tf.Tensor, grad: tf.Tensor): tf.Tensor {
  const device = backend.device;
  const kernel = kernels.get(device);
  if (!kernel || grad.size % 4 !== 0 || grad.size === 0) return tf.mul(dy, grad);
  const source = bufferOf(backend, grad);
  const scale = bufferOf(backend, dy);
  const out = pooledTensor(backend, grad.shape);
  submitPendingTfjsWork(backend);
  const bytes = grad.size * 4;
  const bindGroup = device.createBindGroup({
    label: 'wgsl-dice/tfjs scale_by',
    layout: kernel.layout,
    entries: [
      { binding: 0, resource: { buffer: source, size: bytes } },
      { binding: 1, resource: { buffer: scale, size: 4 } },
      { binding: 2, resource: { buffer: out.buffer, size: bytes } },
    ],
  });
  const encoder = device.createCommandEncoder({ label: 'wgsl-dice/tfjs dy * grad' });
  const pass = encoder.beginComputePass({ label: 'wgsl-dice/tfjs dy * grad' });
  pass.setPipeline(kernel.pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(Math.min(MAX_WORKGROUPS, Math.ceil(grad.size / 4 / kernel.workgroupSize)));
  pass.end();
  device.queue.submit([encoder.finish()]);
  return out.tensor;
}
