// segmentation_models.pytorch (smp) Dice / Jaccard / Tversky / Focal losses and the functional scores,
// float64, from docs/peer-semantics.md (b.2): current formulas (after PR #927, L1 form of the intersection).

import { bceWithLogits, labelOf, oneHot } from './common.js';
import { type Options, Opts } from '../../peers/options.js';
import { sigmoid, softmax } from '../../peers/activation.js';
import {
  type Tensor,
  map,
  numel,
  reshape,
  scalar,
  shapesEqual,
  sumAll,
  sumAxes,
  tensor,
  zip,
} from '../../peers/tensor.js';
import {
  SCORE_DEFAULTS,
  SMP_FOCAL_DEFAULTS,
  SMP_LOSS_DEFAULTS,
  SMP_TVERSKY_DEFAULTS,
  TVERSKY_SCORE_DEFAULTS,
} from '../../peers/smp.js';

type Mode = 'binary' | 'multiclass' | 'multilabel';
const MODES: readonly Mode[] = ['binary', 'multiclass', 'multilabel'];

// ---------------------------------------------------------------------------------------------
// Functional scores
// ---------------------------------------------------------------------------------------------

/**
 * soft_tversky_score: S_p = Σp, S_g = Σg, D = Σ|p − g| over `dims` (null = all axes);
 * tp = (S_p + S_g − D)/2, fp = S_p − tp, fn = S_g − tp;
 * score = (tp + smooth) / clamp_min(tp + α·fp + β·fn + smooth, eps).
 * Dice: α = β = ½ (→ (2I + 2s)/(Σp + Σg + 2s)); Jaccard: α = β = 1.
 */
export function softTverskyScoreT(
  output: Tensor,
  target: Tensor,
  alpha: number,
  beta: number,
  smooth: number,
  eps: number,
  dims: number[] | null,
): Tensor {
  if (!shapesEqual(output.shape, target.shape)) {
    throw new Error(`soft_tversky_score: output [${output.shape}] and target [${target.shape}] differ in size`);
  }
  const axes = dims ?? [...output.shape.keys()];
  const sp = sumAxes(output, axes);
  const sg = sumAxes(target, axes);
  const d = sumAxes(
    zip(output, target, (a, b) => Math.abs(a - b)),
    axes,
  );
  const score = tensor(sp.shape);
  for (let i = 0; i < score.data.length; i++) {
    const tp = (sp.data[i] + sg.data[i] - d.data[i]) / 2;
    const fp = sp.data[i] - tp;
    const fn = sg.data[i] - tp;
    score.data[i] = (tp + smooth) / Math.max(tp + alpha * fp + beta * fn + smooth, eps);
  }
  return score;
}

export function softDiceScore(options: Options, output: Tensor, target: Tensor): Tensor {
  const o = new Opts('segmentation_models_pytorch.losses._functional.soft_dice_score', options, SCORE_DEFAULTS);
  return softTverskyScoreT(output, target, 0.5, 0.5, o.num('smooth'), o.num('eps'), o.intsOrNull('dims'));
}

export function softJaccardScore(options: Options, output: Tensor, target: Tensor): Tensor {
  const o = new Opts('segmentation_models_pytorch.losses._functional.soft_jaccard_score', options, SCORE_DEFAULTS);
  return softTverskyScoreT(output, target, 1, 1, o.num('smooth'), o.num('eps'), o.intsOrNull('dims'));
}

export function softTverskyScore(options: Options, output: Tensor, target: Tensor): Tensor {
  const o = new Opts(
    'segmentation_models_pytorch.losses._functional.soft_tversky_score',
    options,
    TVERSKY_SCORE_DEFAULTS,
  );
  if (o.isNone('alpha') || o.isNone('beta')) throw new Error(`${o.api}: alpha and beta are required`);
  return softTverskyScoreT(
    output,
    target,
    o.num('alpha'),
    o.num('beta'),
    o.num('smooth'),
    o.num('eps'),
    o.intsOrNull('dims'),
  );
}

// ---------------------------------------------------------------------------------------------
// Shared reshaping of DiceLoss / JaccardLoss / TverskyLoss
// ---------------------------------------------------------------------------------------------

function modeOf(o: Opts): Mode {
  if (o.isNone('mode')) throw new Error(`${o.api}: 'mode' is required (one of ${MODES.join(', ')})`);
  return o.oneOf('mode', MODES);
}

/**
 * 1. from_logits: multiclass → softmax over dim 1 (log_softmax().exp()), else sigmoid (logsigmoid().exp()).
 * 2. binary → (B, 1, N); multiclass → integer target (B, N) → one_hot → (B, C, N); multilabel → (B, C, N).
 *    ignore_index: pred and target zeroed at ignored pixels (multiclass: ignored labels → 0 before
 *    one_hot, then the one-hot columns masked).
 */
function smpPrepare(o: Opts, mode: Mode, yPred: Tensor, yTrue: Tensor): { p: Tensor; g: Tensor } {
  if (yTrue.shape[0] !== yPred.shape[0]) throw new Error(`${o.api}: batch sizes of y_pred and y_true differ`);
  let p = yPred;
  if (o.bool('from_logits')) p = mode === 'multiclass' ? softmax(p, 1) : map(p, sigmoid);
  const bs = yTrue.shape[0];
  const C = p.shape[1];
  const ignore = o.numOrNull('ignore_index');
  if (mode === 'multiclass') {
    const labels = reshape(yTrue, [bs, 1, -1]);
    p = reshape(p, [bs, C, -1]);
    if (ignore === null) return { p, g: oneHot(labels, C) };
    const mask = map(labels, (v) => (v !== ignore ? 1 : 0)); // (B, 1, N)
    p = zip(p, mask, (a, m) => a * m);
    const g = zip(
      oneHot(
        zip(labels, mask, (v, m) => v * m),
        C,
      ),
      mask,
      (a, m) => a * m,
    );
    return { p, g };
  }
  const channels = mode === 'binary' ? 1 : C;
  let g = reshape(yTrue, [bs, channels, -1]);
  p = reshape(p, [bs, channels, -1]);
  if (ignore !== null) {
    const mask = map(g, (v) => (v !== ignore ? 1 : 0));
    p = zip(p, mask, (a, m) => a * m);
    g = zip(g, mask, (a, m) => a * m);
  }
  return { p, g };
}

/** Σ w_c·l_c / Σ w_c over the selected classes (plain mean without class_weights). */
function aggregate(o: Opts, loss: number[], classes: number[] | null, numClasses: number): number {
  const w = o.numOrList('class_weights');
  if (w === null) return loss.reduce((a, b) => a + b, 0) / loss.length;
  let weights: number[];
  if (typeof w === 'number') weights = new Array<number>(loss.length).fill(w);
  else if (classes !== null && w.length === numClasses && w.length !== loss.length)
    weights = classes.map((c) => w[c < 0 ? c + numClasses : c]);
  else if (w.length === loss.length) weights = w;
  else throw new Error(`${o.api}: class_weights has ${w.length} entries for ${loss.length} classes`);
  let num = 0;
  let den = 0;
  loss.forEach((l, i) => {
    num += weights[i] * l;
    den += weights[i];
  });
  return num / den;
}

function smpOverlapLoss(o: Opts, yPred: Tensor, yTrue: Tensor, alpha: number, beta: number, gamma: number): Tensor {
  const mode = modeOf(o);
  const classes = o.intsOrNull('classes');
  if (classes !== null && mode === 'binary')
    throw new Error(`${o.api}: Masking classes is not supported with mode=binary`);
  const { p, g } = smpPrepare(o, mode, yPred, yTrue);
  const eps = o.num('eps');
  // 3. per-class score with dims = (0, 2): always one batch Dice per class.
  const scores = softTverskyScoreT(p, g, alpha, beta, o.num('smooth'), eps, [0, 2]);
  const gSum = sumAxes(g, [0, 2]);
  // 4. loss_c = −log(clamp_min(score, eps)) or 1 − score; loss_c := 0 if the class is absent from the batch.
  let loss = Array.from(scores.data, (s, c) => {
    const l = o.bool('log_loss') ? -Math.log(Math.max(s, eps)) : 1 - s;
    return gSum.data[c] > 0 ? l : 0;
  });
  const C = loss.length;
  if (classes !== null) loss = classes.map((c) => loss[c < 0 ? c + C : c]);
  const agg = aggregate(o, loss, classes, C);
  return scalar(gamma === 1 ? agg : agg ** gamma);
}

export function diceLoss(options: Options, yPred: Tensor, yTrue: Tensor): Tensor {
  const o = new Opts('segmentation_models_pytorch.losses.DiceLoss', options, SMP_LOSS_DEFAULTS);
  return smpOverlapLoss(o, yPred, yTrue, 0.5, 0.5, 1);
}

export function jaccardLoss(options: Options, yPred: Tensor, yTrue: Tensor): Tensor {
  const o = new Opts('segmentation_models_pytorch.losses.JaccardLoss', options, SMP_LOSS_DEFAULTS);
  return smpOverlapLoss(o, yPred, yTrue, 1, 1, 1);
}

/** Tversky: same pipeline, aggregate raised to `gamma`. */
export function tverskyLoss(options: Options, yPred: Tensor, yTrue: Tensor): Tensor {
  const o = new Opts('segmentation_models_pytorch.losses.TverskyLoss', options, SMP_TVERSKY_DEFAULTS);
  return smpOverlapLoss(o, yPred, yTrue, o.num('alpha'), o.num('beta'), o.num('gamma'));
}

// ---------------------------------------------------------------------------------------------
// FocalLoss (best effort: no public vectors exercise it)
// ---------------------------------------------------------------------------------------------

type FocalReduction = 'mean' | 'sum' | 'batchwise_mean' | 'none';

/**
 * focal_loss_with_logits on flat vectors: logpt = BCE (with logits, or on probabilities when
 * from_logits=False, log clamped at −100 like torch), pt = e^{−logpt},
 * focal = (1−pt)^γ (or ((1−pt)/thr)^γ, 1 where pt < thr), loss = focal·logpt·(α t + (1−α)(1−t)),
 * normalized: / clamp_min(Σ focal, eps).
 */
function focalVector(o: Opts, x: number[], t: number[], rows: number): Tensor {
  const gamma = o.num('gamma');
  const alpha = o.numOrNull('alpha');
  const thr = o.numOrNull('reduced_threshold');
  const eps = o.num('eps');
  const fromLogits = o.bool('from_logits');
  const reduction = o.oneOf('reduction', ['mean', 'sum', 'batchwise_mean', 'none'] as const) as FocalReduction;
  const n = x.length;
  const loss = new Array<number>(n);
  let focalSum = 0;
  for (let i = 0; i < n; i++) {
    let logpt: number;
    if (fromLogits) {
      logpt = bceWithLogits(tensor([1], [x[i]]), tensor([1], [t[i]]), { reduction: 'sum' }).data[0];
    } else {
      const lp = Math.max(Math.log(x[i]), -100);
      const l1p = Math.max(Math.log(1 - x[i]), -100);
      logpt = -(t[i] * lp + (1 - t[i]) * l1p);
    }
    const pt = Math.exp(-logpt);
    let focal: number;
    if (thr === null) focal = (1 - pt) ** gamma;
    else focal = pt < thr ? 1 : ((1 - pt) / thr) ** gamma;
    let l = focal * logpt;
    if (alpha !== null) l *= alpha * t[i] + (1 - alpha) * (1 - t[i]);
    loss[i] = l;
    focalSum += focal;
  }
  if (o.bool('normalized')) {
    const norm = Math.max(focalSum, eps);
    for (let i = 0; i < n; i++) loss[i] /= norm;
  }
  const lt = tensor([n], loss);
  if (reduction === 'mean') return scalar(sumAll(lt) / n);
  if (reduction === 'sum') return scalar(sumAll(lt));
  if (reduction === 'batchwise_mean') {
    // loss.sum(0) on the flattened vector = the total
    return scalar(sumAll(lt));
  }
  return reshape(lt, rows > 0 ? [rows, n / rows] : [n]);
}

/**
 * Per-class binary focal loss; multiclass/multilabel average the per-class losses (Σ w·l / Σ w with
 * class_weights), older releases summed them. ignore_index filters pixels out.
 */
export function focalLoss(options: Options, yPred: Tensor, yTrue: Tensor): Tensor {
  const o = new Opts('segmentation_models_pytorch.losses.FocalLoss', options, SMP_FOCAL_DEFAULTS);
  const mode = modeOf(o);
  const ignore = o.numOrNull('ignore_index');
  const perClass: Tensor[] = [];
  if (mode === 'binary') {
    if (yPred.data.length !== yTrue.data.length) throw new Error(`${o.api}: y_pred and y_true sizes differ`);
    const x: number[] = [];
    const t: number[] = [];
    for (let i = 0; i < yTrue.data.length; i++) {
      if (ignore !== null && yTrue.data[i] === ignore) continue;
      x.push(yPred.data[i]);
      t.push(yTrue.data[i]);
    }
    perClass.push(focalVector(o, x, t, 0));
  } else {
    const B = yPred.shape[0];
    const C = yPred.shape[1];
    const N = numel(yPred.shape.slice(2));
    for (let c = 0; c < C; c++) {
      const x: number[] = [];
      const t: number[] = [];
      for (let b = 0; b < B; b++) {
        for (let n = 0; n < N; n++) {
          const xv = yPred.data[(b * C + c) * N + n];
          if (mode === 'multiclass') {
            const lab = yTrue.data[b * N + n];
            if (ignore !== null && lab === ignore) continue;
            x.push(xv);
            t.push(labelOf(lab) === c ? 1 : 0);
          } else {
            const tv = yTrue.data[(b * C + c) * N + n];
            if (ignore !== null && tv === ignore) continue;
            x.push(xv);
            t.push(tv);
          }
        }
      }
      perClass.push(focalVector(o, x, t, 0));
    }
  }
  if (perClass.length === 1) return perClass[0];
  const w = o.numOrList('class_weights');
  const weights = w === null ? perClass.map(() => 1) : typeof w === 'number' ? perClass.map(() => w) : w;
  if (weights.length !== perClass.length)
    throw new Error(`${o.api}: class_weights has ${weights.length} entries for ${perClass.length} classes`);
  const wSum = weights.reduce((a, b) => a + b, 0);
  let acc = map(perClass[0], (v) => (v * weights[0]) / wSum);
  for (let c = 1; c < perClass.length; c++) acc = zip(acc, perClass[c], (a, v) => a + (v * weights[c]) / wSum);
  return acc;
}
