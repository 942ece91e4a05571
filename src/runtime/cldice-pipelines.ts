import { WgslDiceError } from '../core/errors.js';
import type { BindingWindow } from '../program/grids.js';
import { kernelSource, type KernelName } from '../kernels/sources.js';
import { sourceLocation } from '../kernels/compose.js';
import { UNIFORM_STRIDE } from '../kernels/uniforms.js';

/**
 * The clDice kernels (shaders/cldice_*.wgsl, which include lib/cldice_common.wgsl, _pool and
 * _tree as they need), each with the `override` modes of its pipelines.
 */
const kernels = {
  erode: { file: 'cldice_erode', modes: {} },
  skeleton_first: { file: 'cldice_skeleton', modes: { FIRST_LEVEL: 1 } },
  skeleton: { file: 'cldice_skeleton', modes: { FIRST_LEVEL: 0 } },
  sums: { file: 'cldice_sums', modes: {} },
  finalize: { file: 'cldice_finalize', modes: {} },
  skeleton_backward_top: { file: 'cldice_skeleton_backward', modes: { FROM_LOSS: 1, FIRST_LEVEL: 0 } },
  skeleton_backward: { file: 'cldice_skeleton_backward', modes: { FROM_LOSS: 0, FIRST_LEVEL: 0 } },
  skeleton_backward_first: { file: 'cldice_skeleton_backward', modes: { FROM_LOSS: 0, FIRST_LEVEL: 1 } },
  skeleton_backward_only: { file: 'cldice_skeleton_backward', modes: { FROM_LOSS: 1, FIRST_LEVEL: 1 } },
  dilate_choice: { file: 'cldice_dilate_choice', modes: {} },
  dilate_backward_first: { file: 'cldice_dilate_backward', modes: { ACCUMULATE: 0 } },
  dilate_backward: { file: 'cldice_dilate_backward', modes: { ACCUMULATE: 1 } },
  erode_backward: { file: 'cldice_erode_backward', modes: { FINAL: 0 } },
  erode_backward_final: { file: 'cldice_erode_backward', modes: { FINAL: 1 } },
} as const satisfies Record<string, { file: KernelName; modes: Record<string, number> }>;

export type ClDiceKernel = keyof typeof kernels;
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
    const { file, modes } = kernels[kernel];
    const shader = kernelSource(file);
    const constants: Record<string, number> = { WORKGROUP_SIZE: workgroupSize, ...modes };
    // SPATIAL_DIMS is declared in lib/cldice_common.wgsl; the finalize kernel does without it.
    if (/override\s+SPATIAL_DIMS/.test(shader.code)) constants.SPATIAL_DIMS = rank;
    const module = device.createShaderModule({ label: `${label} cldice ${kernel}`, code: shader.code });
    pipeline = device
      .createComputePipelineAsync({ label: `${label} cldice ${kernel}`, layout: 'auto', compute: { module, entryPoint: 'main', constants } })
      .catch(async (error: unknown) => {
        const info = await module.getCompilationInfo();
        const messages = info.messages.map((m) => `${sourceLocation(shader, m.lineNum)}:${m.linePos} ${m.type}: ${m.message}`);
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
export async function clDicePipelines(device: GPUDevice, label: string, workgroupSize: number, rank: 2 | 3): Promise<ClDicePipelines> {
  const names = Object.keys(kernels) as ClDiceKernel[];
  const built = await Promise.all(names.map((name) => pipelineFor(device, label, name, workgroupSize, rank)));
  return Object.fromEntries(names.map((name, i) => [name, built[i]])) as ClDicePipelines;
}

/** How the elementwise grid and the tensors' layout look to the kernels. */
export interface ClDiceGeometry {
  /** (D, H, W); D = 1 in 2D. */
  size: readonly [number, number, number];
  /** Element strides of d, h, w. */
  strides: readonly [number, number, number];
  classes: number;
  channelStride: number;
  /** Elements of a slab: one (sample, class) volume channels-first, one sample channels-last. */
  slabElements: number;
  chunksPerSlab: number;
  elementsPerWorkgroup: number;
}

/** Mirrors `ClDiceParams` in cldice_common.wgsl, one block per binding window. */
export function packClDiceParams(g: ClDiceGeometry, windows: readonly BindingWindow[]): ArrayBuffer {
  const bytes = new ArrayBuffer(windows.length * UNIFORM_STRIDE);
  windows.forEach((w, i) => {
    new Uint32Array(bytes, i * UNIFORM_STRIDE, 13).set([
      ...g.size, g.classes, ...g.strides, g.channelStride, g.slabElements, g.chunksPerSlab, g.elementsPerWorkgroup,
      w.linearBase, w.elementBase,
    ]);
  });
  return bytes;
}

/** Mirrors `FinalizeParams` in cldice_finalize.wgsl. */
export function packClDiceFinalizeParams(partialPairs: number, smooth: number, alpha: number): ArrayBuffer {
  const bytes = new ArrayBuffer(16);
  new Uint32Array(bytes, 0, 1)[0] = partialPairs;
  new Float32Array(bytes, 4, 2).set([smooth, alpha]);
  return bytes;
}
