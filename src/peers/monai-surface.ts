import { WgslDiceError } from '../core/errors.js';
import { closestName } from '../core/validate.js';
import { METRIC_REDUCTIONS, type MetricReduction } from './monai.js';
// MONAI 1.5.0's surface-distance metrics and Hausdorff distance-transform losses: their options,
// with MONAI's names and defaults, checked and normalised; and the option semantics that need
// the input's shape (MONAI's `prepare_spacing`, the background-channel rule, the one-channel
// special cases of the losses, the per-class thresholds of surface Dice).
//
// Shared by the float64 reference (src/reference/surface/monai.ts) and the GPU presets: the
// peers' facts live in peers/, never in the oracle.
//
// What MONAI accepts and what it does with it is summarised in test/fixtures/README.md
// (surface-public.jsonl.gz) and in the comments below; MONAI sources: monai/metrics/
// hausdorff_distance.py, surface_distance.py, surface_dice.py, utils.py (prepare_spacing,
// ignore_background) and monai/losses/hausdorff_loss.py, tag 1.5.0.

type MonaiOptionErrorCode = 'UNKNOWN_OPTION' | 'INVALID_OPTION' | 'INVALID_SHAPE' | 'INVALID_INPUT';

function fail(code: MonaiOptionErrorCode, message: string): never {
  throw new WgslDiceError(code, message);
}

export const SURFACE_DISTANCE_METRICS = ['euclidean', 'chessboard', 'taxicab'] as const;
export type SurfaceDistanceMetric = (typeof SURFACE_DISTANCE_METRICS)[number];

/**
 * MONAI's `spacing` argument as given: None, one number for every axis, one number per spatial
 * axis, or one such list per batch item. Only `euclidean` uses it.
 */
export type MonaiSpacing = null | number | readonly number[] | readonly (readonly number[])[];

export interface HausdorffDistanceSpec {
  includeBackground: boolean;
  distanceMetric: SurfaceDistanceMetric;
  /** null (or 0, which MONAI treats as "no percentile"): the maximum. */
  percentile: number | null;
  directed: boolean;
  spacing: MonaiSpacing;
}

export interface AverageSurfaceDistanceSpec {
  includeBackground: boolean;
  symmetric: boolean;
  distanceMetric: SurfaceDistanceMetric;
  spacing: MonaiSpacing;
}

export interface SurfaceDiceSpec {
  /** One tolerance per channel that is kept (after the background channel is dropped). */
  classThresholds: number[];
  includeBackground: boolean;
  distanceMetric: SurfaceDistanceMetric;
  spacing: MonaiSpacing;
  useSubvoxels: boolean;
}

export type HausdorffDTReduction = 'mean' | 'sum' | 'none';

export interface HausdorffDTLossSpec {
  alpha: number;
  includeBackground: boolean;
  toOnehotY: boolean;
  sigmoid: boolean;
  softmax: boolean;
  reduction: HausdorffDTReduction;
  batch: boolean;
}

/** MONAI 1.5.0's defaults, keyed by the API name MONAI uses. */
export const MONAI_SURFACE_DEFAULTS = {
  compute_hausdorff_distance: {
    include_background: false,
    distance_metric: 'euclidean',
    percentile: null,
    directed: false,
    spacing: null,
  },
  compute_average_surface_distance: {
    include_background: false,
    symmetric: false,
    distance_metric: 'euclidean',
    spacing: null,
  },
  compute_surface_dice: {
    class_thresholds: undefined, // required
    include_background: false,
    distance_metric: 'euclidean',
    spacing: null,
    use_subvoxels: false,
  },
  HausdorffDTLoss: {
    alpha: 2.0,
    include_background: false,
    to_onehot_y: false,
    sigmoid: false,
    softmax: false,
    other_act: null,
    reduction: 'mean',
    batch: false,
  },
} as const;

type Given = Readonly<Record<string, unknown>> | null | undefined;

/** The given options over the defaults; unknown names rejected (undefined counts as absent). */
function merge(api: string, given: Given, defaults: Readonly<Record<string, unknown>>): Record<string, unknown> {
  if (given !== null && given !== undefined && (typeof given !== 'object' || Array.isArray(given))) {
    fail('INVALID_OPTION', `${api}: options must be an object of MONAI keyword arguments, got ${describe(given)}`);
  }
  const values: Record<string, unknown> = { ...defaults };
  for (const [key, value] of Object.entries(given ?? {})) {
    if (!Object.prototype.hasOwnProperty.call(defaults, key)) {
      const near = closestName(key, Object.keys(defaults));
      fail(
        'UNKNOWN_OPTION',
        `${api}: unknown option '${key}'${near ? ` (did you mean '${near}'?)` : ''}. MONAI's options are: ${Object.keys(defaults).join(', ')}`,
      );
    }
    if (value !== undefined) values[key] = value;
  }
  return values;
}

function describe(value: unknown): string {
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function bool(api: string, values: Record<string, unknown>, key: string): boolean {
  const v = values[key];
  if (typeof v !== 'boolean')
    fail('INVALID_OPTION', `${api}: option '${key}' must be true or false, got ${describe(v)}`);
  return v;
}

function distanceMetric(api: string, values: Record<string, unknown>): SurfaceDistanceMetric {
  const v = values.distance_metric;
  if (typeof v !== 'string' || !(SURFACE_DISTANCE_METRICS as readonly string[]).includes(v)) {
    fail(
      'INVALID_OPTION',
      `${api}: option 'distance_metric' must be one of ${SURFACE_DISTANCE_METRICS.map((m) => `'${m}'`).join(', ')}, got ${describe(v)}`,
    );
  }
  return v as SurfaceDistanceMetric;
}

function isSpacingNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0;
}

/**
 * The `spacing` option's form only; its lengths depend on the input (see {@link resolveSpacing}).
 * Spacings must be finite and positive (MONAI passes anything on to scipy).
 */
function spacingOption(api: string, values: Record<string, unknown>): MonaiSpacing {
  const v = values.spacing;
  const bad = (why: string): never =>
    fail(
      'INVALID_OPTION',
      `${api}: option 'spacing' ${why}, got ${describe(v)}. Give null (1 per axis), one positive number, ` +
        'one positive number per spatial axis, or one such list per batch item',
    );
  if (v === null) return null;
  if (typeof v === 'number') {
    if (!isSpacingNumber(v)) bad('must be finite and positive');
    return v;
  }
  if (!Array.isArray(v) || v.length === 0) return bad('has the wrong form');
  if (v.every((s) => typeof s === 'number')) {
    if (!v.every(isSpacingNumber)) bad('must hold finite positive numbers');
    return [...(v as number[])];
  }
  if (v.every((s) => Array.isArray(s))) {
    if (!v.every((s: unknown[]) => s.length > 0 && s.every(isSpacingNumber)))
      bad('must hold lists of finite positive numbers');
    return (v as number[][]).map((s) => [...s]);
  }
  return bad('mixes numbers and lists (MONAI: "its elements should be of same type")');
}

/** `compute_hausdorff_distance(y_pred, y, **options)`. */
export function parseHausdorffDistanceOptions(
  options?: Given,
  api = 'compute_hausdorff_distance',
): HausdorffDistanceSpec {
  const values = merge(api, options, MONAI_SURFACE_DEFAULTS.compute_hausdorff_distance);
  const p = values.percentile;
  if (p !== null && !(typeof p === 'number' && Number.isFinite(p) && p >= 0 && p <= 100)) {
    fail('INVALID_OPTION', `${api}: option 'percentile' must be null or a number from 0 to 100, got ${describe(p)}`);
  }
  return {
    includeBackground: bool(api, values, 'include_background'),
    distanceMetric: distanceMetric(api, values),
    // MONAI tests `if not percentile`: 0 means the maximum, like None.
    percentile: p === 0 ? null : (p as number | null),
    directed: bool(api, values, 'directed'),
    spacing: spacingOption(api, values),
  };
}

/** `compute_average_surface_distance(y_pred, y, **options)`. */
export function parseAverageSurfaceDistanceOptions(
  options?: Given,
  api = 'compute_average_surface_distance',
): AverageSurfaceDistanceSpec {
  const values = merge(api, options, MONAI_SURFACE_DEFAULTS.compute_average_surface_distance);
  return {
    includeBackground: bool(api, values, 'include_background'),
    symmetric: bool(api, values, 'symmetric'),
    distanceMetric: distanceMetric(api, values),
    spacing: spacingOption(api, values),
  };
}

/** `compute_surface_dice(y_pred, y, class_thresholds, **options)`: `class_thresholds` is required. */
export function parseSurfaceDiceOptions(options?: Given, api = 'compute_surface_dice'): SurfaceDiceSpec {
  const values = merge(api, options, MONAI_SURFACE_DEFAULTS.compute_surface_dice);
  const t = values.class_thresholds;
  if (t === undefined) {
    fail('INVALID_OPTION', `${api}: option 'class_thresholds' is required: one tolerance per class, e.g. [1.0, 2.0]`);
  }
  if (!Array.isArray(t) || t.length === 0 || !t.every((x) => typeof x === 'number')) {
    fail('INVALID_OPTION', `${api}: option 'class_thresholds' must be a non-empty list of numbers, got ${describe(t)}`);
  }
  if (!t.every((x: number) => Number.isFinite(x)))
    fail('INVALID_OPTION', `${api}: all class thresholds need to be finite, got ${describe(t)}`);
  if (!t.every((x: number) => x >= 0))
    fail('INVALID_OPTION', `${api}: all class thresholds need to be >= 0, got ${describe(t)}`);
  const spec: SurfaceDiceSpec = {
    classThresholds: [...(t as number[])],
    includeBackground: bool(api, values, 'include_background'),
    distanceMetric: distanceMetric(api, values),
    spacing: spacingOption(api, values),
    useSubvoxels: bool(api, values, 'use_subvoxels'),
  };
  if (spec.useSubvoxels && typeof spec.spacing === 'number') {
    // MONAI: get_code_to_measure_table calls len(spacing) and raises a TypeError.
    fail(
      'INVALID_OPTION',
      `${api}: with use_subvoxels, give 'spacing' per axis (e.g. [${spec.spacing}, ${spec.spacing}]): MONAI raises a TypeError for a single number`,
    );
  }
  return spec;
}

/** `HausdorffDTLoss(**options)` and `LogHausdorffDTLoss(**options)` (same constructor). */
export function parseHausdorffDTLossOptions(
  options?: Given,
  api: 'HausdorffDTLoss' | 'LogHausdorffDTLoss' = 'HausdorffDTLoss',
): HausdorffDTLossSpec {
  const values = merge(api, options, MONAI_SURFACE_DEFAULTS.HausdorffDTLoss);
  if (values.other_act !== null) {
    fail(
      'INVALID_OPTION',
      `${api}: option 'other_act' (a Python callable) is not supported: apply the activation yourself and pass probabilities, or use sigmoid / softmax`,
    );
  }
  const alpha = values.alpha;
  if (typeof alpha !== 'number' || !Number.isFinite(alpha))
    fail('INVALID_OPTION', `${api}: option 'alpha' must be a finite number, got ${describe(alpha)}`);
  const reduction = values.reduction;
  if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none') {
    fail('INVALID_OPTION', `${api}: option 'reduction' must be 'mean', 'sum' or 'none', got ${describe(reduction)}`);
  }
  const spec: HausdorffDTLossSpec = {
    alpha,
    includeBackground: bool(api, values, 'include_background'),
    toOnehotY: bool(api, values, 'to_onehot_y'),
    sigmoid: bool(api, values, 'sigmoid'),
    softmax: bool(api, values, 'softmax'),
    reduction,
    batch: bool(api, values, 'batch'),
  };
  if (spec.sigmoid && spec.softmax) {
    fail(
      'INVALID_OPTION',
      `${api}: sigmoid and softmax are both true; MONAI raises "Incompatible values: more than 1 of [sigmoid=True, softmax=True, other_act is not None]"`,
    );
  }
  return spec;
}

// ---------------------------------------------------------------------------------------------
// Semantics that need the input's shape
// ---------------------------------------------------------------------------------------------

/**
 * MONAI's `ignore_background`: channel 0 is dropped only when there are at least two channels.
 * Returns the index of the first channel kept.
 */
export function firstKeptChannel(includeBackground: boolean, channels: number): number {
  return !includeBackground && channels > 1 ? 1 : 0;
}

/**
 * MONAI's `prepare_spacing`, with None as 1 per axis: one spacing per batch item, one number per
 * spatial axis. Rejects lists whose lengths match neither the spatial dimensions nor the batch.
 */
export function resolveSpacing(
  spacing: MonaiSpacing,
  batchSize: number,
  spatialDims: number,
  api = 'spacing',
): number[][] {
  const perItem = (s: readonly number[]): number[] => [...s];
  if (spacing === null) return Array.from({ length: batchSize }, () => new Array<number>(spatialDims).fill(1));
  if (typeof spacing === 'number')
    return Array.from({ length: batchSize }, () => new Array<number>(spatialDims).fill(spacing));
  if (typeof spacing[0] === 'number') {
    const s = spacing as readonly number[];
    if (s.length !== spatialDims) {
      fail(
        'INVALID_OPTION',
        `${api}: 'spacing' is a list of ${s.length} numbers but the input has ${spatialDims} spatial dimensions: give one number per spatial axis`,
      );
    }
    return Array.from({ length: batchSize }, () => perItem(s));
  }
  const lists = spacing as readonly (readonly number[])[];
  if (lists.length !== batchSize) {
    fail(
      'INVALID_OPTION',
      `${api}: 'spacing' is a list of ${lists.length} lists but the batch has ${batchSize} items: give one list per batch item`,
    );
  }
  for (const s of lists) {
    if (s.length !== spatialDims) {
      fail(
        'INVALID_OPTION',
        `${api}: each list in 'spacing' needs ${spatialDims} numbers (one per spatial axis), got ${describe(s)}`,
      );
    }
  }
  return lists.map(perItem);
}

/** The thresholds of the channels kept; MONAI raises when their count differs from the channels'. */
export function resolveClassThresholds(spec: SurfaceDiceSpec, keptChannels: number): number[] {
  if (spec.classThresholds.length !== keptChannels) {
    fail(
      'INVALID_OPTION',
      `compute_surface_dice: number of classes (${keptChannels}, after include_background=${spec.includeBackground}) ` +
        `does not match number of class thresholds (${spec.classThresholds.length})`,
    );
  }
  return spec.classThresholds;
}

/** What a Hausdorff DT loss really does for an input with `predChannels` channels. */
export interface HausdorffDTEffective {
  sigmoid: boolean;
  softmax: boolean;
  toOnehotY: boolean;
  /** Index of the first channel the loss covers (1 when the background channel is dropped). */
  firstChannel: number;
}

/**
 * MONAI ignores `softmax`, `to_onehot_y` and `include_background: false` for a one-channel input
 * (it warns); `sigmoid` always applies.
 */
export function resolveHausdorffDTChannels(spec: HausdorffDTLossSpec, predChannels: number): HausdorffDTEffective {
  const several = predChannels > 1;
  return {
    sigmoid: spec.sigmoid,
    softmax: spec.softmax && several,
    toOnehotY: spec.toOnehotY && several,
    firstChannel: !spec.includeBackground && several ? 1 : 0,
  };
}

// ---------------------------------------------------------------------------------------------
// The cumulative metric classes
// ---------------------------------------------------------------------------------------------

/**
 * MONAI 1.5.0's metric classes over the same functions: the function's options but `spacing`
 * (their `__call__(y_pred, y, spacing=...)` takes it), then `reduction` and `get_not_nans` for
 * `aggregate()`. Keys in each constructor's order.
 */
export const MONAI_SURFACE_METRIC_CLASS_DEFAULTS = {
  HausdorffDistanceMetric: {
    include_background: false,
    distance_metric: 'euclidean',
    percentile: null,
    directed: false,
    reduction: 'mean',
    get_not_nans: false,
  },
  SurfaceDistanceMetric: {
    include_background: false,
    symmetric: false,
    distance_metric: 'euclidean',
    reduction: 'mean',
    get_not_nans: false,
  },
  SurfaceDiceMetric: {
    class_thresholds: undefined, // required
    include_background: false,
    distance_metric: 'euclidean',
    reduction: 'mean',
    get_not_nans: false,
    use_subvoxels: false,
  },
} as const;

export type SurfaceMetricClass = keyof typeof MONAI_SURFACE_METRIC_CLASS_DEFAULTS;

/** A metric class's options: its function's spec (spacing null until a call gives one) and aggregate()'s. */
export interface SurfaceMetricClassSpec<S> {
  spec: S;
  reduction: MetricReduction;
  getNotNans: boolean;
}

/** `HausdorffDistanceMetric(**options)`, `SurfaceDistanceMetric(**options)`, `SurfaceDiceMetric(**options)`. */
export function parseSurfaceMetricClassOptions(
  api: 'HausdorffDistanceMetric',
  options?: Given,
): SurfaceMetricClassSpec<HausdorffDistanceSpec>;
export function parseSurfaceMetricClassOptions(
  api: 'SurfaceDistanceMetric',
  options?: Given,
): SurfaceMetricClassSpec<AverageSurfaceDistanceSpec>;
export function parseSurfaceMetricClassOptions(
  api: 'SurfaceDiceMetric',
  options?: Given,
): SurfaceMetricClassSpec<SurfaceDiceSpec>;
export function parseSurfaceMetricClassOptions(
  api: SurfaceMetricClass,
  options?: Given,
): SurfaceMetricClassSpec<HausdorffDistanceSpec | AverageSurfaceDistanceSpec | SurfaceDiceSpec> {
  const values = merge(api, options, MONAI_SURFACE_METRIC_CLASS_DEFAULTS[api]);
  const { reduction, get_not_nans: getNotNans, ...functional } = values;
  if (typeof reduction !== 'string' || !(METRIC_REDUCTIONS as readonly string[]).includes(reduction)) {
    fail(
      'INVALID_OPTION',
      `${api}: option 'reduction' must be one of ${METRIC_REDUCTIONS.map((r) => `'${r}'`).join(', ')}, got ${describe(reduction)}`,
    );
  }
  const parse = {
    HausdorffDistanceMetric: parseHausdorffDistanceOptions,
    SurfaceDistanceMetric: parseAverageSurfaceDistanceOptions,
    SurfaceDiceMetric: parseSurfaceDiceOptions,
  }[api];
  return {
    spec: parse({ ...functional, spacing: null }, api),
    reduction: reduction as MetricReduction,
    getNotNans: bool(api, { get_not_nans: getNotNans }, 'get_not_nans'),
  };
}

/** The `spacing` keyword of a metric class's `__call__`, checked as the functions' option is. */
export function parseSpacingArgument(api: string, spacing: unknown): MonaiSpacing {
  return spacingOption(api, { spacing: spacing === undefined ? null : spacing });
}
