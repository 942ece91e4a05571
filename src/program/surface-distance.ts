import { STATUS_BYTES } from '../core/limits.js';
import type { NormalizedDistanceTransform } from '../spec/surface.js';
import type { DeviceProfile } from './profile.js';
import { scratchRef, type LossProgram, type TensorSpec } from './program.js';
import {
  bytesPerVoxel,
  distancePasses,
  featureTests,
  fullBoxes,
  INPUT_KIND,
  packPairInfo,
  planSurfaceLayout,
  singlePass,
  surfaceParamsFields,
  type SurfaceLayoutPlan,
} from './surface-grid.js';
import { targetBytes, voxelWindow } from './voxel.js';

// engine.distanceTransform: per pair (sample, class) the mask's flags (surface_features.wgsl,
// which also checks the mask), the separable transform (distance_first, distance_envelope: one
// pass per axis), and the caller's distances (distance_finish). Signed distances transform the
// mask and its complement (two volumes per pair).

/** Flag bit 1 of surface_features.wgsl: the mask (its "target" side). */
const INSIDE_BIT = 1;

export function planDistanceTransformProgram(
  o: NormalizedDistanceTransform,
  profile: DeviceProfile,
): LossProgram<SurfaceLayoutPlan> {
  const g = o.geometry;
  const what = 'engine.distanceTransform';
  const volumesPerPair = o.signed ? 2 : 1;
  const plan = planSurfaceLayout(
    g,
    {
      firstClass: 0,
      volumesPerPair,
      cellGrid: false,
      bytesPerVoxel: Math.max(bytesPerVoxel(o.target, g.classes), 4 * g.classes),
    },
    profile,
    what,
  );
  const voxels = g.batch * g.spatial;
  const elements = voxels * g.classes;
  const tensors: TensorSpec[] = [
    {
      name: 'mask',
      bytes: targetBytes(o.target, voxels, g.classes),
      windowed: true,
      access: 'read',
      optional: false,
      host: { type: o.target === 'dense' ? 'f32' : o.target, elements: o.target === 'dense' ? elements : voxels },
    },
    { name: 'distances', bytes: elements * 4, windowed: true, access: 'write', optional: true },
  ];
  const groupVolumes = plan.pairsPerGroup * plan.gridVoxels * 4;
  const targetKind = INPUT_KIND[o.target];
  const passes = [
    singlePass('clear', 'surface_clear', surfaceParamsFields(plan, o.distance, {}), 1, {
      status: scratchRef('status'),
      boxes: scratchRef('boxes'),
      histograms: scratchRef('no input'),
    }),
  ];
  const inside: [number, 0 | 1][] = o.signed
    ? [
        [INSIDE_BIT, 1],
        [INSIDE_BIT, 0],
      ]
    : [[INSIDE_BIT, 1]];
  for (const [i, group] of plan.groups.entries()) {
    const prefix = plan.groups.length > 1 ? `group ${i + 1}: ` : '';
    const common = { pairBase: group.pairBase, pairs: group.pairs, chunks: plan.boxChunks, window: group.window };
    passes.push(
      singlePass(
        `${prefix}mask`,
        'surface_features',
        // mode 1: a binary mask on the target side; no prediction.
        surfaceParamsFields(plan, o.distance, { ...common, targetKind, mode: 1 }),
        group.pairs * plan.boxChunks,
        {
          pred_in: scratchRef('no input'),
          target_in: voxelWindow('mask', group.window, o.target, g.classes),
          flags: scratchRef('flags'),
          status: scratchRef('status'),
        },
      ),
    );
    const transform = distancePasses(plan, o.distance, group, featureTests(inside), {
      prefix,
      flags: 'flags',
      fields: ['field a', 'field b'],
    });
    passes.push(...transform.passes);
    passes.push(
      singlePass(
        `${prefix}distances`,
        'distance_finish',
        surfaceParamsFields(plan, o.distance, {
          ...common,
          features: featureTests([[INSIDE_BIT, 1]]),
          mode: o.signed ? 1 : 0,
          mode2: o.squared ? 1 : 0,
        }),
        group.pairs * plan.boxChunks,
        {
          flags: scratchRef('flags'),
          pairs: scratchRef('pairs'),
          field: scratchRef(transform.result),
          distances: voxelWindow('distances', group.window, 'elements', g.classes),
        },
      ),
    );
  }
  return {
    label: o.label,
    dims: g.dims,
    grids: plan,
    tensors,
    scratch: [
      { name: 'status', bytes: STATUS_BYTES, readable: true },
      { name: 'boxes', bytes: 0, contents: fullBoxes(plan) },
      { name: 'pairs', bytes: 0, contents: packPairInfo(plan, o.distance) },
      { name: 'no input', bytes: 16 },
      { name: 'flags', bytes: groupVolumes },
      { name: 'field a', bytes: groupVolumes * volumesPerPair },
      { name: 'field b', bytes: groupVolumes * volumesPerPair },
      // compute()'s output, standing in for the caller's buffer (encode() writes the caller's).
      { name: 'distances', bytes: elements * 4, readable: true },
    ],
    passes,
    readback: ['distances'],
    inPlace: [],
  };
}
