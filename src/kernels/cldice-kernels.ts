import commonSource from '../../shaders/cldice_common.wgsl';
import dilateBackwardSource from '../../shaders/cldice_dilate_backward.wgsl';
import dilateChoiceSource from '../../shaders/cldice_dilate_choice.wgsl';
import erodeBackwardSource from '../../shaders/cldice_erode_backward.wgsl';
import erodeSource from '../../shaders/cldice_erode.wgsl';
import finalizeSource from '../../shaders/cldice_finalize.wgsl';
import poolSource from '../../shaders/cldice_pool.wgsl';
import skeletonBackwardSource from '../../shaders/cldice_skeleton_backward.wgsl';
import skeletonSource from '../../shaders/cldice_skeleton.wgsl';
import sumsSource from '../../shaders/cldice_sums.wgsl';
import treeSource from '../../shaders/cldice_tree.wgsl';
import { WgslDiceError } from '../errors.js';
import type { BindingWindow } from '../plan.js';
import { UNIFORM_STRIDE } from './uniforms.js';

/**
 * The clDice kernels: each is its own file after the shared preludes it needs (cldice_common.wgsl,
 * cldice_pool.wgsl for the ones that pool, cldice_tree.wgsl for the workgroup sums), with its
 * `override` modes set per pipeline.
 */
const POOLING = [commonSource, poolSource];
const INDEXING = [commonSource];

const kernels = {
  erode: { parts: [...POOLING, erodeSource], modes: {} },
  skeleton_first: { parts: [...POOLING, skeletonSource], modes: { FIRST_LEVEL: 1 } },
  skeleton: { parts: [...POOLING, skeletonSource], modes: { FIRST_LEVEL: 0 } },
  sums: { parts: [...INDEXING, treeSource, sumsSource], modes: {} },
  finalize: { parts: [treeSource, finalizeSource], modes: {} },
  skeleton_backward_top: { parts: [...INDEXING, skeletonBackwardSource], modes: { FROM_LOSS: 1, FIRST_LEVEL: 0 } },
  skeleton_backward: { parts: [...INDEXING, skeletonBackwardSource], modes: { FROM_LOSS: 0, FIRST_LEVEL: 0 } },
  skeleton_backward_first: { parts: [...INDEXING, skeletonBackwardSource], modes: { FROM_LOSS: 0, FIRST_LEVEL: 1 } },
  skeleton_backward_only: { parts: [...INDEXING, skeletonBackwardSource], modes: { FROM_LOSS: 1, FIRST_LEVEL: 1 } },
  dilate_choice: { parts: [...POOLING, dilateChoiceSource], modes: {} },
  dilate_backward_first: { parts: [...INDEXING, dilateBackwardSource], modes: { ACCUMULATE: 0 } },
  dilate_backward: { parts: [...INDEXING, dilateBackwardSource], modes: { ACCUMULATE: 1 } },
  erode_backward: { parts: [...POOLING, erodeBackwardSource], modes: { FINAL: 0 } },
  erode_backward_final: { parts: [...POOLING, erodeBackwardSource], modes: { FINAL: 1 } },
} as const;

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
    const { parts, modes } = kernels[kernel];
    const constants: Record<string, number> = { WORKGROUP_SIZE: workgroupSize, ...modes };
    // SPATIAL_DIMS is declared in cldice_common.wgsl; the finalize kernel does without it.
    if ((parts as readonly string[]).includes(commonSource)) constants.SPATIAL_DIMS = rank;
    const module = device.createShaderModule({ label: `${label} cldice ${kernel}`, code: parts.join('\n') });
    pipeline = device
      .createComputePipelineAsync({ label: `${label} cldice ${kernel}`, layout: 'auto', compute: { module, entryPoint: 'main', constants } })
      .catch(async (error: unknown) => {
        const info = await module.getCompilationInfo();
        const messages = info.messages.map((m) => `cldice ${kernel}:${m.lineNum}:${m.linePos} ${m.type}: ${m.message}`);
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
