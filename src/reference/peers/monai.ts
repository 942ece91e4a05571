// MONAI Dice-family losses and metrics, float64, written from docs/peer-semantics.md (b.1) and
// monai/losses/{dice,tversky,focal_loss,utils}.py, monai/metrics/{meandice,generalized_dice,utils}.py.
// Inputs are channel-first (B, C, spatial...) tensors; targets (B, C, ...) or label maps (B, 1, ...).

import {
  type Reduction,
  bceWithLogits,
  computeTpFpFn,
  crossEntropy,
  labelOf,
  oneHot,
  reduce,
  spatialAxes,
} from './common.js';
import { type Options, Opts } from '../../peers/options.js';
import { logSigmoid, logSoftmax, parseActivation, sigmoidT, softmax } from '../../peers/activation.js';
import {
  type Tensor,
  add,
  map,
  numel,
  reshape,
  scalar,
  shapesEqual,
  sliceAxis,
  sumAll,
  sumAxes,
  tensor,
  zip,
} from '../../peers/tensor.js';
import { clDiceReference } from '../cldice.js';
import { MONAI_DEFAULTS, METRIC_REDUCTIONS, doMetricReduction, skeletonIterationsOf } from '../../peers/monai.js';

/** Non-fatal notes MONAI would print as `warnings.warn` (kept for callers who want to see them). */

/**
 * MONAI's shared target preamble: `to_onehot_y` (a label map becomes one channel per
 * predicted class) then `include_background=False` (channel 0 of both dropped); both are
 * ignored, with MONAI's warning, for a single-channel prediction.
 */
function oneHotAndDropBackground(
  o: Opts,
  pred: Tensor,
  target: Tensor,
  toOnehot: boolean,
): { pred: Tensor; target: Tensor } {
  const channels = pred.shape[1];
  let p = pred;
  let g = target;
  if (toOnehot) {
    if (channels === 1) warn('single channel prediction, `to_onehot_y=True` ignored.');
    else g = oneHot(g, channels);
  }
  if (!o.bool('include_background')) {
    if (channels === 1) warn('single channel prediction, `include_background=False` ignored.');
    else {
      g = sliceAxis(g, 1, 1);
      p = sliceAxis(p, 1, 1);
    }
  }
  return { pred: p, target: g };
}

export const monaiWarnings: string[] = [];
function warn(msg: string): void {
  monaiWarnings.push(msg);
  if (monaiWarnings.length > 100) monaiWarnings.shift();
}

// ---------------------------------------------------------------------------------------------
// Shared preamble of DiceLoss / GeneralizedDiceLoss / TverskyLoss
// ---------------------------------------------------------------------------------------------

function checkActivationFlags(o: Opts): void {
  const n = Number(o.bool('sigmoid')) + Number(o.bool('softmax')) + Number(!o.isNone('other_act'));
  if (n > 1) {
    throw new Error(
      `${o.api}: Incompatible values: more than 1 of [sigmoid=True, softmax=True, other_act is not None].`,
    );
  }
}

/**
 * sigmoid → softmax over dim 1 (ignored if C = 1) → other_act; to_onehot_y (ignored if C = 1);
 * include_background=False drops channel 0 of both (ignored if C = 1); shapes must then match.
 */
function monaiPreamble(o: Opts, input: Tensor, target: Tensor, toOnehot: boolean): { p: Tensor; g: Tensor } {
  checkActivationFlags(o);
  let p = input;
  if (o.bool('sigmoid')) p = sigmoidT(p);
  const nPredCh = p.shape[1];
  if (o.bool('softmax')) {
    if (nPredCh === 1) warn('single channel prediction, `softmax=True` ignored.');
    else p = softmax(p, 1);
  }
  const act = o.strOrNull('other_act');
  if (act !== null) p = parseActivation(act)(p);
  let g: Tensor;
  ({ pred: p, target: g } = oneHotAndDropBackground(o, p, target, toOnehot));
  if (!shapesEqual(g.shape, p.shape)) {
    throw new Error(
      `${o.api}: ground truth has different shape ([${g.shape.join(', ')}]) from input ([${p.shape.join(', ')}])`,
    );
  }
  return { p, g };
}

/** MONAI class `weight` handling shared by DiceLoss and FocalLoss: scalar → repeated; length must be C; ≥ 0. */
function classWeightVector(o: Opts, weight: number | number[], numClasses: number): number[] {
  const w = typeof weight === 'number' ? new Array<number>(numClasses).fill(weight) : weight;
  if (w.length !== numClasses) {
    throw new Error(
      `${o.api}: the length of the \`weight\` sequence should be the same as the number of classes (${numClasses}). ` +
        'If `include_background=False`, the weight should not include the background category class 0.',
    );
  }
  if (Math.min(...w) < 0) throw new Error(`${o.api}: the value/values of the \`weight\` should be no less than 0.`);
  return w;
}

/** Multiply `t` by `w[c]` along axis `axis`. */
function scaleAlongAxis(t: Tensor, axis: number, w: readonly number[]): Tensor {
  const shape = new Array<number>(t.shape.length).fill(1);
  shape[axis] = w.length;
  return zip(t, tensor(shape, [...w]), (a, b) => a * b);
}

function lossReduction(o: Opts, key = 'reduction'): Reduction {
  return o.oneOf(key, ['none', 'mean', 'sum'] as const);
}

// ---------------------------------------------------------------------------------------------
// DiceLoss / MaskedDiceLoss
// ---------------------------------------------------------------------------------------------

function diceLossWith(o: Opts, input: Tensor, target: Tensor, toOnehot: boolean): Tensor {
  const reduction = lossReduction(o);
  const { p, g } = monaiPreamble(o, input, target, toOnehot);
  const axes = spatialAxes(p.shape.length, o.bool('batch'));
  const ord = o.bool('squared_pred') ? 2 : 1;
  const { tp, fp, fn } = computeTpFpFn(p, g, axes, ord, o.bool('soft_label'));
  const k = o.bool('jaccard') ? 1 : 0.5;
  const snr = o.num('smooth_nr');
  const sdr = o.num('smooth_dr');
  // f = 1 − (2·tp + s_nr) / (2·(tp + k·fp + k·fn) + s_dr), per (b, c) or per c when batch=True.
  let f = tensor(tp.shape);
  for (let i = 0; i < f.data.length; i++) {
    const num = 2 * tp.data[i] + snr;
    const den = 2 * (tp.data[i] + k * fp.data[i] + k * fn.data[i]) + sdr;
    f.data[i] = 1 - num / den;
  }
  const numClasses = g.shape[1];
  const weight = o.numOrList('weight');
  if (weight !== null && numClasses !== 1) {
    f = scaleAlongAxis(f, f.shape.length - 1, classWeightVector(o, weight, numClasses));
  }
  if (reduction === 'none') {
    // f viewed as list(f.shape[0:2]) + [1] * (ndim − 2): [B, C, 1, ...] (or [C, 1, ...] when batch=True).
    return reshape(f, [...f.shape.slice(0, 2), ...new Array<number>(p.shape.length - 2).fill(1)]);
  }
  return reduce(f, reduction);
}

export function diceLoss(options: Options, input: Tensor, target: Tensor): Tensor {
  const o = new Opts('monai.losses.DiceLoss', options, MONAI_DEFAULTS.DiceLoss);
  return diceLossWith(o, input, target, o.bool('to_onehot_y'));
}

/**
 * MaskedDiceLoss(…)(input, target, mask) = DiceLoss(input·mask, target·mask): the mask multiplies the
 * RAW input (logits) before any activation, so with sigmoid=True masked voxels become p = 0.5 and
 * still count in Σp (vector monai-masked_dice-00). Mask shape B1… or 11… (broadcast).
 */
export function maskedDiceLoss(options: Options, input: Tensor, target: Tensor, mask?: Tensor | null): Tensor {
  const o = new Opts('monai.losses.MaskedDiceLoss', options, MONAI_DEFAULTS.DiceLoss);
  if (mask) {
    if (input.shape[0] !== mask.shape[0] && mask.shape[0] !== 1) {
      throw new Error(`${o.api}: batch size of mask ([${mask.shape}]) must be 1 or equal to input ([${input.shape}])`);
    }
    if (target.shape.length > 1 && mask.shape[1] !== 1) {
      throw new Error(`${o.api}: mask ([${mask.shape}]) must have only 1 channel`);
    }
    input = zip(input, mask, (a, m) => a * m);
    target = zip(target, mask, (a, m) => a * m);
  } else {
    warn('No mask value specified for the MaskedLoss.');
  }
  return diceLossWith(o, input, target, o.bool('to_onehot_y'));
}

// ---------------------------------------------------------------------------------------------
// GeneralizedDiceLoss
// ---------------------------------------------------------------------------------------------

type WeightType = 'square' | 'simple' | 'uniform';

function volumeWeight(type: WeightType, volume: number): number {
  if (type === 'simple') return 1 / volume;
  if (type === 'square') return 1 / (volume * volume);
  return 1;
}

/**
 * Replace infinite weights (empty classes) by the max finite weight of the same row ([B, C] rows when
 * `perRow`), or of the whole tensor: MONAI sets w[infs] = 0, then w[infs] = max(w).
 * A row whose classes are all empty therefore gets weight 0 everywhere.
 */
function replaceInfiniteWeights(w: Tensor, perRow: boolean): void {
  const rows = perRow ? w.shape[0] : 1;
  const len = w.data.length / rows;
  for (let r = 0; r < rows; r++) {
    const infs: number[] = [];
    for (let i = r * len; i < (r + 1) * len; i++) {
      if (Math.abs(w.data[i]) === Infinity) {
        infs.push(i);
        w.data[i] = 0;
      }
    }
    let max = -Infinity;
    for (let i = r * len; i < (r + 1) * len; i++) max = Math.max(max, w.data[i]);
    for (const i of infs) w.data[i] = max;
  }
}

function generalizedDiceWith(o: Opts, input: Tensor, target: Tensor, toOnehot: boolean): Tensor {
  const reduction = lossReduction(o);
  const wType = o.oneOf('w_type', ['square', 'simple', 'uniform'] as const);
  const batch = o.bool('batch');
  const { p, g } = monaiPreamble(o, input, target, toOnehot);
  const axes = spatialAxes(p.shape.length, batch);
  const { tp, fp, fn } = computeTpFpFn(p, g, axes, 1, o.bool('soft_label'));
  const groundO = sumAxes(g, axes); // [B, C] or [C]
  // den_c = 2(tp + ½fp + ½fn) (= Σp + Σg for hard labels)
  const den = tensor(tp.shape);
  for (let i = 0; i < den.data.length; i++) den.data[i] = 2 * (tp.data[i] + 0.5 * fp.data[i] + 0.5 * fn.data[i]);
  const w = map(groundO, (v) => volumeWeight(wType, v));
  replaceInfiniteWeights(w, !batch);
  const snr = o.num('smooth_nr');
  const sdr = o.num('smooth_dr');
  // f = 1 − (2 Σ_c w_c tp_c + s_nr) / (Σ_c w_c den_c + s_dr): per b → [B, 1], or one value → [1] if batch.
  const rows = batch ? 1 : tp.shape[0];
  const C = tp.shape[tp.shape.length - 1];
  const f = tensor(batch ? [1] : [rows, 1]);
  for (let r = 0; r < rows; r++) {
    let num = 0;
    let dd = 0;
    for (let c = 0; c < C; c++) {
      const i = r * C + c;
      num += w.data[i] * tp.data[i];
      dd += w.data[i] * den.data[i];
    }
    f.data[r] = 1 - (2 * num + snr) / (dd + sdr);
  }
  if (reduction === 'none') {
    return reshape(f, [...f.shape.slice(0, 2), ...new Array<number>(p.shape.length - 2).fill(1)]);
  }
  return reduce(f, reduction);
}

export function generalizedDiceLoss(options: Options, input: Tensor, target: Tensor): Tensor {
  const o = new Opts('monai.losses.GeneralizedDiceLoss', options, MONAI_DEFAULTS.GeneralizedDiceLoss);
  return generalizedDiceWith(o, input, target, o.bool('to_onehot_y'));
}

// ---------------------------------------------------------------------------------------------
// TverskyLoss
// ---------------------------------------------------------------------------------------------

/**
 * f = 1 − (tp + s_nr) / (tp + α·fp + β·fn + s_dr), fp = Σ p(1−g), fn = Σ (1−p)g (not decoupled).
 * reduction 'none' returns f as computed: [B, C] (or [C] with batch=True) — unlike DiceLoss, no
 * trailing singleton axes (vector monai-tversky-10).
 */
export function tverskyLoss(options: Options, input: Tensor, target: Tensor): Tensor {
  const o = new Opts('monai.losses.TverskyLoss', options, MONAI_DEFAULTS.TverskyLoss);
  const reduction = lossReduction(o);
  const { p, g } = monaiPreamble(o, input, target, o.bool('to_onehot_y'));
  const axes = spatialAxes(p.shape.length, o.bool('batch'));
  const { tp, fp, fn } = computeTpFpFn(p, g, axes, 1, o.bool('soft_label'), false);
  const alpha = o.num('alpha');
  const beta = o.num('beta');
  const snr = o.num('smooth_nr');
  const sdr = o.num('smooth_dr');
  const f = tensor(tp.shape);
  for (let i = 0; i < f.data.length; i++) {
    f.data[i] = 1 - (tp.data[i] + snr) / (tp.data[i] + alpha * fp.data[i] + beta * fn.data[i] + sdr);
  }
  return reduce(f, reduction);
}

// ---------------------------------------------------------------------------------------------
// FocalLoss
// ---------------------------------------------------------------------------------------------

/**
 * Element-wise focal loss on RAW logits (B, C, ...):
 * - sigmoid form: l = (x − x·t − logσ(x))·exp(γ·logσ(−x(2t−1))), alpha factor t·α + (1−t)(1−α);
 * - softmax form: l = −(1 − e^{ls})^γ·ls·t, ls = log_softmax over the remaining channels,
 *   alpha = [1−α, α, α, …] (a scalar alpha is dropped when include_background=False).
 * A list `alpha` (per class, after background removal) is accepted too (newer MONAI).
 */
function focalElementwise(o: Opts, input: Tensor, target: Tensor, toOnehot: boolean): Tensor {
  const { pred: x, target: t } = oneHotAndDropBackground(o, input, target, toOnehot);
  if (!shapesEqual(t.shape, x.shape)) {
    throw new Error(`${o.api}: ground truth has different shape ([${t.shape}]) from input ([${x.shape}])`);
  }
  const gamma = o.num('gamma');
  const C = x.shape[1];
  let alpha = o.numOrList('alpha');
  if (Array.isArray(alpha) && alpha.length !== C) {
    throw new Error(`${o.api}: alpha has ${alpha.length} entries for ${C} classes`);
  }
  let loss: Tensor;
  if (o.bool('use_softmax')) {
    if (!o.bool('include_background') && typeof alpha === 'number') {
      warn('`include_background=False`, scalar `alpha` ignored when using softmax.');
      alpha = null;
    }
    const ls = logSoftmax(x, 1);
    loss = zip(ls, t, (l, tv) => -((1 - Math.exp(l)) ** gamma) * l * tv);
    if (alpha !== null) {
      const fac = typeof alpha === 'number' ? [1 - alpha, ...new Array<number>(C - 1).fill(alpha)] : alpha;
      loss = scaleAlongAxis(loss, 1, fac);
    }
  } else {
    loss = zip(x, t, (xv, tv) => {
      const bce = xv - xv * tv - logSigmoid(xv);
      const invprobs = logSigmoid(-xv * (tv * 2 - 1));
      return Math.exp(invprobs * gamma) * bce;
    });
    if (alpha !== null) {
      const a = alpha;
      const alphaT =
        typeof a === 'number' ? tensor([1], [a]) : tensor([C, ...new Array<number>(x.shape.length - 2).fill(1)], a);
      const factor = zip(t, alphaT, (tv, av) => tv * av + (1 - tv) * (1 - av));
      loss = zip(loss, factor, (l, f) => l * f);
    }
  }
  const weight = o.numOrList('weight');
  if (weight !== null && C !== 1) loss = scaleAlongAxis(loss, 1, classWeightVector(o, weight, C));
  return loss;
}

function focalReduce(loss: Tensor, reduction: Reduction): Tensor {
  if (reduction === 'sum') {
    // MONAI keeps its old behaviour: mean over the spatial axes first, then sum over (b, c).
    const axes = spatialAxes(loss.shape.length, false);
    const m = axes.length > 0 ? sumAxes(loss, axes) : loss;
    const count = numel(loss.shape.slice(2));
    return scalar(sumAll(m) / count);
  }
  return reduce(loss, reduction);
}

export function focalLoss(options: Options, input: Tensor, target: Tensor): Tensor {
  const o = new Opts('monai.losses.FocalLoss', options, MONAI_DEFAULTS.FocalLoss);
  const reduction = lossReduction(o);
  return focalReduce(focalElementwise(o, input, target, o.bool('to_onehot_y')), reduction);
}

// ---------------------------------------------------------------------------------------------
// DiceCELoss / DiceFocalLoss / GeneralizedDiceFocalLoss
// ---------------------------------------------------------------------------------------------

/**
 * lambda_dice·DiceLoss(…, weight = weight[1:] if not include_background else weight) + lambda_ce·CE,
 * CE = nn.CrossEntropyLoss(weight, reduction, label_smoothing) on the RAW logits (a B1… target is
 * squeezed to class indices, a BC… target is used as class probabilities) or, when C = 1,
 * nn.BCEWithLogitsLoss(pos_weight=weight). Reduction only 'mean' / 'sum'.
 */
export function diceCELoss(options: Options, input: Tensor, target: Tensor): Tensor {
  const o = new Opts('monai.losses.DiceCELoss', options, MONAI_DEFAULTS.DiceCELoss);
  const reduction = o.oneOf('reduction', ['mean', 'sum'] as const);
  const lambdaDice = o.num('lambda_dice');
  const lambdaCe = o.num('lambda_ce');
  if (lambdaDice < 0) throw new Error(`${o.api}: lambda_dice should be no less than 0.0.`);
  if (lambdaCe < 0) throw new Error(`${o.api}: lambda_ce should be no less than 0.0.`);
  if (input.shape.length !== target.shape.length) {
    throw new Error(`${o.api}: the number of dimensions for input and target should be the same`);
  }
  if (target.shape[1] !== 1 && target.shape[1] !== input.shape[1]) {
    throw new Error(
      `${o.api}: number of channels for target is neither 1 (without one-hot encoding) nor the same as input`,
    );
  }
  const wRaw = o.numOrList('weight');
  if (typeof wRaw === 'number') throw new Error(`${o.api}: weight must be a sequence (one entry per class)`);
  const weight = wRaw;
  const diceWeight = weight !== null && !o.bool('include_background') ? weight.slice(1) : weight;
  const diceOpts = new Opts(
    o.api,
    { ...pick(o.values, Object.keys(MONAI_DEFAULTS.DiceLoss)), weight: diceWeight, soft_label: false },
    MONAI_DEFAULTS.DiceLoss,
  );
  const dice = diceLossWith(diceOpts, input, target, o.bool('to_onehot_y'));

  let ce: Tensor;
  const nPred = input.shape[1];
  if (nPred !== 1) {
    if (nPred !== target.shape[1] && target.shape[1] === 1) {
      const idx = reshape(map(target, labelOf), [target.shape[0], ...target.shape.slice(2)]);
      ce = crossEntropy(input, idx, { weight, reduction, labelSmoothing: o.num('label_smoothing') });
    } else {
      ce = crossEntropy(input, target, { weight, reduction, labelSmoothing: o.num('label_smoothing') });
    }
  } else {
    ce = bceWithLogits(input, target, { posWeight: weight, reduction });
  }
  return add(scaleT(dice, lambdaDice), scaleT(ce, lambdaCe));
}

/**
 * lambda_dice·DiceLoss + lambda_focal·FocalLoss; to_onehot_y applied once up front; weight,
 * include_background, reduction shared; gamma / alpha focal only. The focal part is MONAI's default
 * sigmoid form on the raw logits (DiceFocalLoss does not pass use_softmax).
 * With reduction 'none' the two parts broadcast ([B,C,1,…] + [B,C,…]).
 */
export function diceFocalLoss(options: Options, input: Tensor, target: Tensor): Tensor {
  const o = new Opts('monai.losses.DiceFocalLoss', options, MONAI_DEFAULTS.DiceFocalLoss);
  const reduction = lossReduction(o);
  const lambdaDice = o.num('lambda_dice');
  const lambdaFocal = o.num('lambda_focal');
  if (lambdaDice < 0) throw new Error(`${o.api}: lambda_dice should be no less than 0.0.`);
  if (lambdaFocal < 0) throw new Error(`${o.api}: lambda_focal should be no less than 0.0.`);
  if (input.shape.length !== target.shape.length) {
    throw new Error(`${o.api}: the number of dimensions for input and target should be the same`);
  }
  let t = target;
  if (o.bool('to_onehot_y')) {
    if (input.shape[1] === 1) warn('single channel prediction, `to_onehot_y=True` ignored.');
    else t = oneHot(t, input.shape[1]);
  }
  const diceOpts = new Opts(
    o.api,
    { ...pick(o.values, Object.keys(MONAI_DEFAULTS.DiceLoss)), to_onehot_y: false },
    MONAI_DEFAULTS.DiceLoss,
  );
  const dice = diceLossWith(diceOpts, input, t, false);
  const focalOpts = new Opts(
    o.api,
    { ...pick(o.values, Object.keys(MONAI_DEFAULTS.FocalLoss)), to_onehot_y: false, use_softmax: false },
    MONAI_DEFAULTS.FocalLoss,
  );
  const focal = focalReduce(focalElementwise(focalOpts, input, t, false), reduction);
  return add(scaleT(dice, lambdaDice), scaleT(focal, lambdaFocal));
}

/** lambda_gdl·GeneralizedDiceLoss + lambda_focal·FocalLoss (weight goes to the focal part only). */
export function generalizedDiceFocalLoss(options: Options, input: Tensor, target: Tensor): Tensor {
  const o = new Opts('monai.losses.GeneralizedDiceFocalLoss', options, MONAI_DEFAULTS.GeneralizedDiceFocalLoss);
  const reduction = lossReduction(o);
  const lambdaGdl = o.num('lambda_gdl');
  const lambdaFocal = o.num('lambda_focal');
  if (lambdaGdl < 0) throw new Error(`${o.api}: lambda_gdl should be no less than 0.0.`);
  if (lambdaFocal < 0) throw new Error(`${o.api}: lambda_focal should be no less than 0.0.`);
  if (input.shape.length !== target.shape.length) {
    throw new Error(`${o.api}: the number of dimensions for input and target should be the same`);
  }
  const gdlOpts = new Opts(
    o.api,
    pick(o.values, Object.keys(MONAI_DEFAULTS.GeneralizedDiceLoss)),
    MONAI_DEFAULTS.GeneralizedDiceLoss,
  );
  const gdl = generalizedDiceWith(gdlOpts, input, target, o.bool('to_onehot_y'));
  const focalOpts = new Opts(
    o.api,
    { ...pick(o.values, Object.keys(MONAI_DEFAULTS.FocalLoss)), use_softmax: false },
    MONAI_DEFAULTS.FocalLoss,
  );
  const focal = focalReduce(focalElementwise(focalOpts, input, target, o.bool('to_onehot_y')), reduction);
  return add(scaleT(gdl, lambdaGdl), scaleT(focal, lambdaFocal));
}

function pick(values: Options, keys: string[]): Options {
  const out: Options = {};
  for (const k of keys) if (k in values) out[k] = values[k];
  return out;
}

function scaleT(t: Tensor, k: number): Tensor {
  return map(t, (x) => x * k);
}

// ---------------------------------------------------------------------------------------------
// GeneralizedWassersteinDiceLoss (fixed batch > 1 behaviour: per-sample alpha, PR #8744)
// ---------------------------------------------------------------------------------------------

/**
 * Always softmax over dim 1; M normalised to max 1; per voxel n of sample b: wass_n = Σ_c M[t_n, c]·p_{c,n}.
 * default: α_c = 0 for c = 0 else 1; TP = Σ_n α_{t_n}(1 − wass_n), den = 2TP + Σ_n wass_n.
 * GDL:     α_c = 1/(|c|_b + 1) (volume of class c in sample b); den = Σ_n α_{t_n}(2 − wass_n).
 * loss_b = 1 − (2TP + s_nr)/(den + s_dr); reduction over b.
 */
export function generalizedWassersteinDiceLoss(options: Options, input: Tensor, target: Tensor): Tensor {
  const o = new Opts(
    'monai.losses.GeneralizedWassersteinDiceLoss',
    options,
    MONAI_DEFAULTS.GeneralizedWassersteinDiceLoss,
  );
  const reduction = lossReduction(o);
  if (o.isNone('dist_matrix')) throw new Error(`${o.api}: dist_matrix is required`);
  const M0 = o.matrix('dist_matrix');
  const K = M0.length;
  if (M0.some((row) => row.length !== K)) throw new Error(`${o.api}: dist_matrix must be C x C`);
  const mode = o.oneOf('weighting_mode', ['default', 'GDL'] as const);
  let mMax = -Infinity;
  for (const row of M0) for (const v of row) mMax = Math.max(mMax, v);
  const M = mMax !== 1 ? M0.map((row) => row.map((v) => v / mMax)) : M0;

  const B = input.shape[0];
  const C = input.shape[1];
  if (C !== K) throw new Error(`${o.api}: input has ${C} channels but dist_matrix is ${K} x ${K}`);
  const N = numel(input.shape.slice(2));
  if (target.data.length !== B * N) {
    throw new Error(
      `${o.api}: target ([${target.shape}]) does not hold one label per voxel of input ([${input.shape}])`,
    );
  }
  const probs = softmax(reshape(input, [B, C, N]), 1);
  const snr = o.num('smooth_nr');
  const sdr = o.num('smooth_dr');
  const loss = tensor([B]);
  for (let b = 0; b < B; b++) {
    const labels: number[] = [];
    for (let n = 0; n < N; n++) {
      const t = labelOf(target.data[b * N + n]);
      if (t < 0 || t >= C) throw new Error(`${o.api}: label ${t} out of range for ${C} classes`);
      labels.push(t);
    }
    // per-sample alpha
    const alpha = new Array<number>(C).fill(1);
    if (mode === 'GDL') {
      const volumes = new Array<number>(C).fill(0);
      for (const t of labels) volumes[t] += 1;
      for (let c = 0; c < C; c++) alpha[c] = 1 / (volumes[c] + 1);
    } else {
      alpha[0] = 0;
    }
    let tp = 0;
    let allError = 0;
    let gdlDen = 0;
    for (let n = 0; n < N; n++) {
      const t = labels[n];
      let wass = 0;
      for (let c = 0; c < C; c++) wass += M[t][c] * probs.data[(b * C + c) * N + n];
      tp += alpha[t] * (1 - wass);
      allError += wass;
      gdlDen += alpha[t] * (2 - wass);
    }
    const den = mode === 'GDL' ? gdlDen : 2 * tp + allError;
    loss.data[b] = 1 - (2 * tp + snr) / (den + sdr);
  }
  return reduce(loss, reduction);
}

// ---------------------------------------------------------------------------------------------
// Metrics: compute_dice / DiceMetric / compute_generalized_dice / GeneralizedDiceScore
// ---------------------------------------------------------------------------------------------

/**
 * DiceHelper per-(b, c) scores, [B, C'] (NaN for ignored empty ground truth).
 * Prediction channel c is `y_pred[b, c].bool()` (nonzero), or `y_pred[b, 0] == c` for a single-channel
 * label map; ground truth likewise (`y[b, 0] == c` when y has one channel). With a single predicted
 * channel (n_pred_ch == 1) the only channel evaluated is c = 1, via `== 1` comparisons.
 */
function diceHelperScores(
  api: string,
  yPred: Tensor,
  y: Tensor,
  includeBackground: boolean,
  ignoreEmpty: boolean,
  numClasses: number | null,
): Tensor {
  if (yPred.shape.length < 3)
    throw new Error(`${api}: y_pred should have at least 3 dimensions (batch, channel, spatial)`);
  const B = yPred.shape[0];
  const nPredCh = numClasses ?? yPred.shape[1];
  const N = numel(yPred.shape.slice(2));
  if (numel(y.shape.slice(2)) !== N || y.shape[0] !== B) {
    throw new Error(`${api}: y ([${y.shape}]) and y_pred ([${yPred.shape}]) do not match`);
  }
  const firstCh = includeBackground ? 0 : 1;
  const channels = nPredCh > 1 ? [...Array(nPredCh).keys()].slice(firstCh) : [1];
  const predCh = yPred.shape[1];
  const yCh = y.shape[1];
  const out = tensor([B, channels.length]);
  for (let b = 0; b < B; b++) {
    channels.forEach((c, ci) => {
      let yo = 0; // Σ g
      let po = 0; // Σ pred
      let inter = 0; // Σ_{pred} g
      for (let n = 0; n < N; n++) {
        const pv =
          predCh === 1 ? (yPred.data[b * N + n] === c ? 1 : 0) : yPred.data[(b * predCh + c) * N + n] !== 0 ? 1 : 0;
        const gv = yCh === 1 ? (y.data[b * N + n] === c ? 1 : 0) : y.data[(b * yCh + c) * N + n];
        yo += gv;
        po += pv;
        if (pv) inter += gv;
      }
      let v: number;
      if (yo > 0) v = (2 * inter) / (yo + po);
      else if (ignoreEmpty) v = Number.NaN;
      else v = yo + po <= 0 ? 1 : 0;
      out.data[b * channels.length + ci] = v;
    });
  }
  return out;
}

/** monai.metrics.compute_dice: [B, C] Dice of binarised predictions (NaN where GT empty and ignore_empty). */
export function computeDice(options: Options, yPred: Tensor, y: Tensor): Tensor {
  const o = new Opts('monai.metrics.compute_dice', options, MONAI_DEFAULTS.compute_dice);
  return diceHelperScores(
    o.api,
    yPred,
    y,
    o.bool('include_background'),
    o.bool('ignore_empty'),
    o.numOrNull('num_classes'),
  );
}

export interface DiceMetricResult {
  value: Tensor;
  notNans: Tensor;
  /** Set when return_with_label is true or a list of names: {label_i: round(v, 4)}. */
  labelled?: Record<string, number>;
}

/** DiceMetric(**options)(y_pred, y); .aggregate(): value (and not_nans, which MONAI returns when get_not_nans). */
export function diceMetricAggregate(options: Options, yPred: Tensor, y: Tensor): DiceMetricResult {
  const o = new Opts('monai.metrics.DiceMetric', options, MONAI_DEFAULTS.DiceMetric);
  const reduction = o.oneOf('reduction', METRIC_REDUCTIONS);
  o.bool('get_not_nans');
  const scores = diceHelperScores(
    o.api,
    yPred,
    y,
    o.bool('include_background'),
    o.bool('ignore_empty'),
    o.numOrNull('num_classes'),
  );
  const { value, notNans } = doMetricReduction(scores, reduction);
  const rwl = o.raw('return_with_label');
  if (rwl === false || rwl === null) return { value, notNans };
  const labelled: Record<string, number> = {};
  const values = Array.from(value.data);
  if (rwl === true) {
    values.forEach((v, i) => {
      labelled[o.bool('include_background') ? `label_${i}` : `label_${i + 1}`] = Math.round(v * 1e4) / 1e4;
    });
  } else if (Array.isArray(rwl)) {
    rwl.forEach((key, i) => {
      if (i < values.length) labelled[String(key)] = Math.round(values[i] * 1e4) / 1e4;
    });
  } else {
    throw new Error(`${o.api}: return_with_label must be a boolean or a list of label names`);
  }
  return { value, notNans, labelled };
}

function generalizedDiceScores(
  api: string,
  yPred: Tensor,
  y: Tensor,
  includeBackground: boolean,
  weightType: WeightType,
  sumOverClasses: boolean,
): Tensor {
  if (yPred.shape.length < 3) throw new Error(`${api}: y_pred should have at least 3 dimensions`);
  if (!shapesEqual(yPred.shape, y.shape)) {
    throw new Error(`${api}: y_pred ([${yPred.shape}]) and y ([${y.shape}]) must have the same shape`);
  }
  let p = yPred;
  let g = y;
  if (!includeBackground) {
    p = sliceAxis(p, 1, 1);
    g = sliceAxis(g, 1, 1);
  }
  const axes = spatialAxes(p.shape.length, false);
  const inter = sumAxes(
    zip(g, p, (a, b) => a * b),
    axes,
  ); // [B, C]
  const yo = sumAxes(g, axes);
  const po = sumAxes(p, axes);
  const [B, C] = inter.shape;
  const w = map(yo, (v) => volumeWeight(weightType, v));
  replaceInfiniteWeights(w, true);
  const out = tensor(sumOverClasses ? [B, 1] : [B, C]);
  const score = (numer: number, denom: number, predVol: number): number =>
    denom === 0 ? (predVol === 0 ? 1 : 0) : numer / denom;
  for (let b = 0; b < B; b++) {
    if (sumOverClasses) {
      let numer = 0;
      let denom = 0;
      let predVol = 0;
      for (let c = 0; c < C; c++) {
        const i = b * C + c;
        numer += 2 * inter.data[i] * w.data[i];
        denom += (yo.data[i] + po.data[i]) * w.data[i];
        predVol += po.data[i];
      }
      out.data[b] = score(numer, denom, predVol);
    } else {
      for (let c = 0; c < C; c++) {
        const i = b * C + c;
        out.data[i] = score(2 * inter.data[i] * w.data[i], (yo.data[i] + po.data[i]) * w.data[i], po.data[i]);
      }
    }
  }
  return out;
}

/** monai.metrics.compute_generalized_dice: [B, C] (or [B, 1] with sum_over_classes). */
export function computeGeneralizedDice(options: Options, yPred: Tensor, y: Tensor): Tensor {
  const o = new Opts('monai.metrics.compute_generalized_dice', options, MONAI_DEFAULTS.compute_generalized_dice);
  return generalizedDiceScores(
    o.api,
    yPred,
    y,
    o.bool('include_background'),
    o.oneOf('weight_type', ['square', 'simple', 'uniform'] as const),
    o.bool('sum_over_classes'),
  );
}

/**
 * GeneralizedDiceScore(**options)(y_pred, y).aggregate(): sums over classes when reduction ∈
 * {sum, mean, mean_channel, sum_channel}, then do_metric_reduction. 'mean' gives a 0-d value
 * (MONAI's tests compare it against a 1-element list by broadcasting).
 */
export function generalizedDiceScore(options: Options, yPred: Tensor, y: Tensor): Tensor {
  const o = new Opts('monai.metrics.GeneralizedDiceScore', options, MONAI_DEFAULTS.GeneralizedDiceScore);
  const reduction = o.oneOf('reduction', METRIC_REDUCTIONS);
  const sumOverClasses = ['sum', 'mean', 'mean_channel', 'sum_channel'].includes(reduction);
  const scores = generalizedDiceScores(
    o.api,
    yPred,
    y,
    o.bool('include_background'),
    o.oneOf('weight_type', ['square', 'simple', 'uniform'] as const),
    sumOverClasses,
  );
  return doMetricReduction(scores, reduction).value;
}

// ---------------------------------------------------------------------------------------------
// SoftclDiceLoss, SoftDiceclDiceLoss (monai/losses/cldice.py); MONAI calls loss(y_true, y_pred),
// these take (input = y_pred, target = y_true) like every reference here.
// ---------------------------------------------------------------------------------------------

function clDiceOf(o: Opts, input: Tensor, target: Tensor, alpha: number): Tensor {
  if (!shapesEqual(input.shape, target.shape)) {
    throw new Error(`${o.api}: y_true ([${target.shape}]) and y_pred ([${input.shape}]) must have the same shape`);
  }
  const r = clDiceReference(input.data, target.data, {
    shape: input.shape,
    iterations: skeletonIterationsOf(o),
    smooth: o.num('smooth'),
    alpha,
  });
  return scalar(r.loss);
}

export function softclDiceLoss(options: Options, input: Tensor, target: Tensor): Tensor {
  const o = new Opts('monai.losses.SoftclDiceLoss', options, MONAI_DEFAULTS.SoftclDiceLoss);
  return clDiceOf(o, input, target, 1);
}

export function softDiceclDiceLoss(options: Options, input: Tensor, target: Tensor): Tensor {
  const o = new Opts('monai.losses.SoftDiceclDiceLoss', options, MONAI_DEFAULTS.SoftDiceclDiceLoss);
  return clDiceOf(o, input, target, o.num('alpha'));
}
