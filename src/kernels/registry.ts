import classBlock from '../../shaders/lib/class_block.wgsl';
import cldiceCommon from '../../shaders/lib/cldice_common.wgsl';
import cldicePool from '../../shaders/lib/cldice_pool.wgsl';
import cldiceTree from '../../shaders/lib/cldice_tree.wgsl';
import diceBackward from '../../shaders/lib/dice_backward.wgsl';
import diceReduce from '../../shaders/lib/dice_reduce.wgsl';
import diceReduceVec4 from '../../shaders/lib/dice_reduce_vec4.wgsl';
import faultFold from '../../shaders/lib/fault_fold.wgsl';
import faults from '../../shaders/lib/faults.wgsl';
import familyVoxel from '../../shaders/lib/family_voxel.wgsl';
import labels from '../../shaders/lib/labels.wgsl';
import numeric from '../../shaders/lib/numeric.wgsl';
import wasserstein from '../../shaders/lib/wasserstein.wgsl';
import workgroupSum from '../../shaders/lib/workgroup_sum.wgsl';
import { diceShaders, type DiceShaderName } from './dice-kernels.js';
import { clDiceShaders, type ClDiceShaderName } from './cldice-shaders.js';
import { familyShaders, type FamilyShaderName } from './family-kernels.js';
import type { PipelineConstants } from './family-kernels.js';
import { composeShader, type ComposedShader } from './wgsl-source.js';

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
  'lib/family_voxel.wgsl': familyVoxel,
  'lib/labels.wgsl': labels,
  'lib/numeric.wgsl': numeric,
  'lib/wasserstein.wgsl': wasserstein,
  'lib/workgroup_sum.wgsl': workgroupSum,
};

const kernelSources = { ...diceShaders, ...familyShaders, ...clDiceShaders };

/** Every kernel of the library, by name (shaders/NAME.wgsl, or a generated variant of one). */
export type KernelName = DiceShaderName | FamilyShaderName | ClDiceShaderName;

export const kernelNames = Object.keys(kernelSources) as KernelName[];

const composed = new Map<KernelName, ComposedShader>();

/** A kernel's source with its includes expanded (composed once per process). */
export function kernelSource(name: KernelName): ComposedShader {
  let shader = composed.get(name);
  if (!shader) {
    shader = composeShader(`${name}.wgsl`, kernelSources[name], shaderLibraries);
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
