// qubvel segmentation_models (Keras) losses and metrics, float64, from docs/peer-semantics.md (b.3):
// DiceLoss = 1 − f_score, JaccardLoss = 1 − iou_score, metrics FScore / IOUScore (with threshold).
// Keras image_data_format decides the axes: channels_last (default) reduces [1, 2] (+0),
// channels_first [2, 3] (+0). Inputs are used exactly as stored.

import { type Options, Opts } from '../../peers/options.js';
import {
  type Tensor,
  meanAxes,
  normAxis,
  scalar,
  shapesEqual,
  sumAll,
  sumAxes,
  take,
  tensor,
  zip,
} from '../../peers/tensor.js';
import {
  QSM_DICE_LOSS_DEFAULTS,
  QSM_FSCORE_DEFAULTS,
  QSM_IOU_DEFAULTS,
  QSM_JACCARD_LOSS_DEFAULTS,
} from '../../peers/qsm.js';

interface Common {
  classWeights: number | number[];
  classIndexes: number[] | null;
  perImage: boolean;
  smooth: number;
  threshold: number | null;
  channelsLast: boolean;
}

function readCommon(o: Opts, channelsLast: boolean, hasThreshold: boolean): Common {
  const cw = o.numOrList('class_weights');
  return {
    classWeights: cw ?? 1,
    classIndexes: o.intsOrNull('class_indexes'),
    perImage: o.bool('per_image'),
    smooth: o.num('smooth'),
    threshold: hasThreshold ? o.numOrNull('threshold') : null,
    channelsLast,
  };
}

/**
 * gather_channels → round_if_needed (p > threshold) → per-axis sums over [1, 2] / [2, 3] (+ batch unless
 * per_image) → `score(tp, Σp, Σg)` → average: per_image → mean over the batch axis; × class_weights
 * (broadcast on the last axis); mean of everything.
 */
function qsmScore(
  api: string,
  gt: Tensor,
  pr: Tensor,
  c: Common,
  score: (tp: number, sp: number, sg: number) => number,
): number {
  if (!shapesEqual(gt.shape, pr.shape))
    throw new Error(`${api}: gt [${gt.shape}] and pr [${pr.shape}] must have the same shape`);
  const rank = gt.shape.length;
  let g = gt;
  let p = pr;
  if (c.classIndexes !== null) {
    const chAxis = c.channelsLast ? rank - 1 : 1;
    g = take(g, chAxis, c.classIndexes);
    p = take(p, chAxis, c.classIndexes);
  }
  if (c.threshold !== null) {
    const thr = c.threshold;
    p = { shape: p.shape, data: p.data.map((v) => (v > thr ? 1 : 0)) };
  }
  const axes = (c.channelsLast ? [1, 2] : [2, 3]).map((a) => normAxis(a, rank));
  if (!c.perImage) axes.unshift(0);
  const tp = sumAxes(
    zip(g, p, (a, b) => a * b),
    axes,
  );
  const sp = sumAxes(p, axes);
  const sg = sumAxes(g, axes);
  let s = tensor(tp.shape);
  for (let i = 0; i < s.data.length; i++) s.data[i] = score(tp.data[i], sp.data[i], sg.data[i]);
  if (c.perImage) s = meanAxes(s, [0]);
  const w = c.classWeights;
  if (typeof w !== 'number' || w !== 1) {
    const wt = typeof w === 'number' ? scalar(w) : tensor([w.length], w);
    s = zip(s, wt, (a, b) => a * b);
  }
  return sumAll(s) / s.data.length;
}

const fScoreOf =
  (beta: number, smooth: number) =>
  (tp: number, sp: number, sg: number): number => {
    const fp = sp - tp;
    const fn = sg - tp;
    const b2 = beta * beta;
    return ((1 + b2) * tp + smooth) / ((1 + b2) * tp + b2 * fn + fp + smooth);
  };

const iouOf =
  (smooth: number) =>
  (tp: number, sp: number, sg: number): number =>
    (tp + smooth) / (sg + sp - tp + smooth);

/** segmentation_models.losses.DiceLoss: 1 − f_score(beta) (no threshold). */
export function diceLoss(options: Options, pr: Tensor, gt: Tensor, channelsLast = true): Tensor {
  const o = new Opts('segmentation_models.losses.DiceLoss', options, QSM_DICE_LOSS_DEFAULTS);
  const c = readCommon(o, channelsLast, false);
  return scalar(1 - qsmScore(o.api, gt, pr, c, fScoreOf(o.num('beta'), c.smooth)));
}

/** segmentation_models.losses.JaccardLoss: 1 − iou_score (no threshold). */
export function jaccardLoss(options: Options, pr: Tensor, gt: Tensor, channelsLast = true): Tensor {
  const o = new Opts('segmentation_models.losses.JaccardLoss', options, QSM_JACCARD_LOSS_DEFAULTS);
  const c = readCommon(o, channelsLast, false);
  return scalar(1 - qsmScore(o.api, gt, pr, c, iouOf(c.smooth)));
}

/** segmentation_models.metrics.FScore: f_score with optional threshold. */
export function fScore(options: Options, pr: Tensor, gt: Tensor, channelsLast = true): Tensor {
  const o = new Opts('segmentation_models.metrics.FScore', options, QSM_FSCORE_DEFAULTS);
  const c = readCommon(o, channelsLast, true);
  return scalar(qsmScore(o.api, gt, pr, c, fScoreOf(o.num('beta'), c.smooth)));
}

/** segmentation_models.metrics.IOUScore: iou_score with optional threshold. */
export function iouScore(options: Options, pr: Tensor, gt: Tensor, channelsLast = true): Tensor {
  const o = new Opts('segmentation_models.metrics.IOUScore', options, QSM_IOU_DEFAULTS);
  const c = readCommon(o, channelsLast, true);
  return scalar(qsmScore(o.api, gt, pr, c, iouOf(c.smooth)));
}
