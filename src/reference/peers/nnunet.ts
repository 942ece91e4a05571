// nnU-Net v2 SoftDiceLoss / MemoryEfficientSoftDiceLoss / DC_and_CE_loss / DC_and_BCE_loss, float64,
// from docs/peer-semantics.md (b.4) (nnunetv2/training/loss/dice.py, compound_losses.py).
// Single process: `ddp` is accepted and has no effect (the all-gather of one rank is the identity).
// Inputs are (B, C, spatial...) network outputs; targets are label maps (B, 1, ...) / (B, ...) or one-hot.

import { bceWithLogits, crossEntropy, labelOf, oneHot } from './common.js';
import { type Options, Opts } from '../../peers/options.js';
import { parseActivation } from '../../peers/activation.js';
import {
  type Tensor,
  map,
  reshape,
  scalar,
  shapesEqual,
  sliceAxis,
  sumAll,
  sumAxes,
  tensor,
  zip,
} from '../../peers/tensor.js';
import {
  BCE_KWARGS_DEFAULTS,
  CE_KWARGS_DEFAULTS,
  DC_AND_BCE_DEFAULTS,
  DC_AND_CE_DEFAULTS,
  MEM_EFF_DICE_DEFAULTS,
  SOFT_DICE_DEFAULTS,
} from '../../peers/nnunet.js';

type Nonlin = ((t: Tensor) => Tensor) | null;

function nonlinOf(o: Opts): Nonlin {
  const v = o.raw('apply_nonlin');
  if (v === null) return null;
  if (typeof v === 'function') return v as (t: Tensor) => Tensor;
  if (typeof v !== 'string') throw new Error(`${o.api}: apply_nonlin must be null or an activation name`);
  return parseActivation(v);
}

/**
 * get_tp_fp_fn_tn's target handling: a label map with one rank less gets a channel axis; equal shapes
 * are used as a one-hot encoding as is; otherwise scatter_ (one-hot) of the label map.
 */
function targetOneHot(x: Tensor, y: Tensor): Tensor {
  let gt = y;
  if (x.shape.length !== gt.shape.length) gt = reshape(gt, [gt.shape[0], 1, ...gt.shape.slice(1)]);
  if (shapesEqual(x.shape, gt.shape)) return gt;
  return oneHot(gt, x.shape[1]);
}

/** loss_mask (B, 1, ...) broadcast over channels; a mask with one rank less gets a channel axis. */
function maskOf(x: Tensor, mask: Tensor | null | undefined): Tensor | null {
  if (!mask) return null;
  return mask.shape.length === x.shape.length ? mask : reshape(mask, [mask.shape[0], 1, ...mask.shape.slice(1)]);
}

/**
 * SoftDiceLoss: axes = spatial (+0 if batch_dice); tp = Σ p·g·m, fp = Σ p(1−g)·m, fn = Σ (1−p)g·m;
 * tp clipped at clip_tp; dc = (2tp + s)/clip(2tp + fp + fn + s, min=1e-8); channel 0 dropped if not do_bg;
 * returns −mean(dc) (range [−1, 0]).
 */
function softDiceWith(o: Opts, input: Tensor, target: Tensor, lossMask: Tensor | null): Tensor {
  const batchDice = o.bool('batch_dice');
  const axes: number[] = batchDice ? [0] : [];
  for (let a = 2; a < input.shape.length; a++) axes.push(a);
  const nonlin = nonlinOf(o);
  const x = nonlin ? nonlin(input) : input;
  const g = targetOneHot(x, target);
  const m = maskOf(x, lossMask);
  const withMask = (t: Tensor): Tensor => (m ? zip(t, m, (a, b) => a * b) : t);
  const tpT = sumAxes(withMask(zip(x, g, (p, gv) => p * gv)), axes);
  const fpT = sumAxes(withMask(zip(x, g, (p, gv) => p * (1 - gv))), axes);
  const fnT = sumAxes(withMask(zip(x, g, (p, gv) => (1 - p) * gv)), axes);
  const clipTp = o.numOrNull('clip_tp');
  const s = o.num('smooth');
  let dc = tensor(tpT.shape);
  for (let i = 0; i < dc.data.length; i++) {
    const tp = clipTp === null ? tpT.data[i] : Math.max(tpT.data[i], clipTp);
    dc.data[i] = (2 * tp + s) / Math.max(2 * tp + fpT.data[i] + fnT.data[i] + s, 1e-8);
  }
  if (!o.bool('do_bg')) dc = sliceAxis(dc, batchDice ? 0 : 1, 1);
  return scalar(-(sumAll(dc) / dc.data.length));
}

export function softDiceLoss(options: Options, input: Tensor, target: Tensor, lossMask?: Tensor | null): Tensor {
  const o = new Opts('nnunetv2.training.loss.dice.SoftDiceLoss', options, SOFT_DICE_DEFAULTS);
  return softDiceWith(o, input, target, lossMask ?? null);
}

/**
 * MemoryEfficientSoftDiceLoss: background dropped first; per-sample sums I = Σ p·g·m, P = Σ p·m,
 * G = Σ g·m over spatial axes, then summed over the batch if batch_dice;
 * dc = (2I + s)/clamp_min(G + P + s, 1e-8); returns −mean(dc).
 */
function memEffDiceWith(o: Opts, input: Tensor, target: Tensor, lossMask: Tensor | null): Tensor {
  const nonlin = nonlinOf(o);
  let x = nonlin ? nonlin(input) : input;
  let g = targetOneHot(x, target);
  if (!o.bool('do_bg')) {
    g = sliceAxis(g, 1, 1);
    x = sliceAxis(x, 1, 1);
  }
  const m = maskOf(x, lossMask);
  const withMask = (t: Tensor): Tensor => (m ? zip(t, m, (a, b) => a * b) : t);
  const axes: number[] = [];
  for (let a = 2; a < x.shape.length; a++) axes.push(a);
  let sumGt = sumAxes(withMask(g), axes);
  let intersect = sumAxes(withMask(zip(x, g, (a, b) => a * b)), axes);
  let sumPred = sumAxes(withMask(x), axes);
  if (o.bool('batch_dice')) {
    sumGt = sumAxes(sumGt, [0]);
    intersect = sumAxes(intersect, [0]);
    sumPred = sumAxes(sumPred, [0]);
  }
  const s = o.num('smooth');
  const dc = tensor(intersect.shape);
  for (let i = 0; i < dc.data.length; i++) {
    dc.data[i] = (2 * intersect.data[i] + s) / Math.max(sumGt.data[i] + sumPred.data[i] + s, 1e-8);
  }
  return scalar(-(sumAll(dc) / dc.data.length));
}

export function memoryEfficientSoftDiceLoss(
  options: Options,
  input: Tensor,
  target: Tensor,
  lossMask?: Tensor | null,
): Tensor {
  const o = new Opts('nnunetv2.training.loss.dice.MemoryEfficientSoftDiceLoss', options, MEM_EFF_DICE_DEFAULTS);
  return memEffDiceWith(o, input, target, lossMask ?? null);
}

// ---------------------------------------------------------------------------------------------
// Compound losses
// ---------------------------------------------------------------------------------------------

const DICE_CLASSES = ['SoftDiceLoss', 'MemoryEfficientSoftDiceLoss'] as const;
type DiceClass = (typeof DICE_CLASSES)[number];

function diceClassOf(o: Opts): DiceClass {
  const raw = o.str('dice_class').replace(/^.*\./, '');
  if (!(DICE_CLASSES as readonly string[]).includes(raw)) {
    throw new Error(`${o.api}: dice_class must be one of ${DICE_CLASSES.join(', ')}, got '${o.str('dice_class')}'`);
  }
  return raw as DiceClass;
}

function diceWithClass(
  api: string,
  cls: DiceClass,
  kwargs: Options,
  nonlin: string,
  x: Tensor,
  y: Tensor,
  mask: Tensor | null,
): Tensor {
  const defaults = cls === 'SoftDiceLoss' ? SOFT_DICE_DEFAULTS : MEM_EFF_DICE_DEFAULTS;
  if ('apply_nonlin' in kwargs) {
    throw new Error(`${api}: soft_dice_kwargs must not set 'apply_nonlin' (the compound loss sets it)`);
  }
  const o = new Opts(`${api} soft_dice_kwargs (${cls})`, { ...kwargs, apply_nonlin: nonlin }, defaults);
  return cls === 'SoftDiceLoss' ? softDiceWith(o, x, y, mask) : memEffDiceWith(o, x, y, mask);
}

/**
 * DC_and_CE_loss: dice with softmax nonlinearity + RobustCrossEntropyLoss on the raw logits.
 * ignore_label: Dice gets loss_mask = (t ≠ ignore) and t := 0 there; CE gets ignore_index = ignore_label;
 * CE skipped (0) when no voxel is valid. Target must be (B, 1, ...).
 * result = weight_ce·CE + weight_dice·DC.
 */
export function dcAndCeLoss(options: Options, input: Tensor, target: Tensor): Tensor {
  const o = new Opts('nnunetv2.training.loss.compound_losses.DC_and_CE_loss', options, DC_AND_CE_DEFAULTS);
  const weightCe = o.num('weight_ce');
  const weightDice = o.num('weight_dice');
  const ignore = o.numOrNull('ignore_label');
  const cls = diceClassOf(o);
  const ceO = new Opts(`${o.api} ce_kwargs`, o.dict('ce_kwargs'), CE_KWARGS_DEFAULTS);
  let t = target;
  if (t.shape.length === input.shape.length - 1) t = reshape(t, [t.shape[0], 1, ...t.shape.slice(1)]);
  if (t.shape.length !== input.shape.length || t.shape[1] !== 1) {
    throw new Error(`${o.api}: target must be a label map of shape (B, 1, ...), got [${t.shape}]`);
  }
  let mask: Tensor | null = null;
  let targetDice = t;
  let numFg = 1;
  if (ignore !== null) {
    mask = map(t, (v) => (v !== ignore ? 1 : 0));
    targetDice = map(t, (v) => (v !== ignore ? v : 0));
    numFg = sumAll(mask);
  }
  const dc =
    weightDice !== 0
      ? diceWithClass(o.api, cls, o.dict('soft_dice_kwargs'), 'softmax(dim=1)', input, targetDice, mask)
      : scalar(0);
  let ce = scalar(0);
  if (weightCe !== 0 && (ignore === null || numFg > 0)) {
    const w = ceO.numOrList('weight');
    if (typeof w === 'number') throw new Error(`${o.api}: ce_kwargs.weight must be a list (one entry per class)`);
    const idx = reshape(
      map(t, (v) => (ignore !== null && v === ignore ? v : labelOf(v))),
      [t.shape[0], ...t.shape.slice(2)],
    );
    ce = crossEntropy(input, idx, {
      weight: w,
      reduction: ceO.oneOf('reduction', ['mean', 'sum', 'none'] as const),
      labelSmoothing: ceO.num('label_smoothing'),
      ignoreIndex: ignore ?? ceO.num('ignore_index'),
    });
  }
  return zip(
    map(ce, (v) => weightCe * v),
    map(dc, (v) => weightDice * v),
    (a, b) => a + b,
  );
}

/**
 * DC_and_BCE_loss (region-based training): dice with sigmoid + BCEWithLogits. use_ignore_label: the
 * LAST target channel marks ignored voxels (mask = 1 − t[:, -1:]), the other channels are the regions;
 * BCE = Σ(bce·mask) / clip(Σ mask, 1e-8) (Σ mask counts voxels once, not per channel).
 */
export function dcAndBceLoss(options: Options, input: Tensor, target: Tensor): Tensor {
  const o = new Opts('nnunetv2.training.loss.compound_losses.DC_and_BCE_loss', options, DC_AND_BCE_DEFAULTS);
  const cls = diceClassOf(o);
  const bceO = new Opts(`${o.api} bce_kwargs`, o.dict('bce_kwargs'), BCE_KWARGS_DEFAULTS);
  let regions = target;
  let mask: Tensor | null = null;
  if (o.bool('use_ignore_label')) {
    const C = target.shape[1];
    mask = map(sliceAxis(target, 1, C - 1), (v) => (v !== 0 ? 0 : 1));
    regions = sliceAxis(target, 1, 0, C - 1);
  }
  const dc = diceWithClass(o.api, cls, o.dict('soft_dice_kwargs'), 'sigmoid', input, regions, mask);
  const pw = bceO.numOrList('pos_weight');
  const bw = bceO.numOrList('weight');
  const posWeight = pw === null ? null : typeof pw === 'number' ? [pw] : pw;
  const weightT = bw === null ? null : typeof bw === 'number' ? scalar(bw) : tensor([bw.length], bw);
  let ce: Tensor;
  if (mask !== null) {
    const perElem = bceWithLogits(input, regions, { posWeight, weight: weightT, reduction: 'none' });
    ce = scalar(sumAll(zip(perElem, mask, (a, b) => a * b)) / Math.max(sumAll(mask), 1e-8));
  } else {
    ce = bceWithLogits(input, regions, {
      posWeight,
      weight: weightT,
      reduction: bceO.oneOf('reduction', ['mean', 'sum', 'none'] as const),
    });
  }
  const wce = o.num('weight_ce');
  const wdc = o.num('weight_dice');
  return zip(
    map(ce, (v) => wce * v),
    map(dc, (v) => wdc * v),
    (a, b) => a + b,
  );
}
