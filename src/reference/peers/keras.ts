// Keras 3 keras.losses.Dice / keras.losses.Tversky, float64, from docs/peer-semantics.md (b.3).
// Keras calls loss(y_true, y_pred); here (as in the vectors) input = y_pred, target = y_true.
// Tensors are used exactly as stored (no layout conversion, no activation, no label maps).

import { type Options, Opts } from '../../peers/options.js';
import { type Tensor, normAxis, scalar, shapesEqual, sumAll, sumAxes, tensor, zip } from '../../peers/tensor.js';
import { KERAS_DICE_DEFAULTS, KERAS_EPSILON, KERAS_TVERSKY_DEFAULTS } from '../../peers/keras.js';

type KerasReduction = 'sum_over_batch_size' | 'sum' | 'mean' | 'mean_with_sample_weight' | 'none' | null;

/**
 * Keras 3 `reduce_values` without sample weights: None / "none" (or a 0-d loss) → unchanged;
 * "sum" → Σ; "sum_over_batch_size" / "mean" / "mean_with_sample_weight" → Σ / number of elements.
 */
function kerasReduce(values: Tensor, reduction: KerasReduction): Tensor {
  if (reduction === null || reduction === 'none' || values.shape.length === 0) return values;
  const total = sumAll(values);
  if (reduction === 'sum') return scalar(total);
  const n = values.data.length;
  return scalar(n === 0 ? 0 : total / n); // divide_no_nan
}

function readReduction(o: Opts): KerasReduction {
  const r = o.raw('reduction');
  if (r === null) return null;
  return o.oneOf('reduction', ['sum_over_batch_size', 'sum', 'mean', 'mean_with_sample_weight', 'none'] as const);
}

/** Sum over `axis` (null = all axes → 0-d). */
function sumOver(t: Tensor, axis: number[] | null): Tensor {
  if (axis === null) return scalar(sumAll(t));
  const rank = t.shape.length;
  return sumAxes(
    t,
    axis.map((a) => normAxis(a, rank)),
  );
}

function checkShapes(api: string, yPred: Tensor, yTrue: Tensor): void {
  if (!shapesEqual(yPred.shape, yTrue.shape)) {
    throw new Error(`${api}: y_true [${yTrue.shape}] and y_pred [${yPred.shape}] must have the same shape`);
  }
}

/**
 * loss = 1 − 2·Σ(y_true·y_pred) / (Σy_true + Σy_pred + 1e-7), sums over `axis`
 * (None = all axes: batch and classes pooled into one Dice).
 */
export function dice(options: Options, yPred: Tensor, yTrue: Tensor): Tensor {
  const o = new Opts('keras.losses.Dice', options, KERAS_DICE_DEFAULTS);
  checkShapes(o.api, yPred, yTrue);
  const axis = o.intsOrNull('axis');
  const inter = sumOver(
    zip(yTrue, yPred, (t, p) => t * p),
    axis,
  );
  const st = sumOver(yTrue, axis);
  const sp = sumOver(yPred, axis);
  const loss = tensor(inter.shape);
  for (let i = 0; i < loss.data.length; i++) {
    loss.data[i] = 1 - (2 * inter.data[i]) / (st.data[i] + sp.data[i] + KERAS_EPSILON);
  }
  return kerasReduce(loss, readReduction(o));
}

/**
 * loss = 1 − I / (I + α·Σ(1−t)·p + β·Σt·(1−p) + 1e-7), α weighting false positives
 * (checked by vector keras-TverskyTest-test_binary_segmentation_custom_coefficients_with_axis).
 * Values outside [0, 1] are used as given (test_correctness gives a negative loss).
 */
export function tversky(options: Options, yPred: Tensor, yTrue: Tensor): Tensor {
  const o = new Opts('keras.losses.Tversky', options, KERAS_TVERSKY_DEFAULTS);
  checkShapes(o.api, yPred, yTrue);
  const axis = o.intsOrNull('axis');
  const alpha = o.num('alpha');
  const beta = o.num('beta');
  const tp = sumOver(
    zip(yTrue, yPred, (t, p) => t * p),
    axis,
  );
  const fp = sumOver(
    zip(yTrue, yPred, (t, p) => (1 - t) * p),
    axis,
  );
  const fn = sumOver(
    zip(yTrue, yPred, (t, p) => t * (1 - p)),
    axis,
  );
  const loss = tensor(tp.shape);
  for (let i = 0; i < loss.data.length; i++) {
    loss.data[i] = 1 - tp.data[i] / (tp.data[i] + alpha * fp.data[i] + beta * fn.data[i] + KERAS_EPSILON);
  }
  return kerasReduce(loss, readReduction(o));
}
