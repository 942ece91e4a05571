import { WgslDiceError } from '../core/errors.js';
import { sourceLocation } from '../kernels/compose.js';
import { kernelSource } from '../kernels/sources.js';
import { CLDICE_KERNELS, type ClDiceKernel } from '../program/cldice.js';

// clDice's own pipeline compiler and cache, until clDice runs on the program runtime and
// compiles through the engine.

/** The pipelines of every clDice kernel ({@link CLDICE_KERNELS}) for one rank. */
export type ClDicePipelines = Record<ClDiceKernel, GPUComputePipeline>;

// Compiled pipelines per device, workgroup size and rank: a second loss of the same kind
// compiles nothing.
const compiled = new WeakMap<GPUDevice, Map<string, Promise<GPUComputePipeline>>>();

function pipelineFor(device: GPUDevice, label: string, kernel: ClDiceKernel, workgroupSize: number, rank: 2 | 3) {
  let cache = compiled.get(device);
  if (!cache) compiled.set(device, (cache = new Map()));
  const key = `${kernel}|${workgroupSize}|${rank}`;
  let pipeline = cache.get(key);
  if (!pipeline) {
    const { file, modes } = CLDICE_KERNELS[kernel];
    const shader = kernelSource(file);
    const constants: Record<string, number> = { WORKGROUP_SIZE: workgroupSize, ...modes };
    // SPATIAL_DIMS is declared in lib/cldice_common.wgsl; the finalize kernel does without it.
    if (/override\s+SPATIAL_DIMS/.test(shader.code)) constants.SPATIAL_DIMS = rank;
    const module = device.createShaderModule({ label: `${label} cldice ${kernel}`, code: shader.code });
    pipeline = device
      .createComputePipelineAsync({
        label: `${label} cldice ${kernel}`,
        layout: 'auto',
        compute: { module, entryPoint: 'main', constants },
      })
      .catch(async (error: unknown) => {
        const info = await module.getCompilationInfo();
        const messages = info.messages.map(
          (m) => `${sourceLocation(shader, m.lineNum)}:${m.linePos} ${m.type}: ${m.message}`,
        );
        throw new WgslDiceError(
          'GPU_ERROR',
          `Could not build the clDice ${kernel} pipeline on this device: ${String((error as Error)?.message ?? error)}` +
            (messages.length ? `\n${messages.join('\n')}` : ''),
        );
      });
    pipeline.catch(() => cache.delete(key));
    cache.set(key, pipeline);
  }
  return pipeline;
}

/** Every clDice pipeline for one rank (2D or 3D), compiled concurrently. */
export async function clDicePipelines(
  device: GPUDevice,
  label: string,
  workgroupSize: number,
  rank: 2 | 3,
): Promise<ClDicePipelines> {
  const names = Object.keys(CLDICE_KERNELS) as ClDiceKernel[];
  const built = await Promise.all(names.map((name) => pipelineFor(device, label, name, workgroupSize, rank)));
  return Object.fromEntries(names.map((name, i) => [name, built[i]])) as ClDicePipelines;
}
