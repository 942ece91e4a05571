import backwardScalarSource from '../../shaders/dice_backward_scalar.wgsl';
import backwardVec4Source from '../../shaders/dice_backward_vec4.wgsl';
import finalizeSource from '../../shaders/dice_finalize.wgsl';
import reduceScalarSource from '../../shaders/dice_reduce_scalar.wgsl';
import reduceVec4Source from '../../shaders/dice_reduce_vec4.wgsl';
import reduceVec4SubgroupsSource from '../../shaders/dice_reduce_vec4_subgroups.wgsl';
import type { BindingWindow, DicePlan } from '../plan.js';

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

/** Uniform blocks of successive binding windows sit this far apart (minUniformBufferOffsetAlignment). */
export const UNIFORM_STRIDE = 256;

/** Mirrors `ReduceParams` in dice_reduce_*.wgsl (12 x u32, padded to 16), one block per window. */
export function packReduceParams(plan: DicePlan): ArrayBuffer {
  const r = plan.reduce;
  return perWindow(r.windows, (w) => [
    r.rows,
    r.cols,
    r.colsPerGroup,
    r.lanes,
    r.rowsPerChunk,
    r.chunks,
    r.treeStart,
    w.linearBase,
    w.elementBase / r.vecWidth,
  ]);
}

function perWindow(windows: readonly BindingWindow[], fields: (w: BindingWindow) => number[]): ArrayBuffer {
  const bytes = new ArrayBuffer(windows.length * UNIFORM_STRIDE);
  windows.forEach((w, i) => new Uint32Array(bytes, i * UNIFORM_STRIDE, fields(w).length).set(fields(w)));
  return bytes;
}

/** Mirrors `FinalizeParams` in dice_finalize.wgsl (6 x u32, 2 x f32). */
export function packFinalizeParams(
  plan: DicePlan,
  smoothNumerator: number,
  smoothDenominator: number,
): ArrayBuffer {
  const bytes = new ArrayBuffer(32);
  const u32 = new Uint32Array(bytes);
  const f32 = new Float32Array(bytes);
  u32[0] = plan.slabs * plan.groupsPerSlab;
  u32[1] = plan.groupsPerSlab;
  u32[2] = plan.reduce.chunks;
  u32[3] = plan.reduce.cols;
  u32[4] = plan.reduce.vecWidth;
  u32[5] = plan.reduce.periods;
  f32[6] = smoothNumerator;
  f32[7] = smoothDenominator;
  return bytes;
}

/** Mirrors `BackwardParams` in dice_backward_*.wgsl (8 x u32), one block per window. */
export function packBackwardParams(plan: DicePlan): ArrayBuffer {
  const b = plan.backward;
  return perWindow(b.windows, (w) => [
    b.unitsPerSlab,
    plan.groupsPerSlab,
    b.unitsPerChunk,
    b.chunks,
    w.linearBase,
    w.elementBase / b.vecWidth,
  ]);
}
