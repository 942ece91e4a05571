/**
 * `out = dy * source` for a scalar dy, as one small pass (shaders/scale_by.wgsl) recorded into
 * the custom gradient's encoder: it scales a call's saved gradient coefficients, which the
 * loss's backward pass then reads (./custom-grad.ts), so dy costs a few vec4s rather than a
 * pass over the gradient. The pipeline comes from the engine's cache, compiled when a loss
 * function prepares a shape, not during a training step.
 */
import type { DiceEngine } from '../index.js';

type ScaleKernel = Awaited<ReturnType<DiceEngine['_standaloneKernel']>>;

/** The compiled pass, per device, once {@link prepareScaleBy} has resolved. */
const kernels = new WeakMap<GPUDevice, ScaleKernel>();

/** Compiles the pass in the engine's pipeline cache; loss functions await it before their first call. */
export async function prepareScaleBy(engine: DiceEngine): Promise<void> {
  if (!kernels.has(engine.device)) kernels.set(engine.device, await engine._standaloneKernel('scale_by'));
}

export interface ScaleByBuffers {
  /** `bytes` of vec4s. */
  source: GPUBuffer;
  /** One f32 at offset 0 (dy). */
  scale: GPUBuffer;
  /** Receives `bytes` of vec4s; must not overlap source. */
  out: GPUBuffer;
  /** A multiple of 16. */
  bytes: number;
}

/** Records `out = scale[0] * source` into a compute pass of its own. */
export function recordScaleBy(device: GPUDevice, encoder: GPUCommandEncoder, buffers: ScaleByBuffers): void {
  const kernel = kernels.get(device);
  if (!kernel) throw new Error('internal error: prepareScaleBy() has not run for this device');
  const { source, scale, out, bytes } = buffers;
  const bindGroup = device.createBindGroup({
    label: 'wgsl-dice/tfjs scale_by',
    layout: kernel.layout,
    entries: [
      { binding: 0, resource: { buffer: source, size: bytes } },
      { binding: 1, resource: { buffer: scale, size: 4 } },
      { binding: 2, resource: { buffer: out, size: bytes } },
    ],
  });
  const pass = encoder.beginComputePass({ label: 'wgsl-dice/tfjs dy * coefficients' });
  pass.setPipeline(kernel.pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(Math.ceil(bytes / 16 / kernel.workgroupSize));
  pass.end();
}
