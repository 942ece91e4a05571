// MONAI 1.5.0's surface-distance metrics and Hausdorff distance-transform losses as presets
// (engine.presets.monai.<Api>), with MONAI's option names and defaults (src/peers/monai-surface.ts),
// pred first, channel-first tensors ([B, C, ...spatial]; a layout in extras moves C to axis 1).
// The GPU computes every value (engine.surfaceMetrics, engine.loss({ formula: 'hausdorff-dt' }));
// the host only reshapes, packs label maps and applies aggregate()'s reduction to the [B, C']
// values of a metric class.

import { WgslDiceError } from '../core/errors.js';
import type { LossFactory } from '../losses/factory.js';
import type { HausdorffDTLoss, SurfaceMetrics, SurfaceMetricsResult } from '../losses/surface.js';
import { doMetricReduction } from '../peers/monai.js';
import {
  type AverageSurfaceDistanceSpec,
  type HausdorffDistanceSpec,
  type HausdorffDTLossSpec,
  type MonaiSpacing,
  type SurfaceDiceSpec,
  type SurfaceMetricClass,
  MONAI_SURFACE_DEFAULTS,
  MONAI_SURFACE_METRIC_CLASS_DEFAULTS,
  firstKeptChannel,
  parseAverageSurfaceDistanceOptions,
  parseHausdorffDTLossOptions,
  parseHausdorffDistanceOptions,
  parseSpacingArgument,
  parseSurfaceDiceOptions,
  parseSurfaceMetricClassOptions,
  resolveClassThresholds,
  resolveHausdorffDTChannels,
  resolveSpacing,
} from '../peers/monai-surface.js';
import { type Tensor, tensor, toNested } from '../peers/tensor.js';
import type { HausdorffDTOptions, SurfaceMetricsOptions } from '../spec/surface.js';
import {
  type CreateExtras,
  type HostInput,
  type Options,
  type Preset,
  type PresetExtras,
  type PresetValue,
  PresetLossCache,
  channelFirst,
  checkShape,
  f32,
  labels,
  nested,
  prod,
  toTensor,
} from './common.js';

/** evaluate()'s extras of a metric class: MONAI's `metric(y_pred, y, spacing=...)`. */
export interface SurfaceMetricExtras extends PresetExtras {
  /** None (1 per axis), one number, one per spatial axis, or one such list per batch item. */
  spacing?: MonaiSpacing;
}

/** create()'s extras of a metric class: the spacing its calls will give. */
export interface SurfaceMetricCreateExtras extends CreateExtras {
  spacing?: MonaiSpacing;
}

/**
 * A MONAI surface metric: evaluate() returns what MONAI returns; create() the engine's
 * SurfaceMetrics for y_pred and y of `shape` (channel-first, dense 0/1 f32), whose
 * compute(pred, target) gives the same [B, C'] values (`hausdorff`, `averageSurfaceDistance` or
 * `surfaceDice`).
 */
export interface SurfaceMetricPreset extends Omit<Preset, 'create' | 'evaluate'> {
  /** Extras keys this preset takes besides the shared ones (the metric classes: 'spacing'). */
  readonly extraKeys: readonly string[];
  evaluate(pred: HostInput, target: HostInput, extras?: SurfaceMetricExtras): Promise<PresetValue>;
  create(shape: readonly number[], extras?: SurfaceMetricCreateExtras): Promise<SurfaceMetrics>;
}

/** HausdorffDTLoss / LogHausdorffDTLoss: create() is the engine's HausdorffDTLoss (compute(x, y, { grad: true })). */
export interface HausdorffDTPreset extends Omit<Preset, 'create'> {
  create(shape: readonly number[], extras?: CreateExtras): Promise<HausdorffDTLoss>;
}

type MetricKind = 'hausdorff' | 'asd' | 'nsd';
type MetricSpec = HausdorffDistanceSpec | AverageSurfaceDistanceSpec | SurfaceDiceSpec;

/** Which MONAI function a metric preset is, or runs under its class. */
const FUNCTION_OF = {
  hausdorff: 'compute_hausdorff_distance',
  asd: 'compute_average_surface_distance',
  nsd: 'compute_surface_dice',
} as const;

const CLASS_OF = {
  hausdorff: 'HausdorffDistanceMetric',
  asd: 'SurfaceDistanceMetric',
  nsd: 'SurfaceDiceMetric',
} as const satisfies Record<MetricKind, SurfaceMetricClass>;

/**
 * The engine options of a MONAI metric for y_pred of `shape` (channel-first), from the
 * function's spec and the spacing of the call. Throws MONAI's errors for the shape: rank (surface
 * Dice: 2D or 3D only), thresholds per kept channel, spacing lengths.
 */
function surfaceMetricsOptions(
  api: string,
  kind: MetricKind,
  spec: MetricSpec,
  shape: readonly number[],
  spacing: MonaiSpacing,
  labelMaps: 'u8' | 'u16' | null = null,
  reuseDistances = false,
): SurfaceMetricsOptions {
  if (kind === 'nsd' ? shape.length !== 4 && shape.length !== 5 : shape.length < 3) {
    throw new WgslDiceError(
      'INVALID_SHAPE',
      kind === 'nsd'
        ? `${api}: y_pred and y should be one-hot encoded: [B,C,H,W] or [B,C,H,W,D], got [${shape}].`
        : `${api}: y_pred should have at least three dimensions ([B, C, ...spatial]), got [${shape}].`,
    );
  }
  const [batch, channels, ...spatial] = shape;
  const first = firstKeptChannel(spec.includeBackground, channels);
  const common: SurfaceMetricsOptions = {
    // One-hot masks packed as label maps [B, ...spatial] (see oneHotLabels): C stays the classes.
    ...(labelMaps
      ? { shape: [batch, ...spatial, channels], layout: 'channels-last' as const, target: labelMaps }
      : { shape: [...shape], layout: 'channels-first' as const }),
    // MONAI drops channel 0 only when there are at least two.
    includeBackground: first === 0,
    metric: spec.distanceMetric,
    spacing: resolveSpacing(spacing, batch, spatial.length, api),
    label: api,
  };
  if (reuseDistances) common.reuseDistances = true;
  if (kind === 'hausdorff') {
    const s = spec as HausdorffDistanceSpec;
    return { ...common, metrics: ['hausdorff'], percentile: s.percentile, directed: s.directed };
  }
  if (kind === 'asd') return { ...common, metrics: ['asd'], symmetric: (spec as AverageSurfaceDistanceSpec).symmetric };
  const s = spec as SurfaceDiceSpec;
  return {
    ...common,
    metrics: ['nsd'],
    tolerance: resolveClassThresholds(s, channels - first),
    subvoxels: s.useSubvoxels,
  };
}

function metricValues(kind: MetricKind, r: SurfaceMetricsResult): Float32Array {
  return (kind === 'hausdorff' ? r.hausdorff : kind === 'asd' ? r.averageSurfaceDistance : r.surfaceDice)!;
}

/** A host input, channel-first, as the f32 values the engine takes. */
interface HostValues {
  shape: number[];
  values: Float32Array;
}

/**
 * A host input as channel-first f32 values: a typed array already channel-first (no layout, or C
 * at axis 1) is taken as it is, with no float64 tensor of a CT-sized input in between; nested
 * arrays and other layouts go through the presets' tensors (src/presets/common.ts).
 */
function hostValues(
  x: HostInput,
  shape: readonly number[] | null | undefined,
  name: string,
  layout: string | null | undefined,
): HostValues {
  const numeric =
    ArrayBuffer.isView(x) && !(x instanceof DataView || x instanceof BigInt64Array || x instanceof BigUint64Array);
  if (numeric && (!layout || layout === 'flat' || layout.indexOf('C') <= 1)) {
    if (shape !== null && shape !== undefined) checkShape(shape, `${name} shape`);
    const values = x as unknown as ArrayLike<number>;
    const s = shape ? [...shape] : [values.length];
    if (prod(s) !== values.length) {
      throw new WgslDiceError(
        'SHAPE_MISMATCH',
        `${name} has ${values.length} elements but its shape [${s}] needs more or fewer.`,
      );
    }
    return { shape: s, values: values instanceof Float32Array ? values : Float32Array.from(values) };
  }
  const t = channelFirst(toTensor(x, shape, name), layout);
  return { shape: t.shape, values: f32(t) };
}

/**
 * Channel-first 0/1 masks as the label map [B, ...spatial] (u8, or u16 past 256 channels) whose
 * class c is channel c, for the channels reported from `first` on: each voxel in at most one of
 * them (label 0 where in none) and, when channel 0 is reported too, in channel 0 exactly where in
 * no other (one-hot); a dropped channel 0 may hold any 0/1 pattern. Null for any other masks
 * (overlapping channels, values other than 0 and 1): those go to the GPU as they are, which
 * reports values other than 0 and 1.
 */
function oneHotLabels({ shape, values }: HostValues, first: number): Uint8Array | Uint16Array | null {
  if (shape.length < 3) return null;
  const [batch, channels] = shape;
  const size = values.length / (batch * channels);
  const labels = channels <= 256 ? new Uint8Array(batch * size) : new Uint16Array(batch * size);
  for (let b = 0; b < batch; b++) {
    const out = b * size;
    for (let c = 1; c < channels; c++) {
      const from = (b * channels + c) * size;
      for (let i = 0; i < size; i++) {
        const value = values[from + i];
        if (value === 0) continue;
        if (value !== 1 || labels[out + i] !== 0) return null;
        labels[out + i] = c;
      }
    }
    // Channel 0: one-hot with the others when reported; when dropped, only binary (as the GPU
    // checks every channel of dense masks: the same inputs are refused either way).
    const from = b * channels * size;
    for (let i = 0; i < size; i++) {
      const value = values[from + i];
      if (first === 0 ? value !== (labels[out + i] === 0 ? 1 : 0) : value !== 0 && value !== 1) return null;
    }
  }
  return labels;
}

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/** pred and target channel-first, of one shape (MONAI: "y_pred and y should have same shapes"). */
function metricPair(
  api: string,
  pred: HostInput,
  target: HostInput,
  extras?: PresetExtras,
): { x: HostValues; y: HostValues } {
  const layout = extras?.layout ?? null;
  const x = hostValues(pred, extras?.inputShape, 'y_pred', layout);
  const y = hostValues(target, extras?.targetShape, 'y', layout);
  if (!sameShape(x.shape, y.shape)) {
    throw new WgslDiceError(
      'SHAPE_MISMATCH',
      `${api}: y_pred and y should have same shapes, got [${x.shape}] and [${y.shape}].`,
    );
  }
  return { x, y };
}

/** create() plans channel-first shapes: a layout with C elsewhere is for evaluate(), which moves it. */
function checkCreateLayout(api: string, layout: string | undefined): void {
  const c = layout?.indexOf('C') ?? 1;
  if (c !== 1 && c !== -1) {
    throw new WgslDiceError(
      'NOT_SUPPORTED',
      `${api}: create() plans channel-first data ([B, C, ...spatial]), got layout "${layout}"; move C to axis 1, ` +
        "use evaluate() (which moves it on the host), or engine.surfaceMetrics / engine.loss with layout: 'channels-last'.",
    );
  }
}

export function createMonaiSurfacePresets(factory: LossFactory) {
  const cache = new PresetLossCache(factory);
  const surfaceMetricsFor = (options: SurfaceMetricsOptions) =>
    cache.get('surface-metrics', options, () => factory.surfaceMetrics(options));

  /** A metric function (`compute_*`) or class; `spacingOf` gives the spacing of one call. */
  function metricPreset(
    api: string,
    kind: MetricKind,
    values: Options,
    spec: MetricSpec,
    aggregate: ((f: Tensor) => Tensor) | null,
    spacingOf: (extras?: { spacing?: unknown }) => MonaiSpacing,
  ): SurfaceMetricPreset {
    return {
      api,
      options: values,
      extraKeys: aggregate ? ['spacing'] : [],
      async create(shape, extras = {}) {
        checkCreateLayout(api, extras.layout);
        const options = surfaceMetricsOptions(api, kind, spec, shape, spacingOf(extras));
        const y = extras.targetShape;
        if (y !== undefined && (y.length !== shape.length || y.some((d, i) => d !== shape[i]))) {
          throw new WgslDiceError(
            'SHAPE_MISMATCH',
            `${api}: y_pred and y should have same shapes, got [${shape}] and [${y}].`,
          );
        }
        return factory.surfaceMetrics(options);
      },
      async evaluate(pred, target, extras) {
        const spacing = spacingOf(extras);
        const { x, y } = metricPair(api, pred, target, extras);
        // Masks whose reported channels do not overlap travel as label maps: a byte a voxel
        // instead of C floats, the same values (each class reported is still `label == c`).
        const first = firstKeptChannel(spec.includeBackground, x.shape[1] ?? 1);
        const predLabels = oneHotLabels(x, first);
        const targetLabels = predLabels && oneHotLabels(y, first);
        const packed = predLabels !== null && targetLabels !== null;
        const width = predLabels instanceof Uint16Array ? 'u16' : 'u8';
        const metrics = await surfaceMetricsFor(
          // MONAI's functions take one metric each: evaluate() calls on one pair share the
          // surfaces and distance fields (reuseDistances).
          surfaceMetricsOptions(api, kind, spec, x.shape, spacing, packed ? width : null, true),
        );
        const r = packed ? await metrics.compute(predLabels, targetLabels) : await metrics.compute(x.values, y.values);
        const f = tensor(r.shape, Float64Array.from(metricValues(kind, r)));
        return toNested(aggregate ? aggregate(f) : f) as PresetValue;
      },
    };
  }

  /** `monai.metrics.compute_*(y_pred, y, **options)`: the [B, C'] tensor. */
  const metricFunction =
    (kind: MetricKind) =>
    (options: Options = {}): SurfaceMetricPreset => {
      const api = FUNCTION_OF[kind];
      const spec =
        kind === 'hausdorff'
          ? parseHausdorffDistanceOptions(options, api)
          : kind === 'asd'
            ? parseAverageSurfaceDistanceOptions(options, api)
            : parseSurfaceDiceOptions(options, api);
      return metricPreset(
        `monai.metrics.${api}`,
        kind,
        withDefaults(MONAI_SURFACE_DEFAULTS[api], options),
        spec,
        null,
        () => spec.spacing,
      );
    };

  /**
   * `monai.metrics.<Class>(**options)`: evaluate(y_pred, y, { spacing }) is `metric(y_pred, y,
   * spacing=...)` then `metric.aggregate()` with the class's reduction, as the DiceMetric preset
   * (reduction 'none' returns the [B, C'] values __call__ returns; get_not_nans is accepted, and
   * the value alone returned, as DiceMetric's).
   */
  const metricClass =
    (kind: MetricKind) =>
    (options: Options = {}): SurfaceMetricPreset => {
      const api = CLASS_OF[kind];
      const parsed = parseSurfaceMetricClassOptions(api as 'HausdorffDistanceMetric', options);
      return metricPreset(
        `monai.metrics.${api}`,
        kind,
        withDefaults(MONAI_SURFACE_METRIC_CLASS_DEFAULTS[api], options),
        parsed.spec,
        (f) => doMetricReduction(f, parsed.reduction).value,
        (extras) => parseSpacingArgument(api, extras?.spacing),
      );
    };

  /** `monai.losses.HausdorffDTLoss` / `LogHausdorffDTLoss`: the loss MONAI returns, and its gradient on the GPU path. */
  const lossPreset =
    (name: 'HausdorffDTLoss' | 'LogHausdorffDTLoss') =>
    (options: Options = {}): HausdorffDTPreset => {
      const api = `monai.losses.${name}`;
      const spec = parseHausdorffDTLossOptions(options, name);
      const optionsFor = (shape: readonly number[], targetShape: readonly number[]) =>
        hausdorffDTOptions(api, name === 'LogHausdorffDTLoss', spec, shape, targetShape);
      return {
        api,
        options: withDefaults(MONAI_SURFACE_DEFAULTS.HausdorffDTLoss, options),
        async create(shape, extras = {}) {
          checkCreateLayout(api, extras.layout);
          return factory.loss(optionsFor(shape, extras.targetShape ?? shape));
        },
        async evaluate(pred, target, extras) {
          const layout = extras?.layout ?? null;
          const x = hostValues(pred, extras?.inputShape, 'input', layout);
          // A layout names the input's axes: it moves a target of the input's rank only.
          const targetRank = extras?.targetShape?.length ?? nestedRank(target);
          const y = hostValues(target, extras?.targetShape, 'target', targetRank === x.shape.length ? layout : null);
          const lossOptions = optionsFor(x.shape, y.shape);
          const loss = await cache.get('hausdorff-dt', lossOptions, () => factory.loss(lossOptions));
          const labelMap = lossOptions.target === 'u32';
          const r = await loss.compute(
            x.values,
            labelMap ? labels(tensor(y.shape, Float64Array.from(y.values))) : y.values,
          );
          if (spec.reduction !== 'none') return r.loss;
          // MONAI keeps the reduced axes: [B, C', 1, ...] ([1, C', 1, ...] with batch).
          const [batch, channels, ...spatial] = x.shape;
          const kept = channels - resolveHausdorffDTChannels(spec, channels).firstChannel;
          const rows = spec.batch ? 1 : batch;
          return nested([rows, kept, ...spatial.map(() => 1)], r.values!.subarray(0, rows * kept));
        },
      };
    };

  return {
    compute_hausdorff_distance: metricFunction('hausdorff'),
    HausdorffDistanceMetric: metricClass('hausdorff'),
    compute_average_surface_distance: metricFunction('asd'),
    SurfaceDistanceMetric: metricClass('asd'),
    compute_surface_dice: metricFunction('nsd'),
    SurfaceDiceMetric: metricClass('nsd'),
    HausdorffDTLoss: lossPreset('HausdorffDTLoss'),
    LogHausdorffDTLoss: lossPreset('LogHausdorffDTLoss'),
  };
}

/**
 * The engine options of MONAI's Hausdorff-DT loss for input of `shape` and target of
 * `targetShape` (channel-first), with MONAI's checks: 2D or 3D only, a label map [B, 1, ...] with
 * to_onehot_y (for C > 1), else the input's shape. One channel: softmax, to_onehot_y and
 * include_background=False do nothing (MONAI warns).
 */
function hausdorffDTOptions(
  api: string,
  log: boolean,
  spec: HausdorffDTLossSpec,
  shape: readonly number[],
  targetShape: readonly number[],
): HausdorffDTOptions {
  if (shape.length !== 4 && shape.length !== 5) {
    throw new WgslDiceError(
      'INVALID_SHAPE',
      `${api}: only 2D (NCHW) and 3D (NCDHW) inputs are supported, got input of shape [${shape}].`,
    );
  }
  const [batch, channels, ...spatial] = shape;
  const effective = resolveHausdorffDTChannels(spec, channels);
  const expected = effective.toOnehotY ? [batch, 1, ...spatial] : [...shape];
  if (targetShape.length !== expected.length || targetShape.some((d, i) => d !== expected[i])) {
    throw new WgslDiceError(
      'SHAPE_MISMATCH',
      `${api}: ground truth has different shape ([${targetShape}]) from input ([${shape}])` +
        (effective.toOnehotY
          ? `; with to_onehot_y the target is a label map [${expected}].`
          : targetShape[1] === 1 && channels > 1
            ? '; a label map [B, 1, ...] needs to_onehot_y: true.'
            : '.'),
    );
  }
  return {
    formula: 'hausdorff-dt',
    shape: [...shape],
    layout: 'channels-first',
    activation: effective.sigmoid ? 'sigmoid' : effective.softmax ? 'softmax' : 'none',
    target: effective.toOnehotY ? 'u32' : 'dense',
    alpha: spec.alpha,
    includeBackground: effective.firstChannel === 0,
    batch: spec.batch,
    reduction: spec.reduction,
    log,
    label: api,
  };
}

/** The rank of nested arrays; undefined for typed arrays (their shape comes with the extras). */
function nestedRank(x: HostInput): number | undefined {
  if (!Array.isArray(x)) return undefined;
  let rank = 0;
  for (let level: unknown = x; Array.isArray(level); level = level[0]) rank++;
  return rank;
}

/** The options a preset reports: MONAI's defaults with the given ones over them (required ones as given). */
function withDefaults(defaults: Readonly<Record<string, unknown>>, given: Options): Options {
  const values: Options = {};
  for (const [key, value] of Object.entries(defaults)) {
    const own = Object.hasOwn(given, key) ? given[key] : undefined;
    values[key] = (own === undefined ? value : own) as Options[string];
  }
  return values;
}
