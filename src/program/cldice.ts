import { STORAGE_BUFFERS_BEYOND_DEFAULT } from '../kernels/sources.js';
import { packPerWindow, packUniform, type UniformValue } from '../kernels/uniforms.js';
import type { NormalizedClDiceOptions } from '../spec/cldice.js';
import {
  elementwiseFields,
  elementwiseVolumes,
  LOSS_INPUTS,
  scratchVolume,
  windowedPass,
  type ElementwiseGrid,
} from './cldice-common.js';
import { elementwiseLevels } from './cldice-steps.js';
import { tileGrid, tiledLevels, type ClDiceTiles } from './cldice-tiles.js';
import { stageF16 } from './f16-convert.js';
import type { BindingWindow } from './grids.js';
import type { GridProfile } from './profile.js';
import {
  finalizePass,
  scratchRef,
  statusScratch,
  tensorRef,
  type LossProgram,
  type TensorName,
  type TensorSpec,
} from './program.js';

// clDice's spec -> program mapping (MONAI's SoftclDiceLoss / SoftDiceclDiceLoss): the soft
// skeletons of target (group 'target-skeleton', skipped when the caller gives targetSkeleton) and
// pred, K + 1 levels each; the foreground sums per workgroup with the input faults
// (cldice_sums.wgsl); one finalize; and, with a gradient, the levels' backward from the top down,
// routing gradients with torch's tie rules. The level passes are a GPU plan's tiles
// (src/program/cldice-tiles.ts: one pass a level) or a software plan's elementwise steps
// (src/program/cldice-steps.ts: no barriers), with bitwise the same results. Every pass runs in
// binding windows of whole volumes, scratch included; no atomics on values.

/** The grids of a clDice loss: the elementwise grid (the sums, and a software plan's steps), and a GPU plan's tiles. */
export interface ClDiceGrids {
  readonly sums: ElementwiseGrid;
  readonly tiles?: ClDiceTiles;
}

/** Mirrors `SumsParams` in cldice_sums.wgsl: one block per binding window. */
export function sumsParamsFields(o: NormalizedClDiceOptions, g: ElementwiseGrid, w: BindingWindow): UniformValue[] {
  return [
    ['classes', 'u32', o.classes],
    // An element's class is (index / channel_stride) % classes.
    ['channel_stride', 'u32', o.channelsFirst ? o.size[0] * o.size[1] * o.size[2] : 1],
    ...elementwiseFields(g, w),
  ];
}

/** Mirrors `FinalizeParams` in cldice_finalize.wgsl. */
export function clDiceFinalizeFields(o: NormalizedClDiceOptions, sums: ElementwiseGrid): UniformValue[] {
  return [
    ['partial_pairs', 'u32', sums.workgroups],
    ['smoothing', 'f32', o.smooth],
    ['alpha', 'f32', o.alpha],
    ['fault_records', 'u32', sums.workgroups],
  ];
}

/**
 * Whether clDice runs on tiles: GPU plans, where the device lets a stage bind the tiled
 * backward's storage buffers (12; a browser device created without raising
 * maxStorageBuffersPerShaderStage has 8 and gets the elementwise steps, bitwise the same).
 */
function tiledPlan(profile: GridProfile): boolean {
  const needed = STORAGE_BUFFERS_BEYOND_DEFAULT.cldice_level_backward!;
  return !profile.software && (profile.maxStorageBuffersPerStage ?? needed) >= needed;
}

/** The planned clDice loss: its program, with the grids the passes were cut from. */
export function planClDiceProgram(o: NormalizedClDiceOptions, profile: GridProfile): LossProgram<ClDiceGrids> {
  const sums = elementwiseVolumes(o, profile);
  const tiles = tiledPlan(profile) ? { foreground: tileGrid(o, profile, 1), all: tileGrid(o, profile, 0) } : undefined;
  const levels = tiles ? tiledLevels(o, tiles) : elementwiseLevels(o, sums);
  const K = o.skeletonIterations;
  const { pred, target, targetSkeleton, coefficients } = LOSS_INPUTS;
  const volumes = [
    ...Array.from({ length: K + 1 }, (_, k) => `eroded ${k}`),
    ...Array.from({ length: K + 1 }, (_, k) => `delta ${k}`),
    ...Array.from({ length: K }, (_, k) => `skeleton ${k}`),
    'pred skeleton',
    'targetSkeleton',
    ...levels.scratch,
  ];
  const sumsBlock = { block: 'sums', bytes: packPerWindow(sums.windows, (w) => sumsParamsFields(o, sums, w)) };
  // f16 pred and gradient: widened into and rounded from f32 copies around these passes.
  const program: LossProgram<ClDiceGrids> = {
    label: o.label,
    dims: o.dims,
    grids: { sums, tiles },
    tensors: clDiceTensors(o.elements),
    scratch: [
      ...volumes.map((name) => ({ name, bytes: o.elements * 4 })),
      { name: 'partials', bytes: sums.workgroups * 32 },
      { name: 'coefficients', bytes: 32 },
      { name: 'stats', bytes: 32, readable: true },
      ...statusScratch(sums.workgroups),
    ],
    passes: [
      ...levels.skeleton('target', 'target-skeleton', target, targetSkeleton),
      ...levels.skeleton('pred', 'forward', pred, scratchVolume('pred skeleton')),
      windowedPass('sums', 'cldice_sums', {}, 'forward', sums.windows, sumsBlock, {
        pred,
        target_values: target,
        pred_skeleton: scratchVolume('pred skeleton'),
        target_skeleton: targetSkeleton,
        partials: scratchRef('partials'),
        faults: scratchRef('faults'),
      }),
      finalizePass('cldice_finalize', {}, packUniform(clDiceFinalizeFields(o, sums)), {
        partials: scratchRef('partials'),
        loss: tensorRef('loss', 0, 4),
        stats: scratchRef('stats'),
        coefficients,
      }),
      ...levels.backward(),
    ],
    groups: { 'target-skeleton': { without: 'targetSkeleton' } },
    readback: ['stats'],
    inPlace: [],
  };
  return stageF16(program, o, o.elements, profile);
}

/** pred and target (f32, read), the loss, and the optional grad and target skeleton (given, the target passes are skipped). */
function clDiceTensors(elements: number): TensorSpec[] {
  const volume = (name: TensorName, access: 'read' | 'write', optional: boolean): TensorSpec => ({
    name,
    bytes: elements * 4,
    windowed: true,
    access,
    optional,
    ...(access === 'read' ? { host: { type: 'f32', elements } } : {}),
  });
  return [
    volume('pred', 'read', false),
    volume('target', 'read', false),
    { name: 'loss', bytes: 4, windowed: false, access: 'write', optional: false },
    volume('grad', 'write', true),
    volume('targetSkeleton', 'read', true),
  ];
}
