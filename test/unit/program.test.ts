// The one planner, without a GPU: programs for about twenty specs, checked against the WGSL they
// run (every binding name and override constant the program uses is declared by its kernel, every
// kernel binding is bound, uniform field tables match the structs, every window lies inside its
// tensor) and kept as snapshots of `describe()`, so a change in passes, grids or windows is seen
// in review rather than at a submit.
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/reference/index.js';
import { STATUS_BYTES } from '../../src/core/limits.js';
import { kernelSource, type KernelName } from '../../src/kernels/sources.js';
import {
  checkUniformTable,
  reflectWgsl,
  type UniformField as TableField,
  type WgslReflection,
} from '../../src/kernels/reflect.js';
import { familyFinalizeFields, familyParamsFields } from '../../src/program/family.js';
import { planProgram } from '../../src/program/planner.js';
import type { DeviceProfile, GridProfile } from '../../src/program/profile.js';
import { describeProgram, type LossProgram } from '../../src/program/program.js';
import {
  backwardParamsFields,
  reduceParamsFields,
  seedFinalizeFields,
  type SeedGrids,
} from '../../src/program/seed.js';
import { forwardBlockClasses, voxelGrids, type VoxelGrids } from '../../src/program/voxel.js';
import { wassersteinFinalizeFields, wassersteinParamsFields } from '../../src/program/wasserstein.js';
import { normalizeLossOptions, type LossOptions } from '../../src/spec/family.js';
import type { LossSpec } from '../../src/spec/index.js';
import { normalizeDiceOptions, type DiceLossOptions } from '../../src/spec/seed.js';
import { normalizeWassersteinOptions, type WassersteinDiceOptions } from '../../src/spec/wasserstein.js';
import { normalizeClDiceOptions, type ClDiceOptions } from '../../src/spec/cldice.js';
import { clDiceFinalizeFields, sumsParamsFields, type ClDiceGrids } from '../../src/program/cldice.js';
import { stepParamsFields } from '../../src/program/cldice-steps.js';
import { TILE_CAPACITY, tileParamsFields, tileShape } from '../../src/program/cldice-tiles.js';
import { surfaceParamsFields } from '../../src/program/surface-grid.js';
import { GPU_PROFILE, LAVAPIPE_PROFILE } from '../helpers/profiles.js';
import { surfaceSpecs, SURFACE_KERNELS } from '../helpers/surface-programs.js';

const lavapipe = LAVAPIPE_PROFILE;
const gpu = GPU_PROFILE;
const tinyWindows: GridProfile = { ...lavapipe, maxBindingBytes: 64 * 1024 };

const seed = (o: DiceLossOptions): LossSpec => ({ kind: 'seed', options: normalizeDiceOptions(o) });
const family = (o: LossOptions): LossSpec => ({ kind: 'family', options: normalizeLossOptions(o) });
const wasserstein = (o: WassersteinDiceOptions): LossSpec => ({
  kind: 'wasserstein',
  options: normalizeWassersteinOptions(o),
});
const clDice = (o: Omit<ClDiceOptions, 'formula'>): LossSpec => ({
  kind: 'cldice',
  options: normalizeClDiceOptions({ formula: 'cl-dice', ...o }),
});
const M3 = [
  [0, 1, 1],
  [1, 0, 0.5],
  [1, 0.5, 0],
];

const specs: [string, LossSpec, DeviceProfile][] = [
  ['seed global', seed({ shape: [2, 64, 64, 4], reduce: 'global' }), lavapipe],
  ['seed per-class, GPU', seed({ shape: [2, 512, 512, 8], reduce: 'per-class' }), gpu],
  [
    'seed weighted, odd pixels (scalar kernels)',
    seed({ shape: [3, 7, 9, 3], reduce: 'per-class', weights: [1, 2, 3] }),
    lavapipe,
  ],
  ['seed f16', seed({ shape: [2, 32, 32, 4], predType: 'f16' }), lavapipe],
  ['seed in binding windows', seed({ shape: [2, 128, 128, 4] }), tinyWindows as DeviceProfile],
  ['softmax + u8 labels', family({ shape: [2, 512, 512, 8], activation: 'softmax', target: 'u8' }), lavapipe],
  ['softmax + u8 labels, GPU', family({ shape: [2, 512, 512, 8], activation: 'softmax', target: 'u8' }), gpu],
  [
    'softmax 3D channels-first u8',
    family({ shape: [2, 4, 96, 96, 96], layout: 'channels-first', activation: 'softmax', target: 'u8' }),
    lavapipe,
  ],
  [
    'sigmoid dense channels-first',
    family({ shape: [2, 8, 512, 512], layout: 'channels-first', activation: 'sigmoid' }),
    lavapipe,
  ],
  ['24 classes (two class blocks)', family({ shape: [2, 32, 32, 24], activation: 'softmax', target: 'u16' }), lavapipe],
  [
    'ignoreIndex + weighted CE',
    family({
      shape: [2, 16, 16, 3],
      activation: 'softmax',
      target: 'u8',
      ignoreIndex: 255,
      crossEntropy: { weights: [1, 2, 3] },
    }),
    lavapipe,
  ],
  ['mask on logits per sample', family({ shape: [2, 16, 16, 2], activation: 'sigmoid', mask: 'logits' }), lavapipe],
  [
    'shared weight mask',
    family({ shape: [2, 16, 16, 2], activation: 'sigmoid', mask: 'weight', maskShape: 'shared' } as LossOptions),
    lavapipe,
  ],
  [
    'generalized dice',
    family({ shape: [2, 16, 16, 4], activation: 'softmax', target: 'u32', formula: 'generalized-dice' }),
    lavapipe,
  ],
  ['tversky, squared', family({ shape: [2, 16, 16, 4], formula: 'tversky', squared: true }), lavapipe],
  [
    'softmax focal + CE',
    family({
      shape: [2, 16, 16, 5],
      activation: 'softmax',
      target: 'u8',
      crossEntropy: {},
      focal: { useSoftmax: true, gamma: 2 },
    }),
    lavapipe,
  ],
  [
    'sigmoid focal',
    family({ shape: [2, 16, 16, 3], activation: 'sigmoid', focal: { gamma: 2, alpha: 0.25 } }),
    lavapipe,
  ],
  [
    'peer parity: tanh, absolute soft label, CE on the logits, dense ignore, tpMin',
    family({
      shape: [2, 16, 16, 3],
      activation: 'tanh',
      softLabel: 'absolute',
      crossEntropy: { form: 'softmax' },
      ignoreIndex: -1,
      tpMin: 1e-8,
    }),
    lavapipe,
  ],
  [
    'family in binding windows',
    family({ shape: [2, 64, 64, 4], activation: 'softmax', target: 'u8' }),
    tinyWindows as DeviceProfile,
  ],
  [
    'argmax metric',
    {
      kind: 'family',
      options: normalizeLossOptions(
        { shape: [2, 16, 16, 3], target: 'u8', smoothNumerator: 0, smoothDenominator: 0 },
        { activation: 'argmax', threshold: 0.5 },
      ),
    },
    lavapipe,
  ],
  ['wasserstein', wasserstein({ shape: [2, 16, 16, 3], distanceMatrix: M3, target: 'u8' }), lavapipe],
  [
    'wasserstein in binding windows',
    wasserstein({ shape: [2, 3, 64, 64], layout: 'channels-first', distanceMatrix: M3 }),
    tinyWindows as DeviceProfile,
  ],
  ['cl-dice 2D channels-last', clDice({ shape: [2, 64, 64, 2], skeletonIterations: 2 }), lavapipe],
  ['cl-dice 2D channels-last, GPU', clDice({ shape: [2, 64, 64, 2], skeletonIterations: 2 }), gpu],
  [
    'cl-dice 3D channels-first, GPU',
    clDice({ shape: [1, 3, 16, 32, 32], layout: 'channels-first', skeletonIterations: 1, alpha: 0.5 }),
    gpu,
  ],
  [
    'cl-dice in binding windows',
    clDice({ shape: [4, 2, 64, 64], layout: 'channels-first', skeletonIterations: 1 }),
    tinyWindows as DeviceProfile,
  ],
  [
    'cl-dice f16 pred and grad, in binding windows',
    clDice({
      shape: [4, 2, 64, 64],
      layout: 'channels-first',
      skeletonIterations: 1,
      predType: 'f16',
      gradType: 'f16',
    }),
    tinyWindows as DeviceProfile,
  ],
  ...surfaceSpecs(lavapipe, gpu, tinyWindows as DeviceProfile),
];

const reflections = new Map<KernelName, WgslReflection>();
const reflect = (kernel: KernelName) => {
  if (!reflections.has(kernel)) reflections.set(kernel, reflectWgsl(kernelSource(kernel).code));
  return reflections.get(kernel)!;
};

function uniformStruct(kernel: KernelName) {
  const r = reflect(kernel);
  const uniform = r.bindings.find((b) => b.addressSpace === 'uniform')!;
  return r.structs.get(uniform.type)!;
}

const table = (fields: readonly (readonly [string, string, number])[]): TableField[] =>
  fields.map(([name, kind]) => ({ name, kind: kind as TableField['kind'] }));

describe('programs against their WGSL', () => {
  it.each(specs)('%s', (_name, spec, profile) => {
    const program = planProgram(spec, profile);
    const tensorBytes = new Map(program.tensors.map((t) => [t.name, t.bytes]));
    const scratchBytes = new Map(program.scratch.map((s) => [s.name, s.contents?.byteLength ?? s.bytes]));
    const scratch = new Set(scratchBytes.keys());
    // The status protocol: every program has a status buffer, and some pass writes it.
    expect(scratchBytes.get('status'), 'status scratch').toBe(STATUS_BYTES);
    expect(program.passes.some((p) => p.dispatches.some((d) => 'status' in d.bindings))).toBe(true);
    // Passes that share a uniform block share its bytes.
    const blocks = new Map<string, ArrayBuffer>();
    for (const pass of program.passes) {
      if (pass.uniformBlock === undefined) continue;
      const first = blocks.get(pass.uniformBlock) ?? pass.uniforms;
      blocks.set(pass.uniformBlock, first);
      expect(new Uint8Array(pass.uniforms), `${pass.name} shares ${pass.uniformBlock}`).toEqual(new Uint8Array(first));
    }
    for (const pass of program.passes) {
      const r = reflect(pass.kernel);
      const declared = new Set(r.bindings.map((b) => b.name));
      const overrides = new Set(r.overrides.map((o) => o.name));
      for (const name of Object.keys(pass.constants))
        expect(overrides, `${pass.kernel} declares override ${name}`).toContain(name);
      expect(pass.uniformBytes).toBeGreaterThanOrEqual(uniformStruct(pass.kernel).length * 4);
      for (const d of pass.dispatches) {
        const bound = Object.keys(d.bindings);
        for (const name of bound) expect(declared, `${pass.kernel} declares binding ${name}`).toContain(name);
        for (const b of r.bindings)
          if (b.addressSpace !== 'uniform') expect(bound, `${pass.kernel}: ${b.name} is bound`).toContain(b.name);
        for (const ref of Object.values(d.bindings)) {
          if ('scratch' in ref) {
            expect(scratch.has(ref.scratch) || tensorBytes.has(ref.scratch as never), ref.scratch).toBe(true);
            if (ref.offset !== undefined) {
              expect(ref.offset % 256, `${ref.scratch} window offset`).toBe(0);
              expect(ref.offset + ref.size!, `${ref.scratch} window end`).toBeLessThanOrEqual(
                scratchBytes.get(ref.scratch)!,
              );
            }
            continue;
          }
          expect(ref.offset % 256, `${ref.tensor} window offset`).toBe(0);
          expect(ref.offset + ref.size, `${ref.tensor} window end`).toBeLessThanOrEqual(tensorBytes.get(ref.tensor)!);
          expect(ref.size, `${ref.tensor} window within one binding`).toBeLessThanOrEqual(profile.maxBindingBytes);
        }
      }
    }
    expect(describeProgram(program)).toMatchSnapshot();
  });
});

describe('uniform field tables against the WGSL structs', () => {
  const dice = planProgram(specs[0][1], lavapipe) as LossProgram<SeedGrids>;
  const diceWindow = dice.grids.reduce.windows[0];
  const familySpec = specs[10][1];
  const familyProgram = planProgram(familySpec, lavapipe) as LossProgram<VoxelGrids>;
  const familyOptions = normalizeLossOptions({ shape: [2, 16, 16, 3], activation: 'softmax', target: 'u8' });
  const w = familyProgram.grids.forward.windows[0];
  const cases: [string, KernelName[], TableField[]][] = [
    [
      'dice reduce',
      ['dice_reduce_vec4', 'dice_reduce_scalar', 'dice_reduce_vec4_subgroups', 'dice_reduce_vec4_f16'],
      table(reduceParamsFields(dice.grids, diceWindow)),
    ],
    ['dice finalize', ['dice_finalize'], table(seedFinalizeFields(dice.grids, 1, 1))],
    [
      'dice backward',
      ['dice_backward_vec4', 'dice_backward_scalar'],
      table(backwardParamsFields(dice.grids, dice.grids.backward.windows[0])),
    ],
    [
      'family voxel passes',
      ['family_forward', 'family_backward', 'family_forward_quads_f16', 'family_backward_f16_f16grad'],
      table(familyParamsFields(familyOptions, familyProgram.grids.forward, w)),
    ],
    [
      'wasserstein voxel passes',
      ['wasserstein_forward', 'wasserstein_backward'],
      table(
        wassersteinParamsFields(
          normalizeWassersteinOptions({ shape: [1, 4, 3], distanceMatrix: M3 }),
          familyProgram.grids.forward,
          w,
        ),
      ),
    ],
    ['family finalize', ['family_finalize'], table(familyFinalizeFields(familyOptions, 1, 6, 1, 256))],
    [
      'wasserstein finalize',
      ['wasserstein_finalize'],
      table(
        wassersteinFinalizeFields(normalizeWassersteinOptions({ shape: [1, 4, 3], distanceMatrix: M3 }), 1, 1, 256),
      ),
    ],
  ];
  const surface = planProgram(specs.find(([name]) => name.startsWith('surface metrics'))![1], lavapipe);
  const surfaceGrids = surface.grids as Parameters<typeof surfaceParamsFields>[0];
  cases.push([
    'surface passes',
    [...SURFACE_KERNELS],
    table(surfaceParamsFields(surfaceGrids, { metric: 'euclidean', exact: true, spacing: [] }, {})),
  ]);
  const clDiceSpec = specs.find(([name]) => name === 'cl-dice 2D channels-last')![1];
  const clDiceOptions = normalizeClDiceOptions({ formula: 'cl-dice', shape: [2, 64, 64, 2] });
  const software = (planProgram(clDiceSpec, lavapipe) as LossProgram<ClDiceGrids>).grids;
  const tiles = (planProgram(clDiceSpec, gpu) as LossProgram<ClDiceGrids>).grids.tiles!;
  cases.push(
    [
      'cl-dice tile passes (GPU plans)',
      ['cldice_level', 'cldice_level_backward'],
      table(tileParamsFields(clDiceOptions, tiles.foreground, tiles.foreground.windows[0])),
    ],
    [
      'cl-dice step passes (software plans)',
      [
        'cldice_erode',
        'cldice_skeleton',
        'cldice_skeleton_backward',
        'cldice_dilate_choice',
        'cldice_dilate_backward',
        'cldice_erode_backward',
      ],
      table(stepParamsFields(clDiceOptions, software.sums, software.sums.windows[0])),
    ],
    ['cl-dice sums', ['cldice_sums'], table(sumsParamsFields(clDiceOptions, software.sums, software.sums.windows[0]))],
    ['cl-dice finalize', ['cldice_finalize'], table(clDiceFinalizeFields(clDiceOptions, software.sums))],
  );
  it.each(cases)('%s', (_name, kernels, fields) => {
    for (const kernel of kernels) expect(checkUniformTable(uniformStruct(kernel), fields), kernel).toEqual([]);
  });
});

describe('clDice grids follow the elements, not the number of volumes (issue 21)', () => {
  // 8192 volumes of 4x4 took 12-16x one 2x256x256 volume, [65536, 2, 1, 1] about 21 s: a
  // workgroup per volume, in every pass. Now small volumes share a workgroup.
  it.each([
    [[8192, 4, 4, 2], 'channels-last'],
    [[4096, 2, 4, 4], 'channels-first'],
    [[65536, 2, 1, 1], 'channels-last'],
    [[512, 2, 3, 4, 4], 'channels-first'],
  ] as const)('%j %s', (shape, layout) => {
    for (const profile of [lavapipe, gpu]) {
      const program = planProgram(clDice({ shape, layout }), profile) as LossProgram<ClDiceGrids>;
      const elements = shape.reduce((a: number, b: number) => a * b, 1);
      const what = profile.software ? 'software' : 'gpu';
      // The sums: at least 480 elements a workgroup (two threads' share of a run of volumes).
      expect(program.grids.sums.workgroups, what).toBeLessThanOrEqual(Math.ceil(elements / 480));
      // The stencil passes: at least half the threads of a workgroup own a cell, on average.
      for (const pass of program.passes) {
        const workgroups = pass.dispatches.reduce((n, d) => n + d.workgroups[0], 0);
        expect(workgroups, `${what} ${pass.name}`).toBeLessThanOrEqual(Math.ceil(elements / 128));
      }
    }
  });

  it('one large volume keeps its sums plan: chunks of one volume, as many as the profile wants', () => {
    const big = planProgram(clDice({ shape: [2, 256, 256, 2] }), lavapipe) as LossProgram<ClDiceGrids>;
    expect(big.grids.sums.slabElements).toBe(256 * 256 * 2);
    expect(big.grids.sums.workgroups).toBe(lavapipe.elementwiseWorkgroups);
  });
});

describe('clDice passes per level (issue 18)', () => {
  // Per call at K = 3: GPU plans one pass per skeleton level and per backward level (3K + 6
  // with the target's skeleton, sums and finalize); software plans the barrier-free steps,
  // two per skeleton level and four per backward level (8K + 10: the 34 of every plan before).
  it.each([
    [gpu, 3, 15],
    [gpu, 0, 6],
    [lavapipe, 3, 34],
    [lavapipe, 0, 10],
  ] as const)('%#: K = %d, %d passes', (profile, skeletonIterations, passes) => {
    const program = planProgram(clDice({ shape: [2, 512, 512, 2], skeletonIterations }), profile);
    expect(program.passes.length).toBe(passes);
  });

  it("a GPU device with WebGPU's default 8 storage buffers a stage gets the steps (the tiled backward binds 12)", () => {
    const spec = clDice({ shape: [2, 512, 512, 2], skeletonIterations: 3 });
    expect(planProgram(spec, { ...gpu, maxStorageBuffersPerStage: 8 }).passes.length).toBe(34);
    expect(planProgram(spec, { ...gpu, maxStorageBuffersPerStage: 12 }).passes.length).toBe(15);
  });
});

describe('clDice tiles', () => {
  it.each([
    [[1, 512, 512], [1, 16, 16], 1],
    [[128, 128, 128], [4, 8, 8], 1],
    [[1, 4, 4], [1, 4, 4], 16],
    [[4, 5, 9], [4, 5, 9], 1],
    [[1, 1, 1], [1, 1, 1], 256],
  ] as const)('a %j volume takes %j tiles, %d stacked', (size, tile, volumes) => {
    expect(tileShape(size, 256, 256)).toMatchObject({ tile, volumes });
  });

  it('every tile and its halos fit the workgroup arrays the kernels declare', () => {
    const random = mulberry32(7);
    const capacity = ([n, d]: readonly [number, number], threads: number) => Math.floor((threads * n) / d);
    for (let i = 0; i < 500; i++) {
      const threads = [64, 128, 256][Math.floor(random() * 3)];
      const size = [
        random() < 0.5 ? 1 : 1 + Math.floor(random() * 40),
        1 + Math.floor(random() * 70),
        1 + Math.floor(random() * 70),
      ] as const;
      const shape = tileShape(size, threads, 1 + Math.floor(random() * 300));
      const box = (reach: number) => shape.tile.reduce((n, t, a) => n * (t + 2 * Math.min(shape.halo[a], reach)), 1);
      expect(shape.volumes * shape.tile.reduce((a, b) => a * b, 1)).toBeLessThanOrEqual(threads);
      expect(shape.volumes * box(2)).toBeLessThanOrEqual(capacity(TILE_CAPACITY.wide, threads));
      expect(shape.volumes * box(1)).toBeLessThanOrEqual(capacity(TILE_CAPACITY.narrow, threads));
      shape.tile.forEach((t, a) => expect(shape.halo[a]).toBe(t < size[a] ? 2 : 0));
    }
  });
});

describe('voxel grids', () => {
  const shape = { batch: 2, classes: 4, spatial: 100_000, channelsFirst: false };

  it("the forward's chunks do not depend on the binding window; windows cut them into pieces that carry", () => {
    const whole = voxelGrids(shape, lavapipe).forward;
    for (const maxBindingBytes of [8 * 1024, 24 * 1024, 1 << 20]) {
      const cut = voxelGrids(shape, { ...lavapipe, maxBindingBytes }).forward;
      expect([cut.chunks, cut.voxelsPerChunk]).toEqual([whole.chunks, whole.voxelsPerChunk]);
      // Pieces tile the voxels in order, each within one window, starting on 256-voxel runs.
      let end = 0;
      let faultBase = 0;
      for (const w of cut.windows) {
        if (w.elementBase !== end) expect(w.elementBase + w.elementCount).toBe(end);
        else end = w.elementBase + w.elementCount;
        expect(w.elementBase % 256).toBe(0);
        expect(w.elementCount * 16).toBeLessThanOrEqual(maxBindingBytes);
        expect(w.faultBase).toBe(faultBase);
        faultBase += w.count;
      }
      expect(end).toBe(shape.batch * shape.spatial);
      expect(cut.carrySlots).toBe(cut.windows[cut.windows.length - 1].carrySlot);
      expect(cut.dispatchedWorkgroups).toBe(faultBase);
    }
    expect(whole.windows).toHaveLength(1);
    expect(whole.carrySlots).toBe(0);
  });

  it('GPU plans size class blocks to the register budget; software plans keep CLASS_BLOCK', () => {
    expect(forwardBlockClasses(16, 3, gpu)).toBe(16); // softmax Dice: I, P, G
    expect(forwardBlockClasses(16, 5, gpu)).toBe(8); // with cross-entropy and a softmax focal term
    expect(forwardBlockClasses(8, 7, gpu)).toBe(16); // 8 classes x 8 values fit in one block
    expect(forwardBlockClasses(64, 7, gpu)).toBe(8);
    expect(forwardBlockClasses(64, 7, lavapipe)).toBe(16);
  });
});
