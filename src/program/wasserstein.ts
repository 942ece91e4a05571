import { STATUS_BYTES } from '../core/limits.js';
import { TARGET_KIND, WASSERSTEIN_WEIGHTING } from '../kernels/modes.js';
import { packPerWindow, packUniform, type UniformValue } from '../kernels/uniforms.js';
import type { NormalizedWassersteinOptions } from '../spec/wasserstein.js';
import { foldLanes } from './grids.js';
import type { DeviceProfile } from './profile.js';
import { finalizePass, scratchRef, tensorRef, type LossProgram, type PipelineConstants } from './program.js';
import {
  planVoxelPasses,
  voxelGridFields,
  voxelTensors,
  type VoxelGrids,
  type VoxelPassGrid,
  type VoxelWindow,
} from './voxel.js';

// MONAI's Generalized Wasserstein Dice (engine.wassersteinDice): a voxel-major forward with the
// softmax fused in, on lib/voxel_grid.wgsl's grid, a one-workgroup finalize and an elementwise
// backward pass.

/** The modes of the Wasserstein voxel passes (lib/wasserstein.wgsl), on logits and a label map. */
export function wassersteinConstants(o: NormalizedWassersteinOptions): PipelineConstants {
  return { TARGET_KIND: TARGET_KIND.values[o.target], CHANNELS_FIRST: +o.channelsFirst };
}

/** Mirrors `WassersteinParams` in lib/wasserstein.wgsl: the grid alone, one block per window. */
export function wassersteinParamsFields(o: NormalizedWassersteinOptions, grid: VoxelPassGrid, w: VoxelWindow) {
  return voxelGridFields(o, grid, w);
}

/** Mirrors `FinalizeParams` in wasserstein_finalize.wgsl. */
export function wassersteinFinalizeFields(
  o: NormalizedWassersteinOptions,
  chunks: number,
  faultRecords: number,
  workgroupSize: number,
): UniformValue[] {
  return [
    ['batch', 'u32', o.batch],
    ['classes', 'u32', o.classes],
    ['chunks', 'u32', chunks],
    ['smooth_nr', 'f32', o.smoothNumerator],
    ['smooth_dr', 'f32', o.smoothDenominator],
    ['scale', 'f32', o.reduction === 'mean' ? 1 / o.batch : 1],
    ['fault_records', 'u32', faultRecords],
    ['fold_lanes', 'u32', foldLanes(chunks, workgroupSize)],
  ];
}

export function packWassersteinFinalizeParams(
  o: NormalizedWassersteinOptions,
  chunks: number,
  faultRecords: number,
  workgroupSize: number,
): ArrayBuffer {
  return packUniform(wassersteinFinalizeFields(o, chunks, faultRecords, workgroupSize));
}

export function planWassersteinProgram(
  o: NormalizedWassersteinOptions,
  profile: DeviceProfile,
): LossProgram<VoxelGrids> {
  // Each class of a forward block keeps (V, W): two sums.
  const voxel = planVoxelPasses(o, profile, 2);
  const { grids, faultRecords } = voxel;
  const pairs = o.batch * o.classes;
  const tensors = voxelTensors(o);
  const { forward, backward } = grids;
  const distance = { distance: scratchRef('distances') };
  const constants = wassersteinConstants(o);
  const voxelParams = (grid: VoxelPassGrid) => packPerWindow(grid.windows, (w) => wassersteinParamsFields(o, grid, w));
  return {
    label: o.label,
    dims: o.dims,
    grids,
    tensors: [tensors.pred, tensors.target, tensors.loss, tensors.grad!],
    scratch: [
      { name: 'distances', bytes: 0, contents: o.distances },
      ...voxel.forwardScratch(1),
      { name: 'class sums', bytes: pairs * 16 },
      { name: 'status', bytes: STATUS_BYTES, readable: true },
      { name: 'stats', bytes: o.batch * 16, readable: true },
    ],
    passes: [
      voxel.forwardPass('wasserstein_forward', constants, voxelParams(forward), () => distance),
      finalizePass(
        'wasserstein_finalize',
        { WEIGHTING: WASSERSTEIN_WEIGHTING.values[o.weighting] },
        packWassersteinFinalizeParams(o, forward.chunks, faultRecords, profile.workgroupSize),
        {
          partials: scratchRef('partials'),
          class_sums: scratchRef('class sums'),
          stats: scratchRef('stats'),
          loss: tensorRef('loss', 0, 4),
        },
      ),
      voxel.backwardPass('wasserstein_backward', constants, voxelParams(backward), () => ({
        ...distance,
        class_sums: scratchRef('class sums'),
      })),
    ],
    readback: ['stats'],
    inPlace: [],
  };
}
