// MONAI presets: engine.presets.monai.<Api>(options) with MONAI's constructor option names and
// defaults (peer-semantics.md b.1). Inputs are channel-first (NCHW…); a layout in extras moves C to axis 1.

import type { DiceEngine } from '../engine.js';
import { WgslDiceError } from '../errors.js';
import type { FamilyLoss, LossResult } from '../family/loss.js';
import type { LossOptions } from '../family/options.js';
import { type Opts, parseActivation } from '../reference/peers/common.js';
import {
  COMPUTE_DICE_DEFAULTS,
  COMPUTE_GDICE_DEFAULTS,
  DICE_CE_DEFAULTS,
  DICE_FOCAL_DEFAULTS,
  DICE_LOSS_DEFAULTS,
  DICE_METRIC_DEFAULTS,
  FOCAL_DEFAULTS,
  GDICE_SCORE_DEFAULTS,
  GDL_DEFAULTS,
  GWDL_DEFAULTS,
  TVERSKY_DEFAULTS,
  type MetricReduction,
  doMetricReduction,
} from '../reference/peers/monai.js';
import { type Tensor, tensor, toNested, zip } from '../reference/peers/tensor.js';
import {
  type CreateExtras,
  type HostInput,
  LossCache,
  type Options,
  type Preset,
  type PresetExtras,
  type PresetValue,
  channelFirst,
  f32,
  labels,
  nested,
  notImplemented,
  optionGuard,
  parseOptions,
  toTensor,
} from './common.js';

type Kind = 'dice' | 'masked' | 'tversky' | 'gdl' | 'dice-ce';

interface Prepared {
  lossOptions: LossOptions;
  pred: Float32Array;
  target: Float32Array | Uint32Array;
  B: number;
  C: number;
  /** Classes kept after include_background. */
  kept: number[];
  rank: number;
}

function activationOf(o: Opts, C: number): { activation: 'none' | 'sigmoid' | 'softmax'; host: ((t: Tensor) => Tensor) | null } {
  const n = Number(o.bool('sigmoid')) + Number(o.bool('softmax')) + Number(!o.isNone('other_act'));
  if (n > 1) {
    throw new WgslDiceError('INVALID_OPTION', `${o.api}: Incompatible values: more than 1 of [sigmoid=True, softmax=True, other_act is not None].`);
  }
  if (o.bool('sigmoid')) return { activation: 'sigmoid', host: null };
  if (o.bool('softmax')) return { activation: C === 1 ? 'none' : 'softmax', host: null }; // MONAI ignores softmax when C = 1
  const act = o.strOrNull('other_act');
  // other_act (any callable) has no GPU switch: it is applied on the host before upload.
  if (act !== null) return { activation: 'none', host: optionGuard(() => parseActivation(act)) };
  return { activation: 'none', host: null };
}

/**
 * MONAI's preamble mapped to engine options. `x`, `y` channel-first host tensors; `shapeOnly` for
 * create() (x/y data unused).
 */
function prepare(o: Opts, kind: Kind, x: Tensor, y: Tensor, forCreate = false): Prepared {
  const rank = x.shape.length;
  if (rank < 2) throw new WgslDiceError('INVALID_SHAPE', `${o.api}: input must be [B, C, ...spatial], got [${x.shape}].`);
  const [B, C] = x.shape;
  const { activation, host } = activationOf(o, C);
  if (host && forCreate) {
    throw new WgslDiceError('INVALID_OPTION', `${o.api}: other_act runs on the host; the GPU path takes activated predictions (create with other_act=None).`);
  }
  const px = host ? host(x) : x;
  const onehot = o.bool('to_onehot_y') && C > 1;
  let target: Float32Array | Uint32Array;
  let targetKind: LossOptions['target'];
  if (onehot) {
    if (y.shape[0] !== B || y.shape[1] !== 1 || y.shape.length !== rank) {
      throw new WgslDiceError('SHAPE_MISMATCH', `${o.api}: to_onehot_y needs a label map of shape [B, 1, ...], got [${y.shape}].`);
    }
    target = labels(y);
    targetKind = 'u32';
  } else {
    if (y.shape.length !== rank || y.shape.some((d, i) => d !== x.shape[i])) {
      throw new WgslDiceError('SHAPE_MISMATCH', `${o.api}: ground truth has different shape ([${y.shape}]) from input ([${x.shape}]).`);
    }
    target = f32(y);
    targetKind = 'dense';
  }
  const includeBackground = o.bool('include_background') || C === 1;
  const kept = [...Array(C).keys()].slice(includeBackground ? 0 : 1);
  const base: LossOptions = {
    shape: [...x.shape],
    layout: 'channels-first',
    activation,
    target: targetKind,
    batch: o.bool('batch'),
    smoothNumerator: o.num('smooth_nr'),
    smoothDenominator: o.num('smooth_dr'),
    label: o.api,
  };
  if (!includeBackground) base.includeBackground = false;
  const reduction = o.oneOf('reduction', kind === 'dice-ce' ? (['mean', 'sum'] as const) : (['none', 'mean', 'sum'] as const));
  base.reduction = reduction;
  const softLabel = kind !== 'dice-ce' && o.bool('soft_label');
  if (kind === 'dice' || kind === 'masked' || kind === 'dice-ce') {
    const k = o.bool('jaccard') ? 1 : 0.5;
    // f = 1 − (2·tp + smooth_nr) / (2·(tp + k·fp + k·fn) + smooth_dr)
    base.score = { numTp: 2, denTp: 2, denFp: 2 * k, denFn: 2 * k };
    if (o.bool('squared_pred')) base.squared = true; // ord 2 wins over soft_label (same tp = Σpg)
    else if (softLabel) base.softLabel = true;
    const weight = kind === 'dice-ce' ? null : o.numOrList('weight');
    if (weight !== null && C !== 1) base.weights = engineWeights(o.api, weight, kept, C);
  } else if (kind === 'tversky') {
    base.score = { numTp: 1, denTp: 1, denFp: o.num('alpha'), denFn: o.num('beta') };
    if (softLabel) base.softLabel = true;
  } else {
    base.formula = 'generalized-dice';
    base.gdlWeight = o.oneOf('w_type', ['square', 'simple', 'uniform'] as const);
    if (softLabel) base.softLabel = true;
  }
  return { lossOptions: base, pred: f32(px), target, B, C, kept, rank };
}

/** MONAI weight (scalar or one per kept class) → the engine's one weight per class. */
function engineWeights(api: string, weight: number | number[], kept: number[], C: number): number[] {
  const w = typeof weight === 'number' ? kept.map(() => weight) : weight;
  if (w.length !== kept.length) {
    throw new WgslDiceError(
      'INVALID_WEIGHTS',
      `${api}: the length of the \`weight\` sequence should be the same as the number of classes (${kept.length}). ` +
        'If `include_background=False`, the weight should not include the background category class 0.',
    );
  }
  if (w.some((v) => v < 0)) throw new WgslDiceError('INVALID_WEIGHTS', `${api}: the value/values of the \`weight\` should be no less than 0.`);
  const out = new Array<number>(C).fill(1);
  kept.forEach((c, i) => (out[c] = w[i]));
  return out;
}

function hostTensors(pred: HostInput, target: HostInput, extras: PresetExtras | undefined): { x: Tensor; y: Tensor; m: Tensor | null } {
  const layout = extras?.layout ?? null;
  const x = toTensor(pred, extras?.inputShape, 'pred');
  const yRaw = toTensor(target, extras?.targetShape, 'target');
  const y = yRaw.shape.length === x.shape.length ? channelFirst(yRaw, layout) : yRaw;
  let m: Tensor | null = null;
  if (extras?.mask != null) {
    const mRaw = toTensor(extras.mask, extras.maskShape, 'mask');
    m = mRaw.shape.length === x.shape.length ? channelFirst(mRaw, layout) : mRaw;
  }
  return { x: channelFirst(x, layout), y, m };
}

/** Per-group values (sample-major, then class) of the kept classes as [B', C'] rows. */
function keptValues(r: LossResult, p: Prepared, batch: boolean, pick: (g: number) => number): number[] {
  const rows = batch ? 1 : p.B;
  const out: number[] = [];
  for (let b = 0; b < rows; b++) for (const c of p.kept) out.push(pick(b * p.C + c));
  return out;
}

function shapeFor(C: number, kept: number[]): number[] {
  return C === 1 ? [0] : kept;
}

export function createMonaiPresets(engine: DiceEngine) {
  const cache = new LossCache(engine);

  const lossPreset = (api: string, kind: Kind, defaults: Options) => (options: Options = {}): Preset => {
    const o = parseOptions(api, options, defaults);
    // Validate eagerly what does not depend on the input.
    optionGuard(() => o.oneOf('reduction', kind === 'dice-ce' ? (['mean', 'sum'] as const) : (['none', 'mean', 'sum'] as const)));
    return {
      api,
      options: o.values,
      async create(shape, extras: CreateExtras = {}) {
        const x = tensor([...shape]);
        const y = tensor([...(extras.targetShape ?? shape)]);
        const p = prepare(o, kind, x, y, true);
        if (kind === 'masked' && extras.maskShape) {
          if (p.lossOptions.activation === 'none') {
            throw new WgslDiceError('INVALID_OPTION', `${api}: the GPU mask multiplies logits before an activation; with no activation, multiply pred and target by the mask yourself.`);
          }
          p.lossOptions.mask = 'logits';
          p.lossOptions.maskShape = extras.maskShape[0] === 1 && shape[0] !== 1 ? 'shared' : 'per-sample';
        }
        if (kind === 'dice-ce') return engine.loss(diceCeFused(o, p, y) ?? notImplemented(api, 'the GPU path fuses Dice and CE only for softmax=True with a label-map target (to_onehot_y=True)'));
        return engine.loss(p.lossOptions);
      },
      async evaluate(pred, target, extras) {
        let { x, y, m } = hostTensors(pred, target, extras);
        if (kind === 'masked') {
          if (m) {
            if (x.shape[0] !== m.shape[0] && m.shape[0] !== 1) {
              throw new WgslDiceError('SHAPE_MISMATCH', `${api}: batch size of mask ([${m.shape}]) must be 1 or equal to input ([${x.shape}])`);
            }
            // MaskedDiceLoss = DiceLoss(input·mask, target·mask): applied on the host (exact for
            // any mask, activation and label map; the GPU path uses mask: 'logits').
            const mm = m;
            x = zip(x, mm, (a, b) => a * b);
            y = zip(y, mm, (a, b) => a * b);
          }
        }
        const p = prepare(o, kind, x, y);
        if (kind === 'dice-ce') return diceCe(o, p, x, y);
        const r = await (await cache.loss(p.lossOptions)).compute(p.pred, p.target);
        const reduction = p.lossOptions.reduction;
        if (reduction !== 'none') return r.loss;
        const batch = o.bool('batch');
        const extraOnes = new Array<number>(p.rank - 2).fill(1);
        if (kind === 'gdl') {
          const rows = batch ? 1 : p.B;
          const vals = Array.from(r.groups.value.slice(0, rows));
          return nested(batch ? [1, ...extraOnes] : [rows, 1, ...extraOnes], vals);
        }
        const wts = p.lossOptions.weights as number[] | undefined;
        const vals = keptValues(r, p, batch, (g) => r.groups.value[g] * (wts ? wts[g % p.C] : 1));
        const Ck = shapeFor(p.C, p.kept).length;
        if (kind === 'tversky') return nested(batch ? [Ck] : [p.B, Ck], vals);
        return nested(batch ? [Ck, ...extraOnes] : [p.B, Ck, ...extraOnes], vals);
      },
    };
  };

  /** One fused loss (Dice + softmax CE in the same passes) when the Dice activation is the CE's softmax. */
  function diceCeFused(o: Opts, p: Prepared, y: Tensor): LossOptions | null {
    if (p.lossOptions.activation !== 'softmax' || p.lossOptions.target === 'dense') return null;
    void y;
    const weight = o.numOrList('weight');
    if (typeof weight === 'number') throw new WgslDiceError('INVALID_WEIGHTS', `${o.api}: weight must be a sequence (one entry per class)`);
    const opts: LossOptions = { ...p.lossOptions, lambdaDice: o.num('lambda_dice'), crossEntropy: { lambda: o.num('lambda_ce'), ...(weight ? { weights: weight } : {}) } };
    if (weight) opts.weights = engineWeights(o.api, p.kept.length === p.C ? weight : weight.slice(1), p.kept, p.C);
    if (o.num('label_smoothing') !== 0) return null;
    return opts;
  }

  async function diceCe(o: Opts, p: Prepared, x: Tensor, y: Tensor): Promise<number> {
    const lambdaDice = o.num('lambda_dice');
    const lambdaCe = o.num('lambda_ce');
    if (lambdaDice < 0) throw new WgslDiceError('INVALID_OPTION', `${o.api}: lambda_dice should be no less than 0.0.`);
    if (lambdaCe < 0) throw new WgslDiceError('INVALID_OPTION', `${o.api}: lambda_ce should be no less than 0.0.`);
    if (o.num('label_smoothing') !== 0) notImplemented(o.api, 'label_smoothing is not implemented on the GPU yet');
    const weight = o.numOrList('weight');
    if (typeof weight === 'number') throw new WgslDiceError('INVALID_WEIGHTS', `${o.api}: weight must be a sequence (one entry per class)`);
    const reduction = p.lossOptions.reduction as 'mean' | 'sum';
    if (p.C === 1 && weight !== null) {
      // MONAI passes weight as BCEWithLogitsLoss(pos_weight=…): the engine's binary CE weight scales the whole term.
      notImplemented(o.api, 'weight with a single channel (BCEWithLogitsLoss pos_weight) is not implemented on the GPU yet');
    }
    const fused = diceCeFused(o, p, y);
    const ceTargetIndex = y.shape[1] === 1 && p.C > 1;
    // CE 'sum' = CE mean × (Σ w_y for class-index targets, or the voxel count otherwise).
    const ceScale = (): number => {
      if (reduction === 'mean') return 1;
      const N = p.B * (x.data.length / (p.B * p.C));
      if (!ceTargetIndex || !weight) return N;
      let s = 0;
      for (const v of y.data) s += weight[Math.trunc(v)];
      return s;
    };
    if (fused) {
      const r = await (await cache.loss(fused)).compute(p.pred, p.target);
      if (reduction === 'mean') return r.loss;
      return lambdaDice * r.diceLoss + lambdaCe * r.crossEntropy * ceScale();
    }
    // Dice on the preamble's activation; CE on the raw logits in a second GPU loss (lambdaDice 0).
    const diceWeight = weight !== null && p.kept.length !== p.C ? weight.slice(1) : weight;
    const diceOpts = { ...p.lossOptions };
    if (diceWeight !== null && p.C !== 1) diceOpts.weights = engineWeights(o.api, diceWeight, p.kept, p.C);
    const dice = (await (await cache.loss(diceOpts)).compute(p.pred, p.target)).loss;
    const ceOpts: LossOptions = {
      shape: [...x.shape],
      layout: 'channels-first',
      activation: p.C > 1 ? 'softmax' : 'sigmoid',
      target: ceTargetIndex ? 'u32' : 'dense',
      lambdaDice: 0,
      crossEntropy: weight ? { lambda: 1, weights: weight } : { lambda: 1 },
      label: `${o.api} cross-entropy`,
    };
    const ceTarget = ceTargetIndex ? labels(y) : f32(y);
    const ce = (await (await cache.loss(ceOpts)).compute(f32(x), ceTarget)).crossEntropy;
    return lambdaDice * dice + lambdaCe * ce * ceScale();
  }

  const unimplemented = (api: string, defaults: Options) => (options: Options = {}): Preset => {
    const o = parseOptions(api, options, defaults);
    return {
      api,
      options: o.values,
      create: async () => notImplemented(api),
      evaluate: async () => notImplemented(api),
    };
  };

  type MetricKind = 'compute_dice' | 'DiceMetric' | 'compute_generalized_dice' | 'GeneralizedDiceScore';
  const METRIC_REDUCTIONS = ['none', 'mean', 'sum', 'mean_batch', 'sum_batch', 'mean_channel', 'sum_channel'] as const;

  const metricPreset = (api: string, kind: MetricKind, defaults: Options) => (options: Options = {}): Preset => {
    const o = parseOptions(api, options, defaults);
    const isDice = kind === 'compute_dice' || kind === 'DiceMetric';
    const optionsFor = (shape: number[], labelMap: boolean): LossOptions => ({
      shape,
      layout: 'channels-first',
      target: labelMap ? 'u32' : 'dense',
      smoothNumerator: 0,
      smoothDenominator: 0,
      reduction: 'none',
      label: api,
    });
    return {
      api,
      options: o.values,
      async create(shape, extras: CreateExtras = {}) {
        const labelMap = isDice && (extras.targetShape?.[1] ?? shape[1]) === 1 && shape[1] > 1;
        const lo = optionsFor([...shape], labelMap);
        // Dice metrics binarise pred (`.bool()`: pred > 0 for the 0/1 or probability inputs MONAI expects).
        return isDice ? engine.metric({ ...lo, binarize: 'threshold', threshold: 0 }) : engine.loss(lo);
      },
      async evaluate(pred, target, extras) {
        const { x, y } = hostTensors(pred, target, extras);
        if (x.shape.length < 3) throw new WgslDiceError('INVALID_SHAPE', `${api}: y_pred should have at least 3 dimensions (batch, channel, spatial)`);
        const [B, C] = x.shape;
        const includeBackground = o.bool('include_background');
        if (isDice) {
          if (!o.isNone('num_classes')) notImplemented(api, 'num_classes (label-map predictions) is not implemented on the GPU yet');
          const ignoreEmpty = o.bool('ignore_empty');
          const labelMap = y.shape[1] === 1 && C > 1;
          const lo = optionsFor([...x.shape], labelMap);
          const metric = await cache.metric({ ...lo, binarize: 'threshold', threshold: 0 });
          const r = await metric.compute(f32(x), labelMap ? labels(y) : f32(y));
          const channels = C > 1 ? [...Array(C).keys()].slice(includeBackground ? 0 : 1) : [0];
          const scores: number[] = [];
          for (let b = 0; b < B; b++) {
            for (const c of channels) {
              const g = b * C + c;
              const yo = r.groups.targetSum[g];
              const po = r.groups.predSum[g];
              const inter = r.groups.tp[g];
              scores.push(yo > 0 ? (2 * inter) / (yo + po) : ignoreEmpty ? Number.NaN : yo + po <= 0 ? 1 : 0);
            }
          }
          const f = tensor([B, channels.length], scores);
          if (kind === 'compute_dice') return toNested(f) as PresetValue;
          const reduction = optionGuard(() => o.oneOf('reduction', METRIC_REDUCTIONS)) as MetricReduction;
          const { value } = doMetricReduction(f, reduction);
          const rwl = o.raw('return_with_label');
          if (rwl === true || Array.isArray(rwl)) {
            const vals = Array.from(value.data).map((v) => Math.round(v * 1e4) / 1e4);
            return Array.isArray(rwl) ? vals.slice(0, rwl.length) : vals;
          }
          return toNested(value) as PresetValue;
        }
        // Generalized Dice score on the raw predictions: per-(b, c) sums from the GPU.
        if (y.shape.length !== x.shape.length || y.shape.some((d, i) => d !== x.shape[i])) {
          throw new WgslDiceError('SHAPE_MISMATCH', `${api}: y_pred ([${x.shape}]) and y ([${y.shape}]) must have the same shape`);
        }
        const weightType = optionGuard(() => o.oneOf('weight_type', ['square', 'simple', 'uniform'] as const));
        let sumOverClasses: boolean;
        let reduction: MetricReduction | null = null;
        if (kind === 'GeneralizedDiceScore') {
          reduction = optionGuard(() => o.oneOf('reduction', METRIC_REDUCTIONS)) as MetricReduction;
          sumOverClasses = ['sum', 'mean', 'mean_channel', 'sum_channel'].includes(reduction);
        } else {
          sumOverClasses = o.bool('sum_over_classes');
        }
        const loss = await cache.loss(optionsFor([...x.shape], false));
        const r = await loss.compute(f32(x), f32(y));
        const channels = [...Array(C).keys()].slice(includeBackground ? 0 : 1);
        const Ck = channels.length;
        const vw = (v: number) => (weightType === 'simple' ? 1 / v : weightType === 'square' ? 1 / (v * v) : 1);
        const out: number[] = [];
        const score = (numer: number, denom: number, predVol: number) => (denom === 0 ? (predVol === 0 ? 1 : 0) : numer / denom);
        for (let b = 0; b < B; b++) {
          const gi = channels.map((c) => b * C + c);
          const w = gi.map((g) => vw(r.groups.targetSum[g]));
          const inf = w.map((v) => !Number.isFinite(v));
          const finiteMax = Math.max(...w.map((v, i) => (inf[i] ? 0 : v)));
          const ww = w.map((v, i) => (inf[i] ? finiteMax : v));
          if (sumOverClasses) {
            let numer = 0;
            let denom = 0;
            let predVol = 0;
            gi.forEach((g, i) => {
              numer += 2 * r.groups.tp[g] * ww[i];
              denom += (r.groups.targetSum[g] + r.groups.predSum[g]) * ww[i];
              predVol += r.groups.predSum[g];
            });
            out.push(score(numer, denom, predVol));
          } else {
            gi.forEach((g, i) =>
              out.push(score(2 * r.groups.tp[g] * ww[i], (r.groups.targetSum[g] + r.groups.predSum[g]) * ww[i], r.groups.predSum[g])),
            );
          }
        }
        const f = tensor(sumOverClasses ? [B, 1] : [B, Ck], out);
        if (reduction === null) return toNested(f) as PresetValue;
        return toNested(doMetricReduction(f, reduction).value) as PresetValue;
      },
    };
  };

  return {
    DiceLoss: lossPreset('monai.losses.DiceLoss', 'dice', DICE_LOSS_DEFAULTS),
    MaskedDiceLoss: lossPreset('monai.losses.MaskedDiceLoss', 'masked', DICE_LOSS_DEFAULTS),
    GeneralizedDiceLoss: lossPreset('monai.losses.GeneralizedDiceLoss', 'gdl', GDL_DEFAULTS),
    TverskyLoss: lossPreset('monai.losses.TverskyLoss', 'tversky', TVERSKY_DEFAULTS),
    DiceCELoss: lossPreset('monai.losses.DiceCELoss', 'dice-ce', DICE_CE_DEFAULTS),
    DiceFocalLoss: unimplemented('monai.losses.DiceFocalLoss', DICE_FOCAL_DEFAULTS),
    FocalLoss: unimplemented('monai.losses.FocalLoss', FOCAL_DEFAULTS),
    GeneralizedWassersteinDiceLoss: unimplemented('monai.losses.GeneralizedWassersteinDiceLoss', GWDL_DEFAULTS),
    compute_dice: metricPreset('monai.metrics.compute_dice', 'compute_dice', COMPUTE_DICE_DEFAULTS),
    DiceMetric: metricPreset('monai.metrics.DiceMetric', 'DiceMetric', DICE_METRIC_DEFAULTS),
    compute_generalized_dice: metricPreset('monai.metrics.compute_generalized_dice', 'compute_generalized_dice', COMPUTE_GDICE_DEFAULTS),
    GeneralizedDiceScore: metricPreset('monai.metrics.GeneralizedDiceScore', 'GeneralizedDiceScore', GDICE_SCORE_DEFAULTS),
  };
}
