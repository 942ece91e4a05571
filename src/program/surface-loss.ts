import { WgslDiceError } from '../core/errors.js';
import { STATUS_BYTES } from '../core/limits.js';
import type { TargetKind } from '../spec/family.js';
import { distanceMode, type DistanceMode, type NormalizedHausdorffDT, type SurfaceGeometry } from '../spec/surface.js';
import type { DeviceProfile } from './profile.js';
import { scratchRef, tensorRef, type LossProgram, type ProgramPass, type ScratchSpec } from './program.js';
import {
  bytesPerVoxel,
  distancePasses,
  featureTests,
  fullBoxes,
  INPUT_KIND,
  packPairInfo,
  planSurfaceLayout,
  sampleScratchRef,
  sampleStride,
  singlePass,
  surfaceParamsFields,
  windowPass,
  type SurfaceLayoutPlan,
} from './surface-grid.js';
import { stageF16 } from './f16-convert.js';
import { voxelTensors, voxelWindow } from './voxel.js';

// The distance-field losses on the surface runtime pieces: MONAI's Hausdorff-DT loss as its own
// program, and the boundary term the loss family appends (src/program/boundary.ts). Per call:
//   features   each pair's prediction (> 0.5 after the activation) and target (> 0.5) inside
//   distance   the transforms of the fields (distance_first, distance_envelope)
//   forward    the loss terms per workgroup, and each voxel's weight for the backward pass
//   finalize   the loss (and the backward coefficients)
//   backward   d(loss)/d(input) through the activation (field_backward.wgsl)

/** surface_features.wgsl's prediction modes by activation (logits decide > 0.5 exactly). */
const PRED_FEATURE = { none: 1, sigmoid: 2, softmax: 3, tanh: 4 } as const;
/** field_*.wgsl's activations. */
const ACTIVATION = { none: 0, sigmoid: 1, softmax: 2, tanh: 3 } as const;
/** surface_features.wgsl's target modes. */
const SOFT_TARGET = 2;
/** Flag bits of surface_features.wgsl. */
const PRED_BIT = 0;
const TARGET_BIT = 1;
const REDUCTION = { mean: 0, sum: 1, none: 2 } as const;

type FieldActivation = keyof typeof ACTIVATION;

/** What a distance-field term is computed from, whichever loss it belongs to. */
export interface FieldTerm {
  readonly geometry: SurfaceGeometry;
  readonly activation: FieldActivation;
  readonly target: TargetKind;
  readonly firstClass: number;
  readonly distance: DistanceMode;
  /** field_forward / field_finalize / field_backward's mode: 0 Hausdorff-DT, 1 boundary. */
  readonly kind: 0 | 1;
  /** Hausdorff-DT's exponent of the fields (0 for the boundary term). */
  readonly alpha: number;
  /** Scratch names are prefixed with this (the boundary term shares the family's program). */
  readonly prefix: string;
}

/** The plan, scratch and forward passes of a distance-field term (up to its finalize). */
export function fieldTermPasses(
  t: FieldTerm,
  profile: DeviceProfile,
  what: string,
): { plan: SurfaceLayoutPlan; scratch: ScratchSpec[]; passes: ProgramPass[] } {
  const g = t.geometry;
  const hausdorff = t.kind === 0;
  const volumesPerPair = hausdorff ? 4 : 2;
  const plan = planSurfaceLayout(
    g,
    {
      firstClass: t.firstClass,
      volumesPerPair,
      cellGrid: false,
      bytesPerVoxel: Math.max(4 * g.classes, bytesPerVoxel(t.target, g.classes)),
    },
    profile,
    what,
  );
  const name = (s: string) => `${t.prefix}${s}`;
  // Per-voxel weights for the backward pass, bound window by window of samples.
  const weightBytes = g.batch * sampleStride(plan) * 4;
  const widestWindow = Math.max(...plan.windows.map((w) => w.count)) * sampleStride(plan) * 4;
  if (widestWindow > profile.maxBindingBytes) {
    throw new WgslDiceError(
      'BINDING_TOO_LARGE',
      `${what}: a window's per-voxel weights take ${widestWindow} bytes, more than the ${profile.maxBindingBytes}-byte ` +
        'binding limit; use smaller samples, or raise maxStorageBufferBindingSize.',
    );
  }
  const groupVolumes = plan.pairsPerGroup * plan.gridVoxels * 4;
  const scratch: ScratchSpec[] = [
    { name: name('boxes'), bytes: 0, contents: fullBoxes(plan) },
    { name: name('pairs'), bytes: 0, contents: packPairInfo(plan, t.distance) },
    { name: name('flags'), bytes: groupVolumes },
    { name: name('field a'), bytes: groupVolumes * volumesPerPair },
    { name: name('field b'), bytes: groupVolumes * volumesPerPair },
    { name: name('weights'), bytes: weightBytes },
    { name: name('partials'), bytes: plan.pairs * plan.boxChunks * 16 },
  ];
  // Hausdorff-DT: the prediction inside and outside, then the target's; boundary: the target's.
  const features = featureTests(
    hausdorff
      ? [
          [PRED_BIT, 1],
          [PRED_BIT, 0],
          [TARGET_BIT, 1],
          [TARGET_BIT, 0],
        ]
      : [
          [TARGET_BIT, 1],
          [TARGET_BIT, 0],
        ],
  );
  const passes: ProgramPass[] = [];
  const targetKind = INPUT_KIND[t.target];
  for (const [i, group] of plan.groups.entries()) {
    const prefix = `${t.prefix}${plan.groups.length > 1 ? `group ${i + 1}: ` : ''}`;
    const common = { pairBase: group.pairBase, pairs: group.pairs, chunks: plan.boxChunks, window: group.window };
    const inputs = {
      pred_in: voxelWindow('pred', group.window, 'elements', g.classes),
      target_in: voxelWindow('target', group.window, t.target, g.classes),
    };
    passes.push(
      singlePass(
        `${prefix}inside`,
        'surface_features',
        surfaceParamsFields(plan, t.distance, {
          ...common,
          targetKind,
          mode: SOFT_TARGET,
          mode2: hausdorff ? PRED_FEATURE[t.activation] : 0,
        }),
        group.pairs * plan.boxChunks,
        // The boundary term's faults are the family forward's to report: a sink takes them.
        { ...inputs, flags: scratchRef(name('flags')), status: scratchRef(hausdorff ? 'status' : name('faults')) },
      ),
    );
    const transform = distancePasses(plan, t.distance, group, features, {
      prefix,
      flags: name('flags'),
      fields: [name('field a'), name('field b')],
      boxes: name('boxes'),
      pairs: name('pairs'),
    });
    passes.push(...transform.passes);
    passes.push(
      singlePass(
        `${prefix}forward`,
        'field_forward',
        surfaceParamsFields(plan, t.distance, {
          ...common,
          targetKind,
          mode: t.kind,
          mode2: ACTIVATION[t.activation],
          scalar0: t.alpha,
        }),
        group.pairs * plan.boxChunks,
        {
          ...inputs,
          flags: scratchRef(name('flags')),
          pairs: scratchRef(name('pairs')),
          field: scratchRef(transform.result),
          weights: sampleScratchRef(name('weights'), plan, group.window),
          partials: scratchRef(name('partials')),
        },
      ),
    );
  }
  if (!hausdorff) scratch.push({ name: name('faults'), bytes: STATUS_BYTES });
  return { plan, scratch, passes };
}

/** The backward pass of a distance-field term, per sample window. */
export function fieldBackwardPass(t: FieldTerm, plan: SurfaceLayoutPlan): ProgramPass {
  const name = (s: string) => `${t.prefix}${s}`;
  const g = t.geometry;
  return windowPass(
    `${t.prefix}backward`,
    'field_backward',
    plan.windows,
    (w) =>
      surfaceParamsFields(plan, t.distance, {
        window: w,
        chunks: plan.sampleChunks,
        targetKind: INPUT_KIND[t.target],
        mode: t.kind,
        mode2: ACTIVATION[t.activation],
        voxelGrid: true,
      }),
    (w) => w.count * plan.sampleChunks,
    (w) => ({
      pred_in: voxelWindow('pred', w, 'elements', g.classes),
      target_in: voxelWindow('target', w, t.target, g.classes),
      weights: sampleScratchRef(name('weights'), plan, w),
      coefs: scratchRef(name('coefs')),
      grad: voxelWindow('grad', w, 'elements', g.classes),
    }),
    'backward',
  );
}

/** engine.loss({ formula: 'hausdorff-dt' }): MONAI's HausdorffDTLoss / LogHausdorffDTLoss. */
export function planHausdorffDTProgram(
  o: NormalizedHausdorffDT,
  profile: DeviceProfile,
): LossProgram<SurfaceLayoutPlan> {
  const g = o.geometry;
  const term: FieldTerm = {
    geometry: g,
    activation: o.activation,
    target: o.target,
    firstClass: o.firstClass,
    // MONAI's fields: euclidean, unit spacing.
    distance: distanceMode(
      'euclidean',
      Array.from({ length: g.batch }, () => g.spatialShape.map(() => 1)),
    ),
    kind: 0,
    alpha: o.alpha,
    prefix: '',
  };
  const { plan, scratch, passes } = fieldTermPasses(term, profile, "engine.loss({ formula: 'hausdorff-dt' })");
  const cells = o.batch ? plan.kept : plan.pairs;
  const perCell = (o.batch ? g.batch : 1) * g.spatial;
  const elements = g.batch * g.spatial * g.classes;
  // Planned in f32; f16 pred and gradient are staged around the passes (stageF16 below).
  const { pred, target, loss, grad } = voxelTensors({
    ...g,
    elements,
    target: o.target,
    predType: 'f32',
    gradType: 'f32',
  });
  const clear = singlePass('clear', 'surface_clear', surfaceParamsFields(plan, term.distance, {}), 1, {
    status: scratchRef('status'),
    boxes: scratchRef('boxes'),
    histograms: scratchRef('coefs'),
  });
  const finalize = singlePass(
    'finalize',
    'field_finalize',
    surfaceParamsFields(plan, term.distance, {
      pairs: plan.pairs,
      chunks: plan.boxChunks,
      mode: 0,
      mode2: REDUCTION[o.reduction] | (o.log ? 4 : 0) | (o.batch ? 8 : 0),
      scalar1: 1 / perCell,
    }),
    1,
    {
      partials: scratchRef('partials'),
      coefs: scratchRef('coefs'),
      values: scratchRef('values'),
      loss: tensorRef('loss', 0, 4),
      status: scratchRef('status'),
    },
  );
  const program: LossProgram<SurfaceLayoutPlan> = {
    label: o.label,
    dims: g.dims,
    grids: plan,
    tensors: [pred, target, loss, grad!],
    scratch: [
      { name: 'status', bytes: STATUS_BYTES, readable: true },
      ...scratch,
      { name: 'coefs', bytes: Math.max(1, plan.pairs) * 4 },
      { name: 'values', bytes: Math.max(1, cells) * 4, readable: true },
    ],
    passes: [clear, ...passes, finalize, fieldBackwardPass(term, plan)],
    readback: ['values'],
    inPlace: [],
  };
  return stageF16(program, o, elements, profile);
}
