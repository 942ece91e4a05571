// MONAI 1.5 (monai.losses, monai.metrics): every Dice-family API's constructor defaults, and the
// helpers its presets and its float64 reference both follow (do_metric_reduction, iter_).

import { type Options, Opts } from './options.js';
import { type Tensor, map, scalar, tensor } from './tensor.js';

export const ACTIVATION_DEFAULTS = {
  include_background: true,
  to_onehot_y: false,
  sigmoid: false,
  softmax: false,
  other_act: null,
} as const;

/** Reduction, smoothing and batch pooling: the same names and defaults in every Dice loss of MONAI. */
const SMOOTHED_REDUCTION = { reduction: 'mean', smooth_nr: 1e-5, smooth_dr: 1e-5, batch: false } as const;

/** The Dice part DiceLoss, DiceCELoss and DiceFocalLoss share. */
const DICE_PART = { squared_pred: false, jaccard: false, ...SMOOTHED_REDUCTION } as const;

/**
 * Every Dice-family API's constructor defaults, keyed by the name MONAI gives the class or
 * function. Each lists its API's parameters in the constructor's order (messages name them so).
 */
export const MONAI_DEFAULTS = {
  DiceLoss: { ...ACTIVATION_DEFAULTS, ...DICE_PART, weight: null, soft_label: false },
  GeneralizedDiceLoss: {
    ...ACTIVATION_DEFAULTS,
    w_type: 'square',
    ...SMOOTHED_REDUCTION,
    soft_label: false,
  },
  TverskyLoss: {
    ...ACTIVATION_DEFAULTS,
    alpha: 0.5,
    beta: 0.5,
    ...SMOOTHED_REDUCTION,
    soft_label: false,
  },
  FocalLoss: {
    include_background: true,
    to_onehot_y: false,
    gamma: 2.0,
    alpha: null,
    weight: null,
    reduction: 'mean',
    use_softmax: false,
  },
  DiceCELoss: {
    ...ACTIVATION_DEFAULTS,
    ...DICE_PART,
    weight: null,
    lambda_dice: 1.0,
    lambda_ce: 1.0,
    label_smoothing: 0.0,
  },
  DiceFocalLoss: {
    ...ACTIVATION_DEFAULTS,
    ...DICE_PART,
    gamma: 2.0,
    weight: null,
    lambda_dice: 1.0,
    lambda_focal: 1.0,
    alpha: null,
  },
  GeneralizedDiceFocalLoss: {
    ...ACTIVATION_DEFAULTS,
    w_type: 'square',
    ...SMOOTHED_REDUCTION,
    gamma: 2.0,
    weight: null,
    lambda_gdl: 1.0,
    lambda_focal: 1.0,
  },
  GeneralizedWassersteinDiceLoss: {
    dist_matrix: null,
    weighting_mode: 'default',
    reduction: 'mean',
    smooth_nr: 1e-5,
    smooth_dr: 1e-5,
  },
  compute_dice: { include_background: true, ignore_empty: true, num_classes: null },
  DiceMetric: {
    include_background: true,
    reduction: 'mean',
    get_not_nans: false,
    ignore_empty: true,
    num_classes: null,
    return_with_label: false,
  },
  compute_generalized_dice: {
    include_background: true,
    weight_type: 'square',
    sum_over_classes: false,
  },
  GeneralizedDiceScore: { include_background: true, reduction: 'mean', weight_type: 'square' },
  SoftclDiceLoss: { iter_: 3, smooth: 1.0 },
  SoftDiceclDiceLoss: { iter_: 3, alpha: 0.5, smooth: 1.0 },
} satisfies Record<string, Options>;

export type MetricReduction = 'none' | 'mean' | 'sum' | 'mean_batch' | 'sum_batch' | 'mean_channel' | 'sum_channel';

export const METRIC_REDUCTIONS: readonly MetricReduction[] = [
  'none',
  'mean',
  'sum',
  'mean_batch',
  'sum_batch',
  'mean_channel',
  'sum_channel',
];

/**
 * monai.metrics.utils.do_metric_reduction on a [B, C] tensor that may hold NaNs: NaNs are skipped.
 * mean: channel mean over non-NaN (0 if none), then batch mean over samples with ≥ 1 non-NaN.
 * Returns the reduced value and the not-NaN counts MONAI returns with it.
 */
export function doMetricReduction(f: Tensor, reduction: MetricReduction): { value: Tensor; notNans: Tensor } {
  if (f.shape.length !== 2) throw new Error('do_metric_reduction: expected a [B, C] tensor');
  const [B, C] = f.shape;
  if (reduction === 'none') {
    return { value: f, notNans: map(f, (x) => (Number.isNaN(x) ? 0 : 1)) };
  }
  /** Sum and count of the non-NaN values of row b (over classes) or, with `column`, of column c (over samples). */
  const fold = (k: number, column = false): { sum: number; count: number } => {
    let sum = 0;
    let count = 0;
    for (let i = 0; i < (column ? B : C); i++) {
      const x = f.data[column ? i * C + k : k * C + i];
      if (Number.isNaN(x)) continue;
      sum += x;
      count += 1;
    }
    return { sum, count };
  };
  switch (reduction) {
    case 'mean': {
      let sum = 0;
      let rowsWithValues = 0;
      for (let b = 0; b < B; b++) {
        const r = fold(b);
        if (r.count > 0) {
          sum += r.sum / r.count;
          rowsWithValues += 1;
        }
      }
      return { value: scalar(rowsWithValues > 0 ? sum / rowsWithValues : 0), notNans: scalar(rowsWithValues) };
    }
    case 'sum': {
      let sum = 0;
      let count = 0;
      for (let b = 0; b < B; b++) {
        const r = fold(b);
        sum += r.sum;
        count += r.count;
      }
      return { value: scalar(sum), notNans: scalar(count) };
    }
    case 'mean_batch':
    case 'sum_batch':
    case 'mean_channel':
    case 'sum_channel': {
      // _batch reduces over the samples (one value per class), _channel over the classes.
      const overBatch = reduction.endsWith('_batch');
      const n = overBatch ? C : B;
      const value = tensor([n]);
      const notNans = tensor([n]);
      for (let k = 0; k < n; k++) {
        const r = fold(k, overBatch);
        value.data[k] = reduction.startsWith('sum') ? r.sum : r.count > 0 ? r.sum / r.count : 0;
        notNans.data[k] = r.count;
      }
      return { value, notNans };
    }
    default:
      throw new Error(`do_metric_reduction: unknown reduction ${String(reduction)}`);
  }
}

/** iter_ as MONAI's range(iter_) takes it: an integer >= 0. */
export function skeletonIterationsOf(o: Opts): number {
  const iterations = o.num('iter_');
  if (!Number.isInteger(iterations) || iterations < 0)
    throw new Error(`${o.api}: iter_ must be an integer >= 0, got ${iterations}`);
  return iterations;
}
