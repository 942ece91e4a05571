import cldiceDilateBackward from '../../shaders/cldice_dilate_backward.wgsl';
import cldiceDilateChoice from '../../shaders/cldice_dilate_choice.wgsl';
import cldiceErode from '../../shaders/cldice_erode.wgsl';
import cldiceErodeBackward from '../../shaders/cldice_erode_backward.wgsl';
import cldiceFinalize from '../../shaders/cldice_finalize.wgsl';
import cldiceLevel from '../../shaders/cldice_level.wgsl';
import cldiceLevelBackward from '../../shaders/cldice_level_backward.wgsl';
import cldiceSkeleton from '../../shaders/cldice_skeleton.wgsl';
import cldiceSkeletonBackward from '../../shaders/cldice_skeleton_backward.wgsl';
import cldiceSums from '../../shaders/cldice_sums.wgsl';
import diceBackwardScalar from '../../shaders/dice_backward_scalar.wgsl';
import diceBackwardVec4 from '../../shaders/dice_backward_vec4.wgsl';
import diceFinalize from '../../shaders/dice_finalize.wgsl';
import diceReduceScalar from '../../shaders/dice_reduce_scalar.wgsl';
import diceReduceVec4Kernel from '../../shaders/dice_reduce_vec4.wgsl';
import diceReduceVec4Subgroups from '../../shaders/dice_reduce_vec4_subgroups.wgsl';
import familyBackward from '../../shaders/family_backward.wgsl';
import familyFinalize from '../../shaders/family_finalize.wgsl';
import familyForward from '../../shaders/family_forward.wgsl';
import blockSum from '../../shaders/lib/block_sum.wgsl';
import blockSumSubgroups from '../../shaders/lib/block_sum_subgroups.wgsl';
import classBlock from '../../shaders/lib/class_block.wgsl';
import cldiceCommon from '../../shaders/lib/cldice_common.wgsl';
import cldiceErodeGather from '../../shaders/lib/cldice_erode_gather.wgsl';
import cldiceForeground from '../../shaders/lib/cldice_foreground.wgsl';
import cldicePool from '../../shaders/lib/cldice_pool.wgsl';
import cldicePooling from '../../shaders/lib/cldice_pooling.wgsl';
import cldiceSkeletonStep from '../../shaders/lib/cldice_skeleton_step.wgsl';
import cldiceTile from '../../shaders/lib/cldice_tile.wgsl';
import cldiceTileRun from '../../shaders/lib/cldice_tile_run.wgsl';
import cldiceTree from '../../shaders/lib/cldice_tree.wgsl';
import cldiceWindow from '../../shaders/lib/cldice_window.wgsl';
import diceBackward from '../../shaders/lib/dice_backward.wgsl';
import diceReduce from '../../shaders/lib/dice_reduce.wgsl';
import diceReduceVec4 from '../../shaders/lib/dice_reduce_vec4.wgsl';
import dicePredScalar from '../../shaders/lib/dice_pred_scalar.wgsl';
import dicePredScalarF16 from '../../shaders/lib/dice_pred_scalar_f16.wgsl';
import dicePredVec4 from '../../shaders/lib/dice_pred_vec4.wgsl';
import dicePredVec4F16 from '../../shaders/lib/dice_pred_vec4_f16.wgsl';
import f16Rounding from '../../shaders/lib/f16_rounding.wgsl';
import f16Convert from '../../shaders/lib/f16_convert.wgsl';
import familyModes from '../../shaders/lib/family_modes.wgsl';
import familyVoxel from '../../shaders/lib/family_voxel.wgsl';
import faultFold from '../../shaders/lib/fault_fold.wgsl';
import faults from '../../shaders/lib/faults.wgsl';
import labels from '../../shaders/lib/labels.wgsl';
import numeric from '../../shaders/lib/numeric.wgsl';
import runs from '../../shaders/lib/runs.wgsl';
import voxelGrad from '../../shaders/lib/voxel_grad.wgsl';
import voxelGradF16 from '../../shaders/lib/voxel_grad_f16.wgsl';
import voxelGradQuads from '../../shaders/lib/voxel_grad_quads.wgsl';
import voxelGradQuadsF16 from '../../shaders/lib/voxel_grad_quads_f16.wgsl';
import voxelGrid from '../../shaders/lib/voxel_grid.wgsl';
import voxelPred from '../../shaders/lib/voxel_pred.wgsl';
import voxelPredF16 from '../../shaders/lib/voxel_pred_f16.wgsl';
import voxelPredQuads from '../../shaders/lib/voxel_pred_quads.wgsl';
import voxelPredQuadsF16 from '../../shaders/lib/voxel_pred_quads_f16.wgsl';
import wasserstein from '../../shaders/lib/wasserstein.wgsl';
import workgroupFaults from '../../shaders/lib/workgroup_faults.wgsl';
import workgroupSum from '../../shaders/lib/workgroup_sum.wgsl';
import scaleBy from '../../shaders/scale_by.wgsl';
import f16Widen from '../../shaders/f16_widen.wgsl';
import f16Narrow from '../../shaders/f16_narrow.wgsl';
import wassersteinBackward from '../../shaders/wasserstein_backward.wgsl';
import wassersteinFinalize from '../../shaders/wasserstein_finalize.wgsl';
import wassersteinForward from '../../shaders/wasserstein_forward.wgsl';
import distanceEnvelope from '../../shaders/distance_envelope.wgsl';
import distanceFinish from '../../shaders/distance_finish.wgsl';
import distanceFirst from '../../shaders/distance_first.wgsl';
import distanceFirstTiles from '../../shaders/distance_first_tiles.wgsl';
import fieldBackward from '../../shaders/field_backward.wgsl';
import fieldFinalize from '../../shaders/field_finalize.wgsl';
import fieldForward from '../../shaders/field_forward.wgsl';
import surfaceBounds from '../../shaders/surface_bounds.wgsl';
import surfaceClear from '../../shaders/surface_clear.wgsl';
import surfaceEdges from '../../shaders/surface_edges.wgsl';
import surfaceFeatures from '../../shaders/surface_features.wgsl';
import surfaceFinalize from '../../shaders/surface_finalize.wgsl';
import surfaceGather from '../../shaders/surface_gather.wgsl';
import surfaceHistogram from '../../shaders/surface_histogram.wgsl';
import surfaceSelect from '../../shaders/surface_select.wgsl';
import distanceRows from '../../shaders/lib/distance_rows.wgsl';
import fieldLoss from '../../shaders/lib/field_loss.wgsl';
import surfaceBox from '../../shaders/lib/surface_box.wgsl';
import surfaceFaults from '../../shaders/lib/surface_faults.wgsl';
import surfaceGrid from '../../shaders/lib/surface_grid.wgsl';
import surfaceMasks from '../../shaders/lib/surface_masks.wgsl';
import surfaceSelectLib from '../../shaders/lib/surface_select.wgsl';
import { composeShader, type ComposedShader, type IncludedLibrary } from './compose.js';

/**
 * Every kernel's WGSL source by name (shaders/NAME.wgsl, or a variant of one), the shared
 * libraries its `// #include`s name, and the one composition step. Nothing here knows an option
 * or a loss: which kernel, modes and uniforms a loss runs is src/program/'s business.
 *
 * Kernels vary in two ways only: modes are `override` constants (set per pipeline), and a
 * binding's element type, which WGSL cannot make an override, is library substitution: a variant
 * is its kernel composed with other libraries in place of some includes (the `_quads` kernels
 * read pred as vec4s, the `_f16` ones as f16, `_f16grad` write an f16 gradient, `_subgroups` sum
 * over the workgroup with subgroup operations). A library that
 * needs a WGSL extension enables it itself (see ./compose.ts).
 */

/** A way kernels vary: the suffix it adds to a kernel's name, and the libraries it swaps in. */
interface VariantAxis {
  readonly suffix: string;
  /** Include path -> the path composed in its place (applied after the axes before it). */
  readonly swaps: Readonly<Record<string, string>>;
}

/** pred and grad as vec4s (shaders/lib/voxel_pred.wgsl says where they apply). */
const QUADS: VariantAxis = {
  suffix: '_quads',
  swaps: { 'lib/voxel_pred.wgsl': 'lib/voxel_pred_quads.wgsl', 'lib/voxel_grad.wgsl': 'lib/voxel_grad_quads.wgsl' },
};
/** pred as f16 (predType 'f16'), widened to f32 as it is read. */
const F16_PRED: VariantAxis = {
  suffix: '_f16',
  swaps: {
    'lib/voxel_pred.wgsl': 'lib/voxel_pred_f16.wgsl',
    'lib/voxel_pred_quads.wgsl': 'lib/voxel_pred_quads_f16.wgsl',
    'lib/dice_pred_vec4.wgsl': 'lib/dice_pred_vec4_f16.wgsl',
    'lib/dice_pred_scalar.wgsl': 'lib/dice_pred_scalar_f16.wgsl',
  },
};
/** grad as f16 (gradType 'f16'), rounded as it is stored. */
const F16_GRAD: VariantAxis = {
  suffix: '_f16grad',
  swaps: {
    'lib/voxel_grad.wgsl': 'lib/voxel_grad_f16.wgsl',
    'lib/voxel_grad_quads.wgsl': 'lib/voxel_grad_quads_f16.wgsl',
  },
};

/** Per-class sums over a workgroup with subgroup operations (the adapter's `subgroups` feature). */
const SUBGROUPS: VariantAxis = {
  suffix: '_subgroups',
  swaps: { 'lib/block_sum.wgsl': 'lib/block_sum_subgroups.wgsl' },
};

/** The kernel files in shaders/, by name. */
const kernelFiles = {
  dice_reduce_vec4: diceReduceVec4Kernel,
  dice_reduce_scalar: diceReduceScalar,
  dice_reduce_vec4_subgroups: diceReduceVec4Subgroups,
  dice_finalize: diceFinalize,
  dice_backward_vec4: diceBackwardVec4,
  dice_backward_scalar: diceBackwardScalar,
  family_forward: familyForward,
  family_finalize: familyFinalize,
  family_backward: familyBackward,
  wasserstein_forward: wassersteinForward,
  wasserstein_finalize: wassersteinFinalize,
  wasserstein_backward: wassersteinBackward,
  // clDice (modes: src/program/cldice.ts): the tiled level passes GPU plans run, the elementwise
  // steps software plans run (no workgroup barrier), and the sums and finalize.
  cldice_level: cldiceLevel,
  cldice_level_backward: cldiceLevelBackward,
  cldice_erode: cldiceErode,
  cldice_skeleton: cldiceSkeleton,
  cldice_skeleton_backward: cldiceSkeletonBackward,
  cldice_dilate_choice: cldiceDilateChoice,
  cldice_dilate_backward: cldiceDilateBackward,
  cldice_erode_backward: cldiceErodeBackward,
  cldice_sums: cldiceSums,
  cldice_finalize: cldiceFinalize,
  // Distance transforms, surface metrics and distance-field losses (src/program/surface-*.ts):
  // every pass runs over pairs (sample, class), in boxes.
  surface_clear: surfaceClear,
  surface_features: surfaceFeatures,
  surface_bounds: surfaceBounds,
  surface_edges: surfaceEdges,
  distance_first: distanceFirst,
  distance_first_tiles: distanceFirstTiles,
  distance_envelope: distanceEnvelope,
  distance_finish: distanceFinish,
  surface_gather: surfaceGather,
  surface_histogram: surfaceHistogram,
  surface_select: surfaceSelect,
  surface_finalize: surfaceFinalize,
  field_forward: fieldForward,
  field_finalize: fieldFinalize,
  field_backward: fieldBackward,
  // f16 tensors to and from the f32 volumes of losses that read and write f32 throughout (clDice).
  f16_widen: f16Widen,
  f16_narrow: f16Narrow,
  // Not a pass of a loss: wgsl-dice/tfjs's dy · coefficients (src/tfjs/scale-by.ts).
  scale_by: scaleBy,
} as const;

type KernelFile = keyof typeof kernelFiles;

/** The classic Dice losses' reduce kernels read pred as f32 or f16. */
type DiceReduce = 'dice_reduce_vec4' | 'dice_reduce_scalar' | 'dice_reduce_vec4_subgroups';
export type DiceShaderName =
  DiceReduce | `${DiceReduce}_f16` | 'dice_finalize' | 'dice_backward_vec4' | 'dice_backward_scalar';

/** The voxel-major passes of the loss family and Generalized Wasserstein Dice, and their variants. */
type VoxelForward = 'family_forward' | 'wasserstein_forward';
type VoxelBackward = 'family_backward' | 'wasserstein_backward';
type Quads = '' | '_quads';
type F16 = '' | '_f16';
export type FamilyShaderName =
  | `${VoxelForward}${Quads}${F16}${'' | '_subgroups'}`
  | `${VoxelBackward}${Quads}${F16}${'' | '_f16grad'}`
  | 'family_finalize'
  | 'wasserstein_finalize';

export type ClDiceShaderName = Extract<KernelFile, `cldice_${string}`>;
export type SurfaceShaderName = Extract<KernelFile, `${'surface' | 'distance' | 'field'}_${string}`>;

/** Every kernel of the library, by name (shaders/NAME.wgsl, or a variant of one). */
export type KernelName =
  DiceShaderName | FamilyShaderName | ClDiceShaderName | SurfaceShaderName | 'f16_widen' | 'f16_narrow' | 'scale_by';

/** Every variant: its name, its kernel file and its axes, in suffix order. */
function variants(): Map<KernelName, { file: KernelFile; axes: readonly VariantAxis[] }> {
  const all = new Map<KernelName, { file: KernelFile; axes: readonly VariantAxis[] }>();
  const add = (file: KernelFile, axes: readonly VariantAxis[]) =>
    all.set(`${file}${axes.map((a) => a.suffix).join('')}` as KernelName, { file, axes });
  for (const file of Object.keys(kernelFiles) as KernelFile[]) add(file, []);
  for (const file of ['dice_reduce_vec4', 'dice_reduce_scalar', 'dice_reduce_vec4_subgroups'] as const) {
    add(file, [F16_PRED]);
  }
  for (const file of ['family_forward', 'wasserstein_forward', 'family_backward', 'wasserstein_backward'] as const) {
    // The forward passes sum over the workgroup (subgroups or not), the backward ones write grad.
    const tails = file.endsWith('_backward') ? [[], [F16_GRAD]] : [[], [SUBGROUPS]];
    for (const quads of [[], [QUADS]])
      for (const pred of [[], [F16_PRED]])
        for (const tail of tails)
          if (quads.length + pred.length + tail.length > 0) add(file, [...quads, ...pred, ...tail]);
  }
  return all;
}

const kernelVariants = variants();

/** The shared WGSL helpers, by the path a kernel's `// #include "..."` names. */
export const shaderLibraries: Readonly<Record<string, string>> = {
  'lib/block_sum.wgsl': blockSum,
  'lib/block_sum_subgroups.wgsl': blockSumSubgroups,
  'lib/class_block.wgsl': classBlock,
  'lib/cldice_common.wgsl': cldiceCommon,
  'lib/cldice_erode_gather.wgsl': cldiceErodeGather,
  'lib/cldice_foreground.wgsl': cldiceForeground,
  'lib/cldice_pool.wgsl': cldicePool,
  'lib/cldice_pooling.wgsl': cldicePooling,
  'lib/cldice_skeleton_step.wgsl': cldiceSkeletonStep,
  'lib/cldice_tile.wgsl': cldiceTile,
  'lib/cldice_tile_run.wgsl': cldiceTileRun,
  'lib/cldice_tree.wgsl': cldiceTree,
  'lib/cldice_window.wgsl': cldiceWindow,
  'lib/dice_backward.wgsl': diceBackward,
  'lib/dice_pred_scalar.wgsl': dicePredScalar,
  'lib/dice_pred_scalar_f16.wgsl': dicePredScalarF16,
  'lib/dice_pred_vec4.wgsl': dicePredVec4,
  'lib/dice_pred_vec4_f16.wgsl': dicePredVec4F16,
  'lib/dice_reduce.wgsl': diceReduce,
  'lib/dice_reduce_vec4.wgsl': diceReduceVec4,
  'lib/distance_rows.wgsl': distanceRows,
  'lib/f16_rounding.wgsl': f16Rounding,
  'lib/f16_convert.wgsl': f16Convert,
  'lib/fault_fold.wgsl': faultFold,
  'lib/faults.wgsl': faults,
  'lib/family_modes.wgsl': familyModes,
  'lib/family_voxel.wgsl': familyVoxel,
  'lib/field_loss.wgsl': fieldLoss,
  'lib/labels.wgsl': labels,
  'lib/numeric.wgsl': numeric,
  'lib/runs.wgsl': runs,
  'lib/surface_box.wgsl': surfaceBox,
  'lib/surface_faults.wgsl': surfaceFaults,
  'lib/surface_grid.wgsl': surfaceGrid,
  'lib/surface_masks.wgsl': surfaceMasks,
  'lib/surface_select.wgsl': surfaceSelectLib,
  'lib/voxel_grad.wgsl': voxelGrad,
  'lib/voxel_grad_f16.wgsl': voxelGradF16,
  'lib/voxel_grad_quads.wgsl': voxelGradQuads,
  'lib/voxel_grad_quads_f16.wgsl': voxelGradQuadsF16,
  'lib/voxel_grid.wgsl': voxelGrid,
  'lib/voxel_pred.wgsl': voxelPred,
  'lib/voxel_pred_f16.wgsl': voxelPredF16,
  'lib/voxel_pred_quads.wgsl': voxelPredQuads,
  'lib/voxel_pred_quads_f16.wgsl': voxelPredQuadsF16,
  'lib/wasserstein.wgsl': wasserstein,
  'lib/workgroup_faults.wgsl': workgroupFaults,
  'lib/workgroup_sum.wgsl': workgroupSum,
};

/**
 * Kernels that bind more storage buffers than WebGPU's default of 8 a stage, and how many. A
 * planner chooses one only where the device allows it ({@link GridProfile}'s
 * maxStorageBuffersPerStage); browsers give 8 unless the app asked for more.
 */
export const STORAGE_BUFFERS_BEYOND_DEFAULT: Readonly<Partial<Record<KernelName, number>>> = {
  cldice_level_backward: 12,
};

/** Every kernel of the library, by name. */
export const kernelNames: readonly KernelName[] = [...kernelVariants.keys()];

const composed = new Map<KernelName, ComposedShader>();

/** The libraries a variant's includes resolve to: each axis swaps some for others, in order. */
function librariesFor(axes: readonly VariantAxis[]): Readonly<Record<string, IncludedLibrary>> {
  if (axes.length === 0) return shaderLibraries;
  const libraries: Record<string, IncludedLibrary> = {};
  for (const include of Object.keys(shaderLibraries)) {
    let path = include;
    for (const axis of axes) path = axis.swaps[path] ?? path;
    libraries[include] = path === include ? shaderLibraries[path] : { file: path, source: shaderLibraries[path] };
  }
  return libraries;
}

/** A kernel's source with its includes expanded (composed once per process). */
export function kernelSource(name: KernelName): ComposedShader {
  let shader = composed.get(name);
  if (!shader) {
    const variant = kernelVariants.get(name);
    if (!variant) throw new Error(`internal error: no kernel named ${name}`);
    shader = composeShader(`${variant.file}.wgsl`, kernelFiles[variant.file], librariesFor(variant.axes));
    composed.set(name, shader);
  }
  return shader;
}
