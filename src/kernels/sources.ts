import classBlock from '../../shaders/lib/class_block.wgsl';
import cldiceCommon from '../../shaders/lib/cldice_common.wgsl';
import cldicePool from '../../shaders/lib/cldice_pool.wgsl';
import cldiceTree from '../../shaders/lib/cldice_tree.wgsl';
import diceBackward from '../../shaders/lib/dice_backward.wgsl';
import diceReduce from '../../shaders/lib/dice_reduce.wgsl';
import diceReduceVec4 from '../../shaders/lib/dice_reduce_vec4.wgsl';
import faultFold from '../../shaders/lib/fault_fold.wgsl';
import faults from '../../shaders/lib/faults.wgsl';
import familyGrad from '../../shaders/lib/family_grad.wgsl';
import familyGradQuads from '../../shaders/lib/family_grad_quads.wgsl';
import familyPred from '../../shaders/lib/family_pred.wgsl';
import familyPredQuads from '../../shaders/lib/family_pred_quads.wgsl';
import familyVoxel from '../../shaders/lib/family_voxel.wgsl';
import labels from '../../shaders/lib/labels.wgsl';
import numeric from '../../shaders/lib/numeric.wgsl';
import wasserstein from '../../shaders/lib/wasserstein.wgsl';
import workgroupSum from '../../shaders/lib/workgroup_sum.wgsl';
import { diceShaders, type DiceShaderName } from './dice-kernels.js';
import { clDiceShaders, type ClDiceShaderName } from './cldice-shaders.js';
import { familyLibraryVariants, familyShaders, type FamilyShaderName } from './family-kernels.js';
import type { PipelineConstants } from './family-kernels.js';
import { composeShader, type ComposedShader } from './compose.js';
import scaleBySource from '../../shaders/scale_by.wgsl';

/** Kernels that are not passes of a loss: wgsl-dice/tfjs's dy · coefficients (src/tfjs/scale-by.ts). */
const utilityShaders = { scale_by: scaleBySource } as const;

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
  'lib/labels.wgsl': labels,
  'lib/numeric.wgsl': numeric,
  'lib/wasserstein.wgsl': wasserstein,
  'lib/workgroup_sum.wgsl': workgroupSum,
};

const kernelSources = { ...diceShaders, ...familyShaders, ...clDiceShaders, ...utilityShaders };

/** Every kernel of the library, by name (shaders/NAME.wgsl, or a generated variant of one). */
export type KernelName = DiceShaderName | FamilyShaderName | ClDiceShaderName | keyof typeof utilityShaders;

export const kernelNames = Object.keys(kernelSources) as KernelName[];

const composed = new Map<KernelName, ComposedShader>();

/** The libraries a kernel's includes resolve to: a variant swaps some for others. */
function librariesFor(name: KernelName): Readonly<Record<string, string>> {
  const swaps = (familyLibraryVariants as Partial<Record<KernelName, Readonly<Record<string, string>>>>)[name];
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

/**
 * A pipeline's identity: the kernel and its `override` constants. Never a shape: shapes and
 * scalars live in uniforms, so one pipeline serves every shape of a mode.
 */
export function pipelineKey(name: KernelName, constants: PipelineConstants): string {
  const entries = Object.entries(constants).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${name}${entries.map(([k, v]) => ` ${k}=${v}`).join('')}`;
}
