import { WgslDiceError } from '../core/errors.js';
import { MAX_CLASSES } from '../core/limits.js';
import { parseLayoutShape } from '../core/shape.js';
import {
  describeValue,
  isF32Representable,
  oneOf,
  optionalBoolean,
  optionalLabel,
  ownOptions,
  requireF32,
} from '../core/validate.js';

// Options of the distance transform (engine.distanceTransform), the surface metrics
// (engine.surfaceMetrics) and the distance-field losses (engine.loss({ formula: 'hausdorff-dt' })
// and the family's `boundary` term), normalised for the planner (src/program/surface-*.ts).
// Conventions (the float64 reference, src/reference/surface/, is the oracle):
// - distances are euclidean (with the spacing), or chessboard / taxicab in voxel steps;
// - a voxel with no feature voxel at all is +Infinity away;
// - surfaces are MONAI's edge voxels (the image border counts as background) or, with
//   `subvoxels`, the boundary cells between voxels weighted by length or area.

export type SurfaceInputKind = 'dense' | 'u8' | 'u16' | 'u32';
export type SurfaceDistanceMetric = 'euclidean' | 'chessboard' | 'taxicab';
export type SurfaceLayout = 'channels-last' | 'channels-first';
/** Voxel size: one number, one per spatial axis, or one such list per sample. Default 1. */
export type SurfaceSpacing = number | readonly number[] | readonly (readonly number[])[];

/** The longest spatial axis the kernels take (row stacks pack positions in 16 bits; squared steps stay in u32). */
export const MAX_SURFACE_AXIS = 16384;

/** The shape facts every surface program is planned from. */
export interface SurfaceGeometry {
  /** The caller's shape, in its layout. */
  readonly dims: readonly number[];
  readonly batch: number;
  readonly classes: number;
  /** The spatial axes (1 to 3), outermost first. */
  readonly spatialShape: readonly number[];
  /** Voxels per sample. */
  readonly spatial: number;
  readonly channelsFirst: boolean;
}

/** How raw distances are computed: integer steps (exact), or f32 with per-axis weights. */
export interface DistanceMode {
  readonly metric: SurfaceDistanceMetric;
  /**
   * Integer squared steps (euclidean with isotropic spacing: each sample's distance is its scale
   * times the square root), or steps (chessboard, taxicab): exact. Otherwise f32 squared
   * distances with spacing^2 weights per axis.
   */
  readonly exact: boolean;
  /** Per sample, the spacing of each spatial axis (outermost first); 1 for chessboard and taxicab distances. */
  readonly spacing: readonly (readonly number[])[];
}

export interface DistanceTransformOptions {
  /**
   * Shape of the distances (and of a dense mask): `[B, ...spatial, C]` (channels-last) or
   * `[B, C, ...spatial]` (channels-first), 1 to 3 spatial axes. With a label map as the mask,
   * C is the number of labels: class c is the voxels labelled c.
   */
  shape: readonly number[];
  /** Default 'channels-last'. */
  layout?: SurfaceLayout;
  /**
   * The mask: 'dense' f32 of `shape` (one-hot or multi-label, exactly 0 or 1; other values are
   * a fault: compute() throws INVALID_INPUT with the count and the first element), or an integer
   * label map `[B, ...spatial]` of u8, u16 or u32 (labels >= C: LABEL_OUT_OF_RANGE). Default 'dense'.
   */
  target?: SurfaceInputKind;
  /** Default 'euclidean'. */
  metric?: SurfaceDistanceMetric;
  /** Euclidean only: the voxel size (see {@link SurfaceSpacing}); chessboard and taxicab count steps. */
  spacing?: SurfaceSpacing;
  /**
   * Signed distance: outside the mask +(distance to the nearest voxel inside), inside
   * -(distance to the nearest voxel outside). Default false: the distance to the nearest voxel
   * inside (0 inside).
   */
  signed?: boolean;
  /** Squared distances (signed: the sign times the square). Default false. */
  squared?: boolean;
  label?: string;
}

export interface NormalizedDistanceTransform {
  readonly geometry: SurfaceGeometry;
  readonly target: SurfaceInputKind;
  readonly distance: DistanceMode;
  readonly signed: boolean;
  readonly squared: boolean;
  readonly label: string;
}

/** The metrics engine.surfaceMetrics computes. */
export type SurfaceMetricName = 'hausdorff' | 'asd' | 'nsd';

export interface SurfaceMetricsOptions {
  /**
   * Shape of the one-hot (or multi-label) masks: `[B, ...spatial, C]` or `[B, C, ...spatial]`, 1
   * to 3 spatial axes; with label maps (`target: 'u8'`, ...), C is the number of labels and
   * both maps are `[B, ...spatial]`.
   */
  shape: readonly number[];
  /** Default 'channels-last'. */
  layout?: SurfaceLayout;
  /**
   * Both masks: 'dense' f32 of `shape`, exactly 0 or 1 (other values are a fault), or integer
   * label maps (u8, u16 or u32; the prediction's may be another width with `pred`). Default 'dense'.
   */
  target?: SurfaceInputKind;
  /** The prediction's kind when it differs from the target's width (label maps only). */
  pred?: SurfaceInputKind;
  /**
   * Which metrics to report: 'hausdorff' (see `percentile`, `directed`), 'asd' (average
   * surface distance, see `symmetric`), 'nsd' (normalised surface Dice at `tolerance`).
   * Default: all three when `tolerance` is given, else hausdorff and asd.
   */
  metrics?: readonly SurfaceMetricName[];
  /** Hausdorff: a percentile from 0 to 100 (torch.quantile's linear interpolation, in f32 as MONAI); null or 0 the maximum. */
  percentile?: number | null;
  /** Hausdorff from the prediction to the target only (default false: the larger of both directions). */
  directed?: boolean;
  /** Average surface distance over both directions' distances pooled (default false: prediction to target). */
  symmetric?: boolean;
  /** Surface Dice tolerance: one for every class reported, or one per class reported; >= 0. */
  tolerance?: number | readonly number[];
  /** Report class 0 too (default true; false drops class 0 and needs C > 1). */
  includeBackground?: boolean;
  /**
   * Surface Dice over the boundary cells between voxels, weighted by contour length (2D) or
   * surface area (3D), as MONAI's use_subvoxels: metrics must be ['nsd']. Default false.
   */
  subvoxels?: boolean;
  /** Default 'euclidean'; chessboard and taxicab count voxel steps (the spacing then scales subvoxel lengths and areas only, as MONAI). */
  metric?: SurfaceDistanceMetric;
  spacing?: SurfaceSpacing;
  /**
   * Share the surfaces and distance fields between SurfaceMetrics of this engine made with this
   * option and the same shape, layout, input kinds, classes, spacing, metric and subvoxels (the
   * metrics, percentile, tolerances and directions may differ): a compute() on host arrays equal
   * to those of the last compute() that transformed them skips the transforms, and reports
   * `reusedDistances: true` (an encode() of any member ends reuse for the set: the caller
   * submits it when it likes). For one metric per call on the same pair, as MONAI's functions are
   * called (the MONAI presets set it). Costs a host copy of the last inputs, kept per shared set;
   * every metric of the set transforms both directions. Default false.
   */
  reuseDistances?: boolean;
  label?: string;
}

export interface NormalizedSurfaceMetrics {
  readonly geometry: SurfaceGeometry;
  readonly pred: SurfaceInputKind;
  readonly target: SurfaceInputKind;
  readonly metrics: readonly SurfaceMetricName[];
  /** A percentile in (0, 100], or null for the maximum. */
  readonly percentile: number | null;
  readonly directed: boolean;
  readonly symmetric: boolean;
  /** Per class reported (kept), the surface-Dice tolerance; 0 where nsd is not asked for. */
  readonly tolerance: readonly number[];
  /** The first class reported. */
  readonly firstClass: number;
  readonly subvoxels: boolean;
  readonly distance: DistanceMode;
  /** Per sample, the spacing per axis (subvoxel lengths and areas use it whatever the metric). */
  readonly voxelSize: readonly (readonly number[])[];
  readonly reuseDistances: boolean;
  readonly label: string;
}

export interface HausdorffDTOptions {
  formula: 'hausdorff-dt';
  /** Shape of pred: `[B, ...spatial, C]` or `[B, C, ...spatial]`, 1 to 3 spatial axes. */
  shape: readonly number[];
  /** Default 'channels-last'. */
  layout?: SurfaceLayout;
  /** Applied to pred: 'none' (probabilities), 'sigmoid' or 'softmax' over classes. Default 'none'. */
  activation?: 'none' | 'sigmoid' | 'softmax';
  /** 'dense' f32 of pred's shape (one-hot, multi-label or soft), or a label map `[B, ...spatial]` (MONAI's to_onehot_y). Default 'dense'. */
  target?: SurfaceInputKind;
  /** Exponent of the distance fields, >= 0 (default 2). */
  alpha?: number;
  /** Keep class 0 (default true; false drops it and needs C > 1). */
  includeBackground?: boolean;
  /** Average over the batch too: one value per class (MONAI's batch). Default false. */
  batch?: boolean;
  /** Over the (sample,) class values: 'mean' (default), 'sum', or 'none' (each value is returned; the loss is their sum). */
  reduction?: 'mean' | 'sum' | 'none';
  /** LogHausdorffDTLoss: log(1 + loss) after the reduction (element-wise for 'none'). Default false. */
  log?: boolean;
  /** pred's element type: 'f16' (shader-f16) is widened to f32 once a call; every pass runs in f32. Default 'f32'. */
  predType?: 'f32' | 'f16';
  /** The gradient's: 'f16' rounds the f32 gradient to f16 as it is written. Default 'f32'. */
  gradType?: 'f32' | 'f16';
  label?: string;
}

export interface NormalizedHausdorffDT {
  readonly geometry: SurfaceGeometry;
  readonly activation: 'none' | 'sigmoid' | 'softmax';
  readonly target: SurfaceInputKind;
  readonly alpha: number;
  readonly firstClass: number;
  readonly batch: boolean;
  readonly reduction: 'mean' | 'sum' | 'none';
  readonly log: boolean;
  readonly predType: 'f32' | 'f16';
  readonly gradType: 'f32' | 'f16';
  readonly label: string;
}

/** The family's `boundary` option: Kervadec's boundary loss added to the Dice terms. */
export interface BoundaryOptions {
  /** Weight of the boundary term (default 1): loss = family loss + lambda * mean(p * phi). */
  lambda?: number;
  /** Keep class 0 in the boundary term (default false: drops it when C > 1). */
  includeBackground?: boolean;
  /** Voxel size of the target's signed distance phi (one number or one per spatial axis). Default 1. */
  spacing?: number | readonly number[];
}

export interface NormalizedBoundary {
  readonly geometry: SurfaceGeometry;
  readonly lambda: number;
  readonly firstClass: number;
  readonly distance: DistanceMode;
}

function fail(code: 'INVALID_OPTION' | 'INVALID_SHAPE' | 'LIMIT_EXCEEDED' | 'NOT_SUPPORTED', message: string): never {
  throw new WgslDiceError(code, message);
}

/** `shape` and `layout` of a surface entry: 1 to 3 spatial axes, each at most MAX_SURFACE_AXIS. */
export function surfaceGeometry(shape: unknown, layout: unknown, what: string): SurfaceGeometry {
  const channelsFirst =
    oneOf('layout', layout, ['channels-last', 'channels-first'], 'channels-last') === 'channels-first';
  const parsed = parseLayoutShape(shape, channelsFirst);
  const spatialShape = channelsFirst ? parsed.dims.slice(2) : parsed.dims.slice(1, -1);
  if (spatialShape.length < 1 || spatialShape.length > 3) {
    fail(
      'INVALID_SHAPE',
      `${what}: shape ${JSON.stringify(parsed.dims)} has ${spatialShape.length} spatial axes; give 1 to 3 ` +
        (channelsFirst
          ? '([B, C, W], [B, C, H, W] or [B, C, D, H, W]).'
          : '([B, W, C], [B, H, W, C] or [B, D, H, W, C]).'),
    );
  }
  if (spatialShape.some((n) => n > MAX_SURFACE_AXIS)) {
    fail(
      'LIMIT_EXCEEDED',
      `${what}: spatial axes of at most ${MAX_SURFACE_AXIS} voxels are supported, got ${JSON.stringify(spatialShape)}.`,
    );
  }
  return {
    dims: parsed.dims,
    batch: parsed.batch,
    classes: parsed.classes,
    spatialShape,
    spatial: parsed.spatial,
    channelsFirst,
  };
}

/** A spacing option as one list of per-axis sizes per sample (1 when absent). */
export function spacingPerSample(value: unknown, g: SurfaceGeometry, what: string): number[][] {
  const axes = g.spatialShape.length;
  const bad = (why: string): never =>
    fail(
      'INVALID_OPTION',
      `${what}: spacing ${why}, got ${describeValue(value)}${Array.isArray(value) ? ` ${JSON.stringify(value)}` : ''}. ` +
        `Give one positive number, one per spatial axis (${axes}), or one such list per sample (${g.batch}).`,
    );
  const check = (s: unknown): number => {
    if (typeof s !== 'number' || !(s > 0) || !isF32Representable(s)) bad('must hold finite positive numbers');
    return s as number;
  };
  if (value === undefined) return Array.from({ length: g.batch }, () => new Array<number>(axes).fill(1));
  if (typeof value === 'number') {
    const s = check(value);
    return Array.from({ length: g.batch }, () => new Array<number>(axes).fill(s));
  }
  if (!Array.isArray(value) || value.length === 0) return bad('has the wrong form');
  if (value.every((s) => typeof s === 'number')) {
    if (value.length !== axes) bad(`has ${value.length} numbers for ${axes} spatial axes`);
    const list = value.map(check);
    return Array.from({ length: g.batch }, () => [...list]);
  }
  if (!value.every((s) => Array.isArray(s))) return bad('mixes numbers and lists');
  if (value.length !== g.batch) bad(`has ${value.length} lists for ${g.batch} samples`);
  return value.map((s: unknown[]) => {
    if (s.length !== axes) bad(`has a list of ${s.length} numbers for ${axes} spatial axes`);
    return s.map(check);
  });
}

/** Exact integer arithmetic where every sample's voxels are cubes (or the metric counts steps). */
export function distanceMode(metric: SurfaceDistanceMetric, spacing: number[][]): DistanceMode {
  if (metric !== 'euclidean') return { metric, exact: true, spacing: spacing.map((s) => s.map(() => 1)) };
  const isotropic = spacing.every((s) => s.every((v) => v === s[0]));
  return { metric, exact: isotropic, spacing };
}

function metricOption(value: unknown): SurfaceDistanceMetric {
  return oneOf('metric', value, ['euclidean', 'chessboard', 'taxicab'], 'euclidean');
}

function inputKind(name: string, value: unknown, fallback: SurfaceInputKind): SurfaceInputKind {
  return oneOf(name, value, ['dense', 'u8', 'u16', 'u32'], fallback);
}

/** The first class kept: 0, or 1 with includeBackground false (which needs C > 1). */
function firstClass(includeBackground: boolean, g: SurfaceGeometry, what: string): number {
  if (includeBackground) return 0;
  if (g.classes < 2) fail('INVALID_OPTION', `${what}: includeBackground: false needs C > 1 (it drops class 0).`);
  return 1;
}

function checkClassLimit(g: SurfaceGeometry, what: string): void {
  if (g.classes > MAX_CLASSES) {
    fail('LIMIT_EXCEEDED', `${what}: at most ${MAX_CLASSES} classes are supported, got C = ${g.classes}.`);
  }
}

const DISTANCE_TRANSFORM_OPTIONS = ['shape', 'layout', 'target', 'metric', 'spacing', 'signed', 'squared', 'label'];

export function normalizeDistanceTransformOptions(given: DistanceTransformOptions): NormalizedDistanceTransform {
  const what = 'engine.distanceTransform';
  const o = ownOptions<DistanceTransformOptions>('distance transform option', given, DISTANCE_TRANSFORM_OPTIONS);
  const geometry = surfaceGeometry(o.shape, o.layout, what);
  const metric = metricOption(o.metric);
  if (metric !== 'euclidean' && o.spacing !== undefined) {
    fail(
      'INVALID_OPTION',
      `${what}: the ${metric} distance counts voxel steps and takes no spacing (as MONAI and scipy's distance_transform_cdt); omit spacing.`,
    );
  }
  return {
    geometry,
    target: inputKind('target', o.target, 'dense'),
    distance: distanceMode(metric, spacingPerSample(o.spacing, geometry, what)),
    signed: optionalBoolean('signed', o.signed, false),
    squared: optionalBoolean('squared', o.squared, false),
    label: optionalLabel(o.label, 'wgsl-dice distance transform'),
  };
}

const SURFACE_METRICS_OPTIONS = [
  'shape',
  'layout',
  'target',
  'pred',
  'metrics',
  'percentile',
  'directed',
  'symmetric',
  'tolerance',
  'includeBackground',
  'subvoxels',
  'metric',
  'spacing',
  'label',
  'reuseDistances',
];

export function normalizeSurfaceMetricsOptions(given: SurfaceMetricsOptions): NormalizedSurfaceMetrics {
  const what = 'engine.surfaceMetrics';
  const o = ownOptions<SurfaceMetricsOptions>('surface metrics option', given, SURFACE_METRICS_OPTIONS);
  const geometry = surfaceGeometry(o.shape, o.layout, what);
  checkClassLimit(geometry, what);
  const target = inputKind('target', o.target, 'dense');
  const pred = inputKind('pred', o.pred, target);
  if ((pred === 'dense') !== (target === 'dense')) {
    fail(
      'INVALID_OPTION',
      `${what}: pred and target must both be dense masks or both label maps, got '${pred}' and '${target}'.`,
    );
  }
  const first = firstClass(optionalBoolean('includeBackground', o.includeBackground, true), geometry, what);
  const kept = geometry.classes - first;
  const subvoxels = optionalBoolean('subvoxels', o.subvoxels, false);
  const metrics = metricList(o.metrics, o.tolerance !== undefined, subvoxels, what);
  if (subvoxels && geometry.spatialShape.length === 1) {
    fail('INVALID_OPTION', `${what}: subvoxel surfaces are defined in 2D and 3D; this shape has one spatial axis.`);
  }
  const voxelSize = spacingPerSample(o.spacing, geometry, what);
  return {
    geometry,
    pred,
    target,
    metrics,
    percentile: percentileOption(o.percentile, what),
    directed: optionalBoolean('directed', o.directed, false),
    symmetric: optionalBoolean('symmetric', o.symmetric, false),
    tolerance: toleranceOption(o.tolerance, metrics.includes('nsd'), kept, what),
    firstClass: first,
    subvoxels,
    distance: distanceMode(metricOption(o.metric), voxelSize),
    voxelSize,
    reuseDistances: optionalBoolean('reuseDistances', o.reuseDistances, false),
    label: optionalLabel(o.label, 'wgsl-dice surface metrics'),
  };
}

function metricList(value: unknown, hasTolerance: boolean, subvoxels: boolean, what: string): SurfaceMetricName[] {
  const all: SurfaceMetricName[] = ['hausdorff', 'asd', 'nsd'];
  let metrics: SurfaceMetricName[];
  if (value === undefined) {
    metrics = subvoxels ? ['nsd'] : hasTolerance ? all : ['hausdorff', 'asd'];
  } else {
    if (!Array.isArray(value) || value.length === 0) {
      fail(
        'INVALID_OPTION',
        `${what}: metrics must be a non-empty list of 'hausdorff', 'asd', 'nsd', got ${describeValue(value)}.`,
      );
    }
    metrics = value.map((m: unknown) => oneOf('metrics entry', m, all, 'hausdorff'));
    if (new Set(metrics).size !== metrics.length) fail('INVALID_OPTION', `${what}: metrics lists a metric twice.`);
  }
  if (subvoxels && (metrics.length !== 1 || metrics[0] !== 'nsd')) {
    fail(
      'INVALID_OPTION',
      `${what}: subvoxels applies to the surface Dice only (MONAI's use_subvoxels): use metrics: ['nsd'], and a second engine.surfaceMetrics for Hausdorff and the average surface distance.`,
    );
  }
  if (metrics.includes('nsd') && !hasTolerance) {
    fail('INVALID_OPTION', `${what}: metrics 'nsd' needs tolerance (one number, or one per class reported).`);
  }
  return metrics;
}

function percentileOption(value: unknown, what: string): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !(value >= 0 && value <= 100)) {
    fail('INVALID_OPTION', `${what}: percentile must be null or a number from 0 to 100, got ${describeValue(value)}.`);
  }
  // MONAI tests `if not percentile`: 0 means the maximum, like null.
  return value === 0 ? null : value;
}

function toleranceOption(value: unknown, needed: boolean, kept: number, what: string): number[] {
  if (value === undefined) return new Array<number>(kept).fill(0);
  const check = (t: unknown): number => {
    if (typeof t !== 'number' || !(t >= 0) || !Number.isFinite(t)) {
      fail('INVALID_OPTION', `${what}: tolerances must be finite numbers >= 0, got ${describeValue(t)}.`);
    }
    return requireF32('tolerance', t);
  };
  if (!needed) fail('INVALID_OPTION', `${what}: tolerance is the surface Dice's; add 'nsd' to metrics or omit it.`);
  if (typeof value === 'number') return new Array<number>(kept).fill(check(value));
  if (!Array.isArray(value))
    fail('INVALID_OPTION', `${what}: tolerance must be a number or a list, got ${describeValue(value)}.`);
  if (value.length !== kept) {
    fail(
      'INVALID_OPTION',
      `${what}: tolerance has ${value.length} entries for ${kept} classes reported; give one per class reported (or one number).`,
    );
  }
  return value.map(check);
}

const HAUSDORFF_DT_OPTIONS = [
  'formula',
  'shape',
  'layout',
  'activation',
  'target',
  'alpha',
  'includeBackground',
  'batch',
  'reduction',
  'log',
  'predType',
  'gradType',
  'label',
];

/** True when loss() options ask for the Hausdorff-DT loss (a branch point in DiceEngine.loss). */
export function isHausdorffDTOptions(options: unknown): options is HausdorffDTOptions {
  return (
    typeof options === 'object' && options !== null && (options as { formula?: unknown }).formula === 'hausdorff-dt'
  );
}

export function normalizeHausdorffDTOptions(given: HausdorffDTOptions): NormalizedHausdorffDT {
  const what = "engine.loss({ formula: 'hausdorff-dt' })";
  const o = ownOptions<HausdorffDTOptions>('hausdorff-dt loss option', given, HAUSDORFF_DT_OPTIONS);
  const geometry = surfaceGeometry(o.shape, o.layout, what);
  checkClassLimit(geometry, what);
  const alpha = o.alpha === undefined ? 2 : requireF32('alpha', o.alpha);
  if (alpha < 0) {
    fail(
      'INVALID_OPTION',
      `${what}: alpha must be >= 0 (0^alpha of an empty field is infinite below 0), got ${alpha}.`,
    );
  }
  return {
    geometry,
    activation: oneOf('activation', o.activation, ['none', 'sigmoid', 'softmax'], 'none'),
    target: inputKind('target', o.target, 'dense'),
    alpha,
    firstClass: firstClass(optionalBoolean('includeBackground', o.includeBackground, true), geometry, what),
    batch: optionalBoolean('batch', o.batch, false),
    reduction: oneOf('reduction', o.reduction, ['mean', 'sum', 'none'], 'mean'),
    log: optionalBoolean('log', o.log, false),
    predType: oneOf('predType', o.predType, ['f32', 'f16'] as const, 'f32'),
    gradType: oneOf('gradType', o.gradType, ['f32', 'f16'] as const, 'f32'),
    label: optionalLabel(o.label, 'wgsl-dice hausdorff-dt loss'),
  };
}

/** The family's `boundary` option (engine.loss({ ..., boundary })), checked against the loss's other options. */
export function familyBoundary(
  value: unknown,
  loss: {
    shape?: unknown;
    layout: SurfaceLayout;
    activation: string;
    mask?: unknown;
    ignoreIndex?: unknown;
    predType?: unknown;
    gradType?: unknown;
  },
): NormalizedBoundary {
  const what = 'boundary';
  if ((loss.mask !== undefined && loss.mask !== 'none') || loss.ignoreIndex !== undefined) {
    fail(
      'INVALID_OPTION',
      `${what}: the boundary term takes no mask and no ignoreIndex; drop them or the boundary term.`,
    );
  }
  if (!['none', 'sigmoid', 'softmax', 'tanh'].includes(loss.activation)) {
    fail('INVALID_OPTION', `${what}: the boundary term needs an activation of none, sigmoid, softmax or tanh.`);
  }
  const g = surfaceGeometry(loss.shape, loss.layout, what);
  const o = ownOptions<BoundaryOptions>('boundary option', value, ['lambda', 'includeBackground', 'spacing']);
  const lambda = o.lambda === undefined ? 1 : requireF32('boundary.lambda', o.lambda);
  const includeBackground = optionalBoolean('boundary.includeBackground', o.includeBackground, false);
  const spacing = spacingPerSample(o.spacing, g, what);
  return {
    geometry: g,
    lambda,
    firstClass: !includeBackground && g.classes > 1 ? 1 : 0,
    distance: distanceMode('euclidean', spacing),
  };
}
