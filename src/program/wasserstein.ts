import { STATUS_BYTES } from '../core/limits.js';
import { packUniform, type UniformValue } from '../kernels/uniforms.js';
import type { NormalizedWassersteinOptions } from '../spec/wasserstein.js';
import type { BindingWindow } from './grids.js';
import type { DeviceProfile } from './profile.js';
import {
  scratchRef,
  tensorRef,
  uniformPass,
  type BindingRef,
  type LossProgram,
  type PipelineConstants,
} from './program.js';
import {
  packFamilyParams,
  TARGET,
  voxelGrids,
  voxelPass,
  voxelTensors,
  voxelWindow,
  type VoxelGrids,
  type VoxelPassGrid,
} from './voxel.js';

// MONAI's Generalized Wasserstein Dice (engine.wassersteinDice): a voxel-major forward with the
// softmax fused in, on lib/family_voxel.wgsl's grid and uniform block, a one-workgroup finalize
// and an elementwise backward pass.

/** The modes of the Wasserstein passes: lib/family_voxel.wgsl's, on logits and a label map. */
export function wassersteinConstants(o: NormalizedWassersteinOptions): PipelineConstants {
  return { TARGET_KIND: TARGET[o.target], CHANNELS_FIRST: +o.channelsFirst };
}

/** Mirrors `FinalizeParams` in wasserstein_finalize.wgsl. */
export function wassersteinFinalizeFields(
  o: NormalizedWassersteinOptions,
  chunks: number,
  faultRecords: number,
): UniformValue[] {
  return [
    ['batch', 'u32', o.batch],
    ['classes', 'u32', o.classes],
    ['chunks', 'u32', chunks],
    ['weighting', 'u32', o.weighting === 'GDL' ? 1 : 0],
    ['smooth_nr', 'f32', o.smoothNumerator],
    ['smooth_dr', 'f32', o.smoothDenominator],
    ['scale', 'f32', o.reduction === 'mean' ? 1 / o.batch : 1],
    ['fault_records', 'u32', faultRecords],
  ];
}

export function packWassersteinFinalizeParams(
  o: NormalizedWassersteinOptions,
  chunks: number,
  faultRecords: number,
): ArrayBuffer {
  return packUniform(wassersteinFinalizeFields(o, chunks, faultRecords));
}

export function planWassersteinProgram(
  o: NormalizedWassersteinOptions,
  profile: DeviceProfile,
): LossProgram<VoxelGrids> {
  const grids = voxelGrids(o, profile);
  const pairs = o.batch * o.classes;
  const tensors = voxelTensors(o);
  const { forward, backward } = grids;
  const faultRecords = o.batch * forward.chunks * forward.classBlocks;
  const inputs = (w: BindingWindow): Record<string, BindingRef> => ({
    pred: voxelWindow('pred', w, 'elements', o.classes),
    truth: voxelWindow('target', w, o.target, o.classes),
    mask: scratchRef('no mask'),
    distance: scratchRef('distances'),
  });
  const constants = wassersteinConstants(o);
  // The voxel passes share lib/family_voxel.wgsl's uniform block; the family's scalars stay 0.
  const voxelParams = (grid: VoxelPassGrid) => packFamilyParams(o, grid, grid.windows);
  return {
    label: o.label,
    dims: o.dims,
    grids,
    tensors: [tensors.pred, tensors.target, tensors.loss, tensors.grad!],
    scratch: [
      { name: 'distances', bytes: 0, contents: o.distances },
      { name: 'partials', bytes: pairs * forward.chunks * 32 },
      { name: 'faults', bytes: faultRecords * 32 },
      { name: 'class sums', bytes: pairs * 16 },
      { name: 'no mask', bytes: 16 },
      { name: 'status', bytes: STATUS_BYTES, readable: true },
      { name: 'stats', bytes: o.batch * 16, readable: true },
    ],
    passes: [
      voxelPass('forward', 'wasserstein_forward', constants, voxelParams(forward), forward, (w) => ({
        ...inputs(w),
        partials: scratchRef('partials'),
        faults: scratchRef('faults'),
      })),
      uniformPass(
        'finalize',
        'wasserstein_finalize',
        {},
        packWassersteinFinalizeParams(o, forward.chunks, faultRecords),
        [
          {
            block: 0,
            workgroups: [1, 1, 1],
            bindings: {
              partials: scratchRef('partials'),
              class_sums: scratchRef('class sums'),
              stats: scratchRef('stats'),
              loss: tensorRef('loss', 0, 4),
              status: scratchRef('status'),
              faults: scratchRef('faults'),
            },
          },
        ],
      ),
      voxelPass(
        'backward',
        'wasserstein_backward',
        constants,
        voxelParams(backward),
        backward,
        (w) => ({
          ...inputs(w),
          class_sums: scratchRef('class sums'),
          grad: voxelWindow('grad', w, 'elements', o.classes),
        }),
        'backward',
      ),
    ],
    readback: ['stats'],
    inPlace: [],
  };
}
