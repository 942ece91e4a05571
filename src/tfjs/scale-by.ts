/**
 * The custom gradient's `dy * dL/dpred` on the GPU (shaders/scale_by.wgsl): one vec4 pass into
 * a tensor from tfjs's pool. tfjs's own `tf.mul(dy, grad)` broadcasts the scalar element by
 * element and took about as long as the whole wgsl-dice loss on lavapipe (18 ms of 40 at
 * 2x512x512x8, measured in one process, same load); it remains the fallback for element counts
 * that are not a multiple of 4.
 */
import * as tf from '@tensorflow/tfjs-core';
import { kernelSource } from '../kernels/registry.js';
import { bufferOf, pooledTensor, submitPendingTfjsWork, type WebGPUBackend } from './backend.js';

const WORKGROUP_SIZE = 256;
/** A few hundred workgroups keep any device busy; each thread then strides over the rest. */
const MAX_WORKGROUPS = 1024;

const pipelines = new WeakMap<GPUDevice, GPUComputePipeline>();

function pipelineFor(device: GPUDevice): GPUComputePipeline {
  let pipeline = pipelines.get(device);
  if (!pipeline) {
    const module = device.createShaderModule({ label: 'wgsl-dice/tfjs scale_by', code: kernelSource('scale_by').code });
    pipeline = device.createComputePipeline({
      label: 'wgsl-dice/tfjs scale_by',
      layout: 'auto',
      compute: { module, entryPoint: 'main', constants: { WORKGROUP_SIZE } },
    });
    pipelines.set(device, pipeline);
  }
  return pipeline;
}

/** `dy * grad` for a scalar dy, as a new float32 tensor of grad's shape. */
export function scaleBy(backend: WebGPUBackend, dy: tf.Tensor, grad: tf.Tensor): tf.Tensor {
  if (grad.size % 4 !== 0 || grad.size === 0) return tf.mul(dy, grad);
  const device = backend.device;
  const source = bufferOf(backend, grad);
  const scale = bufferOf(backend, dy);
  const out = pooledTensor(backend, grad.shape);
  submitPendingTfjsWork(backend);
  const pipeline = pipelineFor(device);
  const bytes = grad.size * 4;
  const bindGroup = device.createBindGroup({
    label: 'wgsl-dice/tfjs scale_by',
    layout: pipeline.getBindGroupLayout(0),
    entries: [
      { binding: 0, resource: { buffer: source, size: bytes } },
      { binding: 1, resource: { buffer: scale, size: 4 } },
      { binding: 2, resource: { buffer: out.buffer, size: bytes } },
    ],
  });
  const encoder = device.createCommandEncoder({ label: 'wgsl-dice/tfjs dy * grad' });
  const pass = encoder.beginComputePass({ label: 'wgsl-dice/tfjs dy * grad' });
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(Math.min(MAX_WORKGROUPS, Math.ceil(grad.size / 4 / WORKGROUP_SIZE)));
  pass.end();
  device.queue.submit([encoder.finish()]);
  return out.tensor;
}
