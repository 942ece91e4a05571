// The surface programs the unit tier plans without a GPU (test/unit/program.test.ts): the
// distance transform, the surface metrics, the Hausdorff-DT loss and the family's boundary term,
// on lavapipe's plans, GPU plans and tiny binding windows.
import type { KernelName } from '../../src/kernels/sources.js';
import type { DeviceProfile } from '../../src/program/profile.js';
import { normalizeLossOptions } from '../../src/spec/family.js';
import type { LossSpec } from '../../src/spec/index.js';
import {
  normalizeDistanceTransformOptions,
  normalizeHausdorffDTOptions,
  normalizeSurfaceMetricsOptions,
  type DistanceTransformOptions,
  type HausdorffDTOptions,
  type SurfaceMetricsOptions,
} from '../../src/spec/surface.js';

/** Every kernel whose uniform block is SurfaceParams (shaders/lib/surface_grid.wgsl). */
export const SURFACE_KERNELS: readonly KernelName[] = [
  'surface_clear',
  'surface_features',
  'surface_bounds',
  'surface_edges',
  'distance_first',
  'distance_first_tiles',
  'distance_envelope',
  'distance_finish',
  'surface_gather',
  'surface_histogram',
  'surface_select',
  'surface_finalize',
  'field_forward',
  'field_finalize',
  'field_backward',
];

const transform = (o: DistanceTransformOptions): LossSpec => ({
  kind: 'distance-transform',
  options: normalizeDistanceTransformOptions(o),
});
const metrics = (o: SurfaceMetricsOptions): LossSpec => ({
  kind: 'surface-metrics',
  options: normalizeSurfaceMetricsOptions(o),
});
const hausdorff = (o: Omit<HausdorffDTOptions, 'formula'>): LossSpec => ({
  kind: 'hausdorff-dt',
  options: normalizeHausdorffDTOptions({ formula: 'hausdorff-dt', ...o }),
});

export function surfaceSpecs(
  lavapipe: DeviceProfile,
  gpu: DeviceProfile,
  tiny: DeviceProfile,
): [string, LossSpec, DeviceProfile][] {
  return [
    [
      'surface metrics: HD95, ASD, NSD of u8 label maps',
      metrics({ shape: [1, 64, 64, 64, 4], target: 'u8', percentile: 95, tolerance: 1, includeBackground: false }),
      lavapipe,
    ],
    [
      'surface metrics: subvoxel NSD, dense channels-first, GPU',
      metrics({
        shape: [2, 3, 32, 40],
        layout: 'channels-first',
        metrics: ['nsd'],
        subvoxels: true,
        tolerance: [1, 2, 3],
        spacing: [0.5, 1.5],
      }),
      gpu,
    ],
    [
      'surface metrics in binding windows and groups',
      // The symmetric average keeps two distance volumes per pair (several groups).
      metrics({ shape: [6, 24, 24, 3], target: 'u16', percentile: 50, directed: true, symmetric: true }),
      tiny,
    ],
    [
      'surface metrics of one direction (directed HD50, ASD): one distance volume per pair',
      metrics({ shape: [6, 24, 24, 3], target: 'u16', percentile: 50, directed: true }),
      tiny,
    ],
    [
      'distance transform: 3D u8 label map, signed',
      transform({ shape: [2, 3, 16, 16, 16], layout: 'channels-first', target: 'u8', signed: true }),
      lavapipe,
    ],
    [
      'distance transform: 2D anisotropic, squared, GPU',
      transform({ shape: [2, 128, 96, 2], spacing: [0.8, 1.3], squared: true }),
      gpu,
    ],
    ['distance transform: 1D chessboard', transform({ shape: [4, 300, 2], metric: 'chessboard' }), lavapipe],
    [
      'hausdorff-dt: softmax, label map, batch',
      hausdorff({ shape: [2, 3, 24, 24], layout: 'channels-first', activation: 'softmax', target: 'u8', batch: true }),
      lavapipe,
    ],
    [
      'hausdorff-dt: f16 pred and grad, in binding windows',
      hausdorff({ shape: [2, 40, 40, 3], activation: 'sigmoid', predType: 'f16', gradType: 'f16' }),
      tiny,
    ],
    [
      'family Dice with a boundary term',
      {
        kind: 'family',
        options: normalizeLossOptions({
          shape: [2, 32, 32, 3],
          activation: 'softmax',
          target: 'u8',
          boundary: { lambda: 0.01, spacing: [1, 2] },
        }),
      },
      lavapipe,
    ],
  ];
}
