// Surface metrics and distance-transform losses in float64 (issue 20's reference side).
export {
  distanceTransform,
  distanceTransformBatch,
  distanceTransformBruteForce,
  signedDistanceTransform,
  type DistanceMetric,
  type DistanceTransformOptions,
} from './distance-transform.js';
export { maskEdges, subvoxelBoundary, type SubvoxelBoundary } from './edges.js';
export { contourLengthTable, surfaceAreaTable } from './marching.js';
export {
  averageSurfaceDistance,
  hausdorffDistance,
  percentileFloat32,
  surfaceDice,
  surfaceDistances,
  surfaceMetrics,
  type AverageSurfaceDistanceOptions,
  type HausdorffOptions,
  type SurfaceDiceOptions,
  type SurfaceMetricOptions,
  type SurfaceMetrics,
  type SurfaceMetricsOptions,
} from './metrics.js';
export {
  boundaryLoss,
  hausdorffDistanceField,
  hausdorffDTLoss,
  type BoundaryLossOptions,
  type BoundaryLossResult,
  type HausdorffDTOptions,
  type LossReduction,
  type LossResult,
} from './losses.js';
export { labelMapSurfaceMetrics, type LabelMapSurfaceOptions, type LabelSurfaceMetrics } from './baseline.js';
export type { FlatTensor, MetricResult } from './monai.js';
export * as monaiSurface from './monai.js';
