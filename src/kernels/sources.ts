import cldiceDilateBackward from '../../shaders/cldice_dilate_backward.wgsl';
import cldiceDilateChoice from '../../shaders/cldice_dilate_choice.wgsl';
import cldiceErode from '../../shaders/cldice_erode.wgsl';
import cldiceErodeBackward from '../../shaders/cldice_erode_backward.wgsl';
import cldiceFinalize from '../../shaders/cldice_finalize.wgsl';
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
import classBlock from '../../shaders/lib/class_block.wgsl';
import cldiceCommon from '../../shaders/lib/cldice_common.wgsl';
import cldicePool from '../../shaders/lib/cldice_pool.wgsl';
import cldiceTree from '../../shaders/lib/cldice_tree.wgsl';
import diceBackward from '../../shaders/lib/dice_backward.wgsl';
import diceReduce from '../../shaders/lib/dice_reduce.wgsl';
import diceReduceVec4 from '../../shaders/lib/dice_reduce_vec4.wgsl';
import familyGrad from '../../shaders/lib/family_grad.wgsl';
import familyGradQuads from '../../shaders/lib/family_grad_quads.wgsl';
import familyPred from '../../shaders/lib/family_pred.wgsl';
import familyPredQuads from '../../shaders/lib/family_pred_quads.wgsl';
import familyVoxel from '../../shaders/lib/family_voxel.wgsl';
import faultFold from '../../shaders/lib/fault_fold.wgsl';
import faults from '../../shaders/lib/faults.wgsl';
import labels from '../../shaders/lib/labels.wgsl';
import numeric from '../../shaders/lib/numeric.wgsl';
import wasserstein from '../../shaders/lib/wasserstein.wgsl';
import workgroupFaults from '../../shaders/lib/workgroup_faults.wgsl';
import workgroupSum from '../../shaders/lib/workgroup_sum.wgsl';
import scaleBy from '../../shaders/scale_by.wgsl';
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
import fieldLoss from '../../shaders/lib/field_loss.wgsl';
import surfaceBox from '../../shaders/lib/surface_box.wgsl';
import surfaceFaults from '../../shaders/lib/surface_faults.wgsl';
import surfaceGrid from '../../shaders/lib/surface_grid.wgsl';
import surfaceMasks from '../../shaders/lib/surface_masks.wgsl';
import surfaceSelectLib from '../../shaders/lib/surface_select.wgsl';
import { composeShader, type ComposedShader } from './compose.js';

/**
 * Every kernel's WGSL source by name (shaders/NAME.wgsl, or a variant of one), the shared
 * libraries its `// #include`s name, and the one composition step. Nothing here knows an option
 * or a loss: which kernel, modes and uniforms a loss runs is src/program/'s business.
 */

/** The seed losses' kernels: column reductions (vec4, scalar, subgroups; f32 or f16 pred), finalize, backward. */
const diceShaders = {
  dice_reduce_vec4: diceReduceVec4Kernel,
  dice_reduce_scalar: diceReduceScalar,
  dice_reduce_vec4_f16: withF16Pred(diceReduceVec4Kernel, 'vec4<f32>'),
  dice_reduce_vec4_subgroups: diceReduceVec4Subgroups,
  dice_reduce_vec4_subgroups_f16: withF16Pred(diceReduceVec4Subgroups, 'vec4<f32>'),
  dice_reduce_scalar_f16: withF16Pred(diceReduceScalar, 'f32'),
  dice_finalize: diceFinalize,
  dice_backward_vec4: diceBackwardVec4,
  dice_backward_scalar: diceBackwardScalar,
} as const;

export type DiceShaderName = keyof typeof diceShaders;

/**
 * The f16-prediction variant of a reduce kernel: WGSL forces this one text change (`enable
 * f16;` and the binding's element type); the kernel already widens every load to f32, so sums
 * are accumulated in f32 and cannot overflow f16's 65504.
 */
function withF16Pred(source: string, elementType: 'vec4<f32>' | 'f32'): string {
  const declaration = `var<storage, read> pred: array<${elementType}>;`;
  if (!source.includes(declaration)) throw new Error(`f16 variant: no "${declaration}" in the reduce kernel`);
  return `enable f16;\n${source.replace(declaration, declaration.replace(elementType, elementType.replace('f32', 'f16')))}`;
}

/** The loss family's voxel-major kernels, and the Generalized Wasserstein Dice set. */
const familyShaders = {
  family_forward: familyForward,
  family_forward_quads: familyForward,
  family_finalize: familyFinalize,
  family_backward: familyBackward,
  family_backward_quads: familyBackward,
  wasserstein_forward: wassersteinForward,
  wasserstein_finalize: wassersteinFinalize,
  wasserstein_backward: wassersteinBackward,
} as const;

export type FamilyShaderName = keyof typeof familyShaders;

/**
 * Kernels composed with other libraries in place of some includes: the `_quads` voxel passes
 * read pred and write grad as vec4s (shaders/lib/family_pred.wgsl says where they apply).
 */
const QUADS = {
  'lib/family_pred.wgsl': 'lib/family_pred_quads.wgsl',
  'lib/family_grad.wgsl': 'lib/family_grad_quads.wgsl',
};
const libraryVariants: Partial<Record<FamilyShaderName, Readonly<Record<string, string>>>> = {
  family_forward_quads: QUADS,
  family_backward_quads: QUADS,
};

/** The clDice kernels (their modes: src/program/cldice.ts). */
const clDiceShaders = {
  cldice_erode: cldiceErode,
  cldice_skeleton: cldiceSkeleton,
  cldice_sums: cldiceSums,
  cldice_finalize: cldiceFinalize,
  cldice_skeleton_backward: cldiceSkeletonBackward,
  cldice_dilate_choice: cldiceDilateChoice,
  cldice_dilate_backward: cldiceDilateBackward,
  cldice_erode_backward: cldiceErodeBackward,
} as const;

export type ClDiceShaderName = keyof typeof clDiceShaders;

/**
 * The distance transform, the surface metrics and the distance-field losses (their programs:
 * src/program/surface-*.ts): every pass runs over pairs (sample, class), in boxes.
 */
const surfaceShaders = {
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
} as const;

export type SurfaceShaderName = keyof typeof surfaceShaders;

/** Kernels that are not passes of a loss: wgsl-dice/tfjs's dy · coefficients (src/tfjs/scale-by.ts). */
const utilityShaders = { scale_by: scaleBy } as const;

/** The shared WGSL helpers, by the path a kernel's `// #include "..."` names. */
export const shaderLibraries: Readonly<Record<string, string>> = {
  'lib/class_block.wgsl': classBlock,
  'lib/cldice_common.wgsl': cldiceCommon,
  'lib/cldice_pool.wgsl': cldicePool,
  'lib/cldice_tree.wgsl': cldiceTree,
  'lib/dice_backward.wgsl': diceBackward,
  'lib/dice_reduce.wgsl': diceReduce,
  'lib/dice_reduce_vec4.wgsl': diceReduceVec4,
  'lib/fault_fold.wgsl': faultFold,
  'lib/faults.wgsl': faults,
  'lib/family_grad.wgsl': familyGrad,
  'lib/family_grad_quads.wgsl': familyGradQuads,
  'lib/family_pred.wgsl': familyPred,
  'lib/family_pred_quads.wgsl': familyPredQuads,
  'lib/family_voxel.wgsl': familyVoxel,
  'lib/field_loss.wgsl': fieldLoss,
  'lib/labels.wgsl': labels,
  'lib/numeric.wgsl': numeric,
  'lib/surface_box.wgsl': surfaceBox,
  'lib/surface_faults.wgsl': surfaceFaults,
  'lib/surface_grid.wgsl': surfaceGrid,
  'lib/surface_masks.wgsl': surfaceMasks,
  'lib/surface_select.wgsl': surfaceSelectLib,
  'lib/wasserstein.wgsl': wasserstein,
  'lib/workgroup_faults.wgsl': workgroupFaults,
  'lib/workgroup_sum.wgsl': workgroupSum,
};

const kernelSources = { ...diceShaders, ...familyShaders, ...clDiceShaders, ...surfaceShaders, ...utilityShaders };

/** Every kernel of the library, by name (shaders/NAME.wgsl, or a generated variant of one). */
export type KernelName =
  DiceShaderName | FamilyShaderName | ClDiceShaderName | SurfaceShaderName | keyof typeof utilityShaders;

export const kernelNames = Object.keys(kernelSources) as KernelName[];

const composed = new Map<KernelName, ComposedShader>();

/** The libraries a kernel's includes resolve to: a variant swaps some for others. */
function librariesFor(name: KernelName): Readonly<Record<string, string>> {
  const swaps = (libraryVariants as Partial<Record<KernelName, Readonly<Record<string, string>>>>)[name];
  if (!swaps) return shaderLibraries;
  const libraries = { ...shaderLibraries };
  for (const [include, replacement] of Object.entries(swaps)) libraries[include] = shaderLibraries[replacement];
  return libraries;
}

/** A kernel's source with its includes expanded (composed once per process). */
export function kernelSource(name: KernelName): ComposedShader {
  let shader = composed.get(name);
  if (!shader) {
    shader = composeShader(`${name}.wgsl`, kernelSources[name], librariesFor(name));
    composed.set(name, shader);
  }
  return shader;
}
