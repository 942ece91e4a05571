// The uniform packers (src/kernels/*-kernels.ts) against the WGSL structs they mirror, read from
// the shaders through src/kernels/wgsl-reflect.ts, so a field added, dropped or moved on one side
// only fails here, not at a submit.
// - Dice packers: every field is checked by its WGSL name against the plan value it stands for.
// - Family and Wasserstein packers: options chosen so every field is non-zero in at least one
//   case; the packer must set exactly the struct's non-pad fields, nothing past the struct, and
//   each word as the struct's scalar type (a small integer written as u32 reads as a denormal
//   f32; a float written as f32 reads as a u32 of 2^24 or more).
import { describe, expect, it } from 'vitest';
import {
  UNIFORM_STRIDE,
  diceShaders,
  packBackwardParams as packDiceBackwardParams,
  packFinalizeParams as packDiceFinalizeParams,
  packReduceParams as packDiceReduceParams,
} from '../../src/kernels/dice-kernels.js';
import {
  familyShaders,
  packBackwardParams,
  packFinalizeParams,
  packReduceParams,
  packVoxelParams,
  packWassersteinBackwardParams,
  packWassersteinFinalizeParams,
  packWassersteinReduceParams,
  type VoxelGrid,
} from '../../src/kernels/family-kernels.js';
import { reflectWgsl, type WgslStructField } from '../../src/kernels/wgsl-reflect.js';
import { normalizeLossOptions, type LossOptions } from '../../src/family/options.js';
import type { NormalizedWassersteinOptions } from '../../src/family/wasserstein.js';
import type { BindingWindow, ColumnGrid, DicePlan } from '../../src/plan.js';

const shaders: Record<string, string> = { ...diceShaders, ...familyShaders };

/** The struct bound as `var<uniform>` in `kernel` (each kernel has one uniform block). */
function uniformStruct(kernel: string): readonly WgslStructField[] {
  const reflection = reflectWgsl(shaders[kernel]);
  const uniforms = reflection.bindings.filter((b) => b.addressSpace === 'uniform');
  expect(uniforms, `${kernel}: one var<uniform>`).toHaveLength(1);
  const fields = reflection.structs.get(uniforms[0].type);
  if (!fields) throw new Error(`${kernel}: struct ${uniforms[0].type} not found`);
  for (const f of fields) expect(['u32', 'f32', 'i32'], `${kernel}: ${f.name} is a 4-byte scalar`).toContain(f.type);
  return fields;
}

/** The uniform blocks of a packed buffer: one per window at UNIFORM_STRIDE, or the whole buffer. */
function blocks(bytes: ArrayBuffer, windows?: readonly BindingWindow[]): DataView[] {
  if (!windows) return [new DataView(bytes)];
  expect(bytes.byteLength).toBe(windows.length * UNIFORM_STRIDE);
  return windows.map((_, i) => new DataView(bytes, i * UNIFORM_STRIDE, UNIFORM_STRIDE));
}

/** A block read field by field with the WGSL types, by name. */
function readStruct(block: DataView, fields: readonly WgslStructField[]): Record<string, number> {
  expect(block.byteLength, 'the block holds the whole struct').toBeGreaterThanOrEqual(fields.length * 4);
  return Object.fromEntries(
    fields.map((f, i) => {
      const at = i * 4;
      const value = f.type === 'f32' ? block.getFloat32(at, true) : f.type === 'i32' ? block.getInt32(at, true) : block.getUint32(at, true);
      return [f.name, value];
    }),
  );
}

function expectNothingPastStruct(block: DataView, fields: readonly WgslStructField[], what: string): void {
  for (let at = fields.length * 4; at < block.byteLength; at += 4) {
    expect(block.getUint32(at, true), `${what}: word ${at / 4} past the struct's ${fields.length} fields`).toBe(0);
  }
}

/** See the header: field count, nothing past the struct, and scalar types, over several cases. */
function expectPackedAsStruct(kernel: string, packedBlocks: readonly DataView[]): void {
  const fields = uniformStruct(kernel);
  const word = (block: DataView, i: number) => block.getUint32(i * 4, true);
  const neverSet = fields.filter((_, i) => packedBlocks.every((b) => word(b, i) === 0)).map((f) => f.name);
  expect(neverSet, `${kernel}: struct fields the packer leaves 0 in every case`).toEqual(
    fields.filter((f) => /^pad\d*$/.test(f.name)).map((f) => f.name),
  );
  for (const block of packedBlocks) {
    expect(block.byteLength, `${kernel}: the block holds the whole struct`).toBeGreaterThanOrEqual(fields.length * 4);
    expectNothingPastStruct(block, fields, kernel);
    fields.forEach((f, i) => {
      const bits = word(block, i);
      if (bits === 0) return;
      if (f.type === 'f32') expect(Math.abs(block.getFloat32(i * 4, true)), `${kernel}: ${f.name} written as f32`).toBeGreaterThan(2 ** -100);
      else expect(bits, `${kernel}: ${f.name} written as an integer`).toBeLessThan(2 ** 24);
    });
  }
}

describe('every runtime shader source', () => {
  it.each(Object.keys(shaders))('%s reflects, with an entry point and its uniform struct', (kernel) => {
    expect(reflectWgsl(shaders[kernel]).entryPoints.length).toBeGreaterThan(0);
    expect(uniformStruct(kernel).length).toBeGreaterThan(0);
  });

  it('kernels that share a packer declare the same uniform struct', () => {
    const reduce = uniformStruct('dice_reduce_vec4');
    for (const k of ['dice_reduce_scalar', 'dice_reduce_vec4_subgroups', 'dice_reduce_vec4_f16', 'dice_reduce_scalar_f16', 'dice_reduce_vec4_subgroups_f16']) {
      expect(uniformStruct(k), k).toEqual(reduce);
    }
    expect(uniformStruct('dice_backward_scalar')).toEqual(uniformStruct('dice_backward_vec4'));
  });
});

describe('Dice packers, field by field', () => {
  // Distinct values, so a field written to its neighbour's slot shows.
  const windows: BindingWindow[] = [
    { linearBase: 0, count: 5, elementBase: 0, elementCount: 2560 },
    { linearBase: 5, count: 3, elementBase: 1280, elementCount: 2816 },
  ];
  const plan: DicePlan = {
    slabs: 3,
    slabElements: 4096,
    groupsPerSlab: 5,
    reduce: {
      rows: 101, cols: 7, colsPerGroup: 6, colBlocks: 2, lanes: 40, treeStart: 32, rowsPerChunk: 23, chunks: 9,
      vecWidth: 4, windows, periods: 3, partialVec4s: 11,
    },
    backward: { vecWidth: 4, windows, unitsPerSlab: 1024, unitsPerChunk: 130, chunks: 8 },
  };

  it('packReduceParams: ReduceParams per window', () => {
    const fields = uniformStruct('dice_reduce_vec4');
    blocks(packDiceReduceParams(plan), windows).forEach((block, i) => {
      expect(readStruct(block, fields)).toEqual({
        rows: 101, cols: 7, cols_per_group: 6, lanes: 40, rows_per_chunk: 23, chunks: 9, tree_start: 32,
        linear_base: windows[i].linearBase, unit_base: windows[i].elementBase / 4, pad0: 0, pad1: 0, pad2: 0,
      });
      expectNothingPastStruct(block, fields, 'ReduceParams');
    });
  });

  it('packFinalizeParams: FinalizeParams', () => {
    const fields = uniformStruct('dice_finalize');
    const [block] = blocks(packDiceFinalizeParams(plan, 0.25, 0.5));
    expect(block.byteLength).toBe(fields.length * 4);
    expect(readStruct(block, fields)).toEqual({
      groups: 15, classes: 5, chunks: 9, cols: 7, vec_width: 4, periods: 3, smooth_nr: 0.25, smooth_dr: 0.5,
    });
  });

  it('packBackwardParams: BackwardParams per window', () => {
    const fields = uniformStruct('dice_backward_vec4');
    blocks(packDiceBackwardParams(plan), windows).forEach((block, i) => {
      expect(readStruct(block, fields)).toEqual({
        units_per_slab: 1024, classes: 5, units_per_chunk: 130, chunks: 8,
        linear_base: windows[i].linearBase, unit_base: windows[i].elementBase / 4, pad0: 0, pad1: 0,
      });
      expectNothingPastStruct(block, fields, 'BackwardParams');
    });
  });
});

describe('family packers: every field set, nothing past the struct, scalar types as declared', () => {
  const grid: ColumnGrid = { rows: 101, cols: 7, colsPerGroup: 6, colBlocks: 2, lanes: 40, treeStart: 32, rowsPerChunk: 23, chunks: 9 };
  const voxelGrid: VoxelGrid = { slabVoxels: 210, chunks: 4, voxelsPerChunk: 53 };
  const windows: BindingWindow[] = [{ linearBase: 3, count: 2, elementBase: 64, elementCount: 100 }];
  const options = (extra: Partial<LossOptions>) => normalizeLossOptions({ shape: [2, 5, 6, 7], layout: 'channels-first', ...extra });

  // Between them these set every flag, kind and coefficient the kernels read.
  const softmaxEverything = options({
    activation: 'softmax', target: 'u8', ignoreIndex: 7, mask: 'weight', squared: true, includeBackground: false,
    crossEntropy: { labelSmoothing: 0.1 }, focal: { useSoftmax: true },
  });
  const maskedLogits = options({ activation: 'sigmoid', mask: 'logits' });
  const pooled = options({
    activation: 'sigmoid', batch: true, groups: 'global', softLabel: true, value: 'negative-log', emptyClass: 'zero',
    crossEntropy: {}, focal: {}, denominatorMin: 1e-8,
  });
  const inverseFrequency = options({ weights: 'inverse-frequency' });
  const cases = [softmaxEverything, maskedLogits, pooled, inverseFrequency];

  it('packVoxelParams: VoxelParams', () => {
    expectPackedAsStruct('family_voxel_stats', cases.flatMap((o) => blocks(packVoxelParams(o, voxelGrid, windows), windows)));
  });

  it('packReduceParams: FamilyParams', () => {
    expectPackedAsStruct('family_reduce', cases.flatMap((o) => blocks(packReduceParams(o, grid, windows), windows)));
  });

  it('packFinalizeParams: FinalizeParams', () => {
    expectPackedAsStruct('family_finalize', cases.flatMap((o) => blocks(packFinalizeParams(o, 9, 10))));
  });

  it('packBackwardParams: BackwardParams', () => {
    expectPackedAsStruct('family_backward', cases.flatMap((o) => blocks(packBackwardParams(o, voxelGrid, windows), windows)));
  });

  const wasserstein = {
    dims: [3, 4, 5, 6], batch: 3, classes: 4, spatial: 30, elements: 360, channelsFirst: true, target: 'u8',
    distances: new Float32Array(16), weighting: 'GDL', reduction: 'mean', smoothNumerator: 0.25, smoothDenominator: 0.5, label: 'w',
  } satisfies NormalizedWassersteinOptions;

  it('packWassersteinReduceParams: WassersteinParams', () => {
    expectPackedAsStruct('wasserstein_reduce', blocks(packWassersteinReduceParams(wasserstein, grid)));
  });

  it('packWassersteinFinalizeParams: FinalizeParams', () => {
    expectPackedAsStruct('wasserstein_finalize', blocks(packWassersteinFinalizeParams(wasserstein, 9)));
  });

  it('packWassersteinBackwardParams: BackwardParams', () => {
    expectPackedAsStruct('wasserstein_backward', blocks(packWassersteinBackwardParams(wasserstein, 53)));
  });
});
