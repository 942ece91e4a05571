import backwardScalarSource from '../../shaders/dice_backward_scalar.wgsl';
import backwardVec4Source from '../../shaders/dice_backward_vec4.wgsl';
import finalizeSource from '../../shaders/dice_finalize.wgsl';
import reduceScalarSource from '../../shaders/dice_reduce_scalar.wgsl';
import reduceVec4Source from '../../shaders/dice_reduce_vec4.wgsl';
import reduceVec4SubgroupsSource from '../../shaders/dice_reduce_vec4_subgroups.wgsl';
import { foldLanes, type BindingWindow, type DicePlan } from '../program/grids.js';
import { packPerWindow, packUniform, type UniformField } from './uniforms.js';

/**
 * The Dice kernel family as pure descriptions: shader sources by name, and the uniform blocks
 * packed to mirror the WGSL structs. Shapes live in uniforms, never in pipeline keys, so one
 * set of pipelines serves every shape on a device.
 */
export const diceShaders = {
  dice_reduce_vec4: reduceVec4Source,
  dice_reduce_scalar: reduceScalarSource,
  dice_reduce_vec4_f16: withF16Pred(reduceVec4Source, 'vec4<f32>'),
  dice_reduce_vec4_subgroups: reduceVec4SubgroupsSource,
  dice_reduce_vec4_subgroups_f16: withF16Pred(reduceVec4SubgroupsSource, 'vec4<f32>'),
  dice_reduce_scalar_f16: withF16Pred(reduceScalarSource, 'f32'),
  dice_finalize: finalizeSource,
  dice_backward_vec4: backwardVec4Source,
  dice_backward_scalar: backwardScalarSource,
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

/**
 * The reduce kernel for a plan. `subgroupSize` is the device's smallest subgroup when the
 * subgroup variant may be used: it needs vec4 rows whose columns per workgroup are a power
 * of two that fits in one subgroup.
 */
export function reduceShaderFor(plan: DicePlan, predType: 'f32' | 'f16', subgroupSize?: number): DiceShaderName {
  const { vecWidth, colsPerGroup } = plan.reduce;
  const subgroups =
    vecWidth === 4 && subgroupSize !== undefined && (colsPerGroup & (colsPerGroup - 1)) === 0 && colsPerGroup <= subgroupSize;
  const base = vecWidth === 4 ? (subgroups ? 'dice_reduce_vec4_subgroups' : 'dice_reduce_vec4') : 'dice_reduce_scalar';
  return predType === 'f16' ? `${base}_f16` : base;
}

export function backwardShaderFor(plan: DicePlan): DiceShaderName {
  return plan.backward.vecWidth === 4 ? 'dice_backward_vec4' : 'dice_backward_scalar';
}

/** Workgroup fault records the reduce pass writes: one per (slab, chunk, column block). */
export function reduceFaultRecords(plan: DicePlan): number {
  return plan.slabs * plan.reduce.chunks * plan.reduce.colBlocks;
}

/** Mirrors `ReduceParams` in lib/dice_reduce.wgsl, one block per window. */
export function reduceParamsFields(plan: DicePlan, w: BindingWindow): UniformField[] {
  const r = plan.reduce;
  return [
    ['rows', 'u32', r.rows],
    ['cols', 'u32', r.cols],
    ['cols_per_group', 'u32', r.colsPerGroup],
    ['lanes', 'u32', r.lanes],
    ['rows_per_chunk', 'u32', r.rowsPerChunk],
    ['chunks', 'u32', r.chunks],
    ['tree_start', 'u32', r.treeStart],
    ['linear_base', 'u32', w.linearBase],
    ['unit_base', 'u32', w.elementBase / r.vecWidth],
    ['unit_width', 'u32', r.vecWidth],
  ];
}

export function packReduceParams(plan: DicePlan): ArrayBuffer {
  return packPerWindow(plan.reduce.windows, (w) => reduceParamsFields(plan, w));
}

/** Mirrors `FinalizeParams` in dice_finalize.wgsl. */
export function finalizeParamsFields(plan: DicePlan, smoothNumerator: number, smoothDenominator: number, workgroupSize: number): UniformField[] {
  return [
    ['groups', 'u32', plan.slabs * plan.groupsPerSlab],
    ['classes', 'u32', plan.groupsPerSlab],
    ['chunks', 'u32', plan.reduce.chunks],
    ['cols', 'u32', plan.reduce.cols],
    ['vec_width', 'u32', plan.reduce.vecWidth],
    ['periods', 'u32', plan.reduce.periods],
    ['smooth_nr', 'f32', smoothNumerator],
    ['smooth_dr', 'f32', smoothDenominator],
    ['fault_records', 'u32', reduceFaultRecords(plan)],
    ['fold_lanes', 'u32', foldLanes(plan.reduce.chunks, workgroupSize)],
  ];
}

export function packFinalizeParams(plan: DicePlan, smoothNumerator: number, smoothDenominator: number, workgroupSize: number): ArrayBuffer {
  return packUniform(finalizeParamsFields(plan, smoothNumerator, smoothDenominator, workgroupSize));
}

/** Mirrors `BackwardParams` in lib/dice_backward.wgsl, one block per window. */
export function backwardParamsFields(plan: DicePlan, w: BindingWindow): UniformField[] {
  const b = plan.backward;
  return [
    ['units_per_slab', 'u32', b.unitsPerSlab],
    ['classes', 'u32', plan.groupsPerSlab],
    ['units_per_chunk', 'u32', b.unitsPerChunk],
    ['chunks', 'u32', b.chunks],
    ['linear_base', 'u32', w.linearBase],
    ['unit_base', 'u32', w.elementBase / b.vecWidth],
  ];
}

export function packBackwardParams(plan: DicePlan): ArrayBuffer {
  return packPerWindow(plan.backward.windows, (w) => backwardParamsFields(plan, w));
}
