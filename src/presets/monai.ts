// MONAI presets: engine.presets.monai.<Api>(options) with MONAI's constructor option names and
// defaults (peer-semantics.md b.1). Inputs are channel-first (NCHW…); a layout in extras moves C to axis 1.

import type { LossFactory } from '../losses/factory.js';
import { WgslDiceError } from '../core/errors.js';
import type { ClDiceLoss } from '../losses/cldice.js';
import type { FocalOptions, LossOptions } from '../spec/family.js';
import type { WassersteinDiceLoss } from '../losses/wasserstein.js';
import type { ClDiceOptions } from '../spec/cldice.js';
import type { WassersteinDiceOptions } from '../spec/wasserstein.js';
import type { Opts } from '../peers/options.js';
import { MONAI_DEFAULTS, type MetricReduction, doMetricReduction, skeletonIterationsOf } from '../peers/monai.js';
import { type Tensor, moveAxis, numel, reshape, tensor, toNested, zip } from '../peers/tensor.js';
import { type KernelActivation, hostActivation, hostOnlyActivation, kernelActivation } from './activation.js';
import {
  type CreateExtras,
  type HostInput,
  PresetLossCache,
  type Options,
  type Preset,
  type PresetExtras,
  type PresetValue,
  channelFirst,
  f32,
  labels,
  nested,
  optionGuard,
  parseOptions,
  storedIn,
  toTensor,
} from './common.js';
import { createMonaiSurfacePresets } from './monai-surface.js';

/** A preset whose GPU path is the clDice loss (engine.loss({ formula: 'cl-dice' })). */
export interface ClDicePreset extends Omit<Preset, 'create'> {
  /** For y_pred of `shape` `[B, C, H, W]` or `[B, C, D, H, W]`; compute(pred, target, { grad: true }). */
  create(shape: readonly number[], extras?: CreateExtras): Promise<ClDiceLoss>;
}

/** A preset whose GPU path is engine.wassersteinDice rather than a FamilyLoss. */
export interface WassersteinPreset extends Omit<Preset, 'create'> {
  create(shape: readonly number[], extras?: CreateExtras): Promise<WassersteinDiceLoss>;
}

type Kind = 'dice' | 'masked' | 'tversky' | 'gdl' | 'dice-ce' | 'dice-focal' | 'gdl-focal';

/** MONAI's preamble from the shapes alone: what create() needs. */
interface MonaiPreamble {
  lossOptions: LossOptions;
  B: number;
  C: number;
  /** Classes kept after include_background. */
  kept: number[];
  rank: number;
  /** other_act ran on the host (pred holds its output): a term on the logits needs them apart. */
  hostActivated: boolean;
}

/** {@link MonaiPreamble} with the host data evaluate() uploads. */
interface Prepared extends MonaiPreamble {
  pred: Float32Array;
  target: Float32Array | Uint32Array;
}

function activationOf(o: Opts, C: number): { activation: KernelActivation; host: ((t: Tensor) => Tensor) | null } {
  const n = Number(o.bool('sigmoid')) + Number(o.bool('softmax')) + Number(!o.isNone('other_act'));
  if (n > 1) {
    throw new WgslDiceError(
      'INVALID_OPTION',
      `${o.api}: Incompatible values: more than 1 of [sigmoid=True, softmax=True, other_act is not None].`,
    );
  }
  if (o.bool('sigmoid')) return { activation: 'sigmoid', host: null };
  if (o.bool('softmax')) return { activation: C === 1 ? 'none' : 'softmax', host: null }; // MONAI ignores softmax when C = 1
  const act = o.raw('other_act');
  if (act === null) return { activation: 'none', host: null };
  // Named activations run in the kernels (other_act's softmax is not skipped when C = 1);
  // any other callable runs on the host, in evaluate() only.
  const kernel = kernelActivation(act);
  return kernel !== null
    ? { activation: kernel, host: null }
    : { activation: 'none', host: hostActivation(o.api, act) };
}

/**
 * MONAI's preamble mapped to engine options, from the shapes alone (pure: create() maps a
 * [2, 4, 512, 512, 16] loss without a host tensor of that size). `x`, `y`: channel-first shapes.
 */
export function monaiLossOptions(
  o: Opts,
  kind: Kind,
  x: readonly number[],
  y: readonly number[],
  forCreate: boolean,
): MonaiPreamble {
  const rank = x.length;
  if (rank < 2) throw new WgslDiceError('INVALID_SHAPE', `${o.api}: input must be [B, C, ...spatial], got [${x}].`);
  const [B, C] = x;
  const { activation, host } = activationOf(o, C);
  if (host && forCreate) hostOnlyActivation(o.api, 'other_act', o.raw('other_act'));
  const onehot = o.bool('to_onehot_y') && C > 1;
  if (onehot) {
    if (y[0] !== B || y[1] !== 1 || y.length !== rank) {
      throw new WgslDiceError(
        'SHAPE_MISMATCH',
        `${o.api}: to_onehot_y needs a label map of shape [B, 1, ...], got [${y}].`,
      );
    }
  } else if (y.length !== rank || y.some((d, i) => d !== x[i])) {
    throw new WgslDiceError(
      'SHAPE_MISMATCH',
      `${o.api}: ground truth has different shape ([${y}]) from input ([${x}]).`,
    );
  }
  const includeBackground = o.bool('include_background') || C === 1;
  const kept = [...Array(C).keys()].slice(includeBackground ? 0 : 1);
  const base: LossOptions = {
    shape: [...x],
    layout: 'channels-first',
    activation,
    target: onehot ? 'u32' : 'dense',
    batch: o.bool('batch'),
    smoothNumerator: o.num('smooth_nr'),
    smoothDenominator: o.num('smooth_dr'),
    label: o.api,
  };
  if (!includeBackground) base.includeBackground = false;
  const reduction = o.oneOf(
    'reduction',
    kind === 'dice-ce' ? (['mean', 'sum'] as const) : (['none', 'mean', 'sum'] as const),
  );
  base.reduction = reduction;
  // DiceCELoss, DiceFocalLoss and GeneralizedDiceFocalLoss have no soft_label.
  const softLabel = 'soft_label' in o.values && o.bool('soft_label');
  if (kind === 'dice' || kind === 'masked' || kind === 'dice-ce' || kind === 'dice-focal') {
    const k = o.bool('jaccard') ? 1 : 0.5;
    // f = 1 − (2·tp + smooth_nr) / (2·(tp + k·fp + k·fn) + smooth_dr)
    base.score = { numTp: 2, denTp: 2, denFp: 2 * k, denFn: 2 * k };
    if (o.bool('squared_pred'))
      base.squared = true; // ord 2 wins over soft_label (same tp = Σpg)
    else if (softLabel) base.softLabel = 'absolute';
    const weight = kind === 'dice-ce' ? null : o.numOrList('weight');
    // MONAI applies `weight` only while more than one channel is left (after include_background).
    if (weight !== null && kept.length !== 1) base.weights = engineWeights(o.api, weight, kept, C);
  } else if (kind === 'tversky') {
    base.score = { numTp: 1, denTp: 1, denFp: o.num('alpha'), denFn: o.num('beta') };
    if (softLabel) base.softLabel = 'absolute';
  } else {
    base.formula = 'generalized-dice';
    base.gdlWeight = o.oneOf('w_type', ['square', 'simple', 'uniform'] as const);
    if (softLabel) base.softLabel = 'absolute';
  }
  return { lossOptions: base, B, C, kept, rank, hostActivated: host !== null };
}

/** {@link monaiLossOptions} for host tensors, with pred (other_act applied on the host when it runs there) and target packed. */
function prepare(o: Opts, kind: Kind, x: Tensor, y: Tensor): Prepared {
  const mapped = monaiLossOptions(o, kind, x.shape, y.shape, false);
  const { host } = activationOf(o, mapped.C);
  const target = mapped.lossOptions.target === 'u32' ? labels(y) : f32(y);
  return { ...mapped, pred: f32(host ? host(x) : x), target };
}

/** MONAI FocalLoss's reduction as the engine's focal reduction ('none' keeps the sum: the gradient path). */
const FOCAL_REDUCTION = { mean: 'mean', sum: 'sum-of-means', none: 'sum' } as const;

/**
 * MONAI FocalLoss options as the engine's focal term: alpha and weight are per kept class; a
 * scalar alpha of the softmax form is dropped without the background (MONAI warns and drops it);
 * weight is ignored when one class is left.
 */
function focalTerm(o: Opts, C: number, kept: number[], useSoftmax: boolean, lambda: number): FocalOptions {
  const reduction = o.oneOf('reduction', ['none', 'mean', 'sum'] as const);
  // GeneralizedDiceFocalLoss has no alpha (its FocalLoss gets alpha=None).
  let alpha = focalAlpha(o);
  if (useSoftmax && kept.length !== C && typeof alpha === 'number') alpha = null;
  if (Array.isArray(alpha) && alpha.length !== kept.length) {
    throw new WgslDiceError(
      'INVALID_OPTION',
      `${o.api}: alpha has ${alpha.length} entries for ${kept.length} classes.`,
    );
  }
  const gamma = o.num('gamma');
  if (!(gamma >= 0))
    throw new WgslDiceError('INVALID_OPTION', `${o.api}: gamma must be >= 0 on the GPU, got ${gamma}.`);
  const focal: FocalOptions = { lambda, gamma, useSoftmax, reduction: FOCAL_REDUCTION[reduction] };
  if (alpha !== null) focal.alpha = alpha;
  const weight = o.numOrList('weight');
  if (weight !== null && kept.length !== 1) focal.weights = engineWeights(o.api, weight, kept, C);
  return focal;
}

/**
 * The focal alpha (GeneralizedDiceFocalLoss has none: null). MONAI documents it in [0, 1] (the
 * weight of the positive terms; 1 - alpha weighs the negative ones) without checking it; outside,
 * a term's weight is negative and so can the loss be: INVALID_OPTION.
 */
function focalAlpha(o: Opts): number | number[] | null {
  const alpha = 'alpha' in o.values ? optionGuard(() => o.numOrList('alpha')) : null;
  for (const [i, a] of (typeof alpha === 'number' ? [alpha] : (alpha ?? [])).entries()) {
    if (!(a >= 0 && a <= 1)) {
      throw new WgslDiceError(
        'INVALID_OPTION',
        `${o.api}: alpha${typeof alpha === 'number' ? '' : `[${i}]`} must be in [0, 1] (the weight of the positive ` +
          `terms; 1 - alpha weighs the negative ones), got ${a}.`,
      );
    }
  }
  return alpha;
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
  if (w.some((v) => v < 0))
    throw new WgslDiceError('INVALID_WEIGHTS', `${api}: the value/values of the \`weight\` should be no less than 0.`);
  const out = new Array<number>(C).fill(1);
  kept.forEach((c, i) => (out[c] = w[i]));
  return out;
}

/** BCEWithLogitsLoss(pos_weight=weight) for one channel: weight must hold one value. */
function bcePosWeight(api: string, weight: number[] | null): { posWeight?: number } {
  if (weight === null) return {};
  if (weight.length !== 1) {
    throw new WgslDiceError(
      'INVALID_WEIGHTS',
      `${api}: with one channel, weight is BCEWithLogitsLoss's pos_weight and needs 1 entry, got ${weight.length}.`,
    );
  }
  if (!(weight[0] >= 0))
    throw new WgslDiceError('INVALID_WEIGHTS', `${api}: pos_weight must be >= 0, got ${weight[0]}.`);
  return { posWeight: weight[0] };
}

function hostTensors(
  pred: HostInput,
  target: HostInput,
  extras: PresetExtras | undefined,
): { x: Tensor; y: Tensor; m: Tensor | null } {
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
function keptValues(p: Prepared, batch: boolean, pick: (g: number) => number): number[] {
  const rows = batch ? 1 : p.B;
  const out: number[] = [];
  for (let b = 0; b < rows; b++) for (const c of p.kept) out.push(pick(b * p.C + c));
  return out;
}

function shapeFor(C: number, kept: number[]): number[] {
  return C === 1 ? [0] : kept;
}

export function createMonaiPresets(factory: LossFactory) {
  const cache = new PresetLossCache(factory);

  const lossPreset =
    (api: string, kind: Kind, defaults: Options) =>
    (options: Options = {}): Preset => {
      const o = parseOptions(api, options, defaults);
      // Validate eagerly what does not depend on the input.
      focalAlpha(o);
      optionGuard(() =>
        o.oneOf('reduction', kind === 'dice-ce' ? (['mean', 'sum'] as const) : (['none', 'mean', 'sum'] as const)),
      );
      const lambdaNames = {
        'dice-focal': ['lambda_dice', 'lambda_focal'],
        'gdl-focal': ['lambda_gdl', 'lambda_focal'],
        'dice-ce': ['lambda_dice', 'lambda_ce'],
      } as const;
      if (kind === 'dice-focal' || kind === 'gdl-focal' || kind === 'dice-ce') {
        for (const name of lambdaNames[kind]) {
          if (optionGuard(() => o.num(name)) < 0)
            throw new WgslDiceError('INVALID_OPTION', `${api}: ${name} should be no less than 0.0.`);
        }
      }
      /** The whole loss as one engine loss: the scalar MONAI returns (for 'none', its tensor's sum). */
      const fusedOptions = (p: MonaiPreamble): LossOptions => {
        if (kind === 'dice-ce') return diceCeFused(o, p);
        if (kind === 'dice-focal' || kind === 'gdl-focal') return diceFocalFused(o, kind, p);
        return p.lossOptions;
      };
      return {
        api,
        options: o.values,
        async create(shape, extras: CreateExtras = {}) {
          const p = monaiLossOptions(o, kind, shape, extras.targetShape ?? shape, true);
          if (kind === 'masked' && extras.maskShape) {
            // MaskedDiceLoss = DiceLoss(input * mask, target * mask), in the kernels' mask-the-logits mode.
            p.lossOptions.mask = 'logits';
            p.lossOptions.maskShape = extras.maskShape[0] === 1 && shape[0] !== 1 ? 'shared' : 'per-sample';
          }
          return storedIn(factory, extras.layout).loss(fusedOptions(p));
        },
        async evaluate(pred, target, extras) {
          let { x, y, m } = hostTensors(pred, target, extras);
          if (kind === 'masked') {
            if (m) {
              if (x.shape[0] !== m.shape[0] && m.shape[0] !== 1) {
                throw new WgslDiceError(
                  'SHAPE_MISMATCH',
                  `${api}: batch size of mask ([${m.shape}]) must be 1 or equal to input ([${x.shape}])`,
                );
              }
              // MaskedDiceLoss = DiceLoss(input·mask, target·mask): applied on the host (exact for
              // any mask, activation and label map; the GPU path uses mask: 'logits').
              const mm = m;
              x = zip(x, mm, (a, b) => a * b);
              y = zip(y, mm, (a, b) => a * b);
            }
          }
          const p = prepare(o, kind, x, y);
          const reduction = p.lossOptions.reduction;
          if ((kind === 'dice-focal' || kind === 'gdl-focal') && reduction === 'none')
            return diceFocalTensor(o, kind, p, x);
          if (kind === 'dice-ce' || kind === 'dice-focal' || kind === 'gdl-focal') {
            const fused = fusedOptions(p);
            return p.hostActivated
              ? splitAtLogits(fused, p, x)
              : (await (await cache.loss(fused)).compute(p.pred, p.target)).loss;
          }
          const r = await (await cache.loss(p.lossOptions)).compute(p.pred, p.target);
          if (reduction !== 'none') return r.loss;
          const batch = o.bool('batch');
          const extraOnes = new Array<number>(p.rank - 2).fill(1);
          const vals = diceGroupValues(kind, p, r.groups.value);
          if (kind === 'gdl') return nested(batch ? [1, ...extraOnes] : [p.B, 1, ...extraOnes], vals);
          const Ck = shapeFor(p.C, p.kept).length;
          if (kind === 'tversky') return nested(batch ? [Ck] : [p.B, Ck], vals);
          return nested(batch ? [Ck, ...extraOnes] : [p.B, Ck, ...extraOnes], vals);
        },
      };
    };

  /** MONAI's 'none' values of the Dice part: per row (sample, or one with batch), the kept classes' weighted values, or one GDL value. */
  function diceGroupValues(kind: Kind, p: Prepared, value: Float32Array): number[] {
    const batch = p.lossOptions.batch === true;
    if (kind === 'gdl' || kind === 'gdl-focal') return Array.from(value.slice(0, batch ? 1 : p.B));
    const wts = p.lossOptions.weights as number[] | undefined;
    return keptValues(p, batch, (g) => value[g] * (wts ? wts[g % p.C] : 1));
  }

  /**
   * DiceFocalLoss / GeneralizedDiceFocalLoss in one loss: the Dice part on the preamble's
   * activation, the focal part (MONAI's sigmoid form) on the same raw logits in the same passes.
   * For reduction 'none' the scalar is the sum of MONAI's tensor: the Dice values broadcast over
   * [B, C', ...spatial] (each repeated `diceRepeats` times) plus every focal element.
   */
  function diceFocalFused(o: Opts, kind: 'dice-focal' | 'gdl-focal', p: MonaiPreamble): LossOptions {
    const none = p.lossOptions.reduction === 'none';
    const lambdaDice = o.num(kind === 'dice-focal' ? 'lambda_dice' : 'lambda_gdl') * (none ? diceRepeats(kind, p) : 1);
    return { ...p.lossOptions, lambdaDice, focal: focalTerm(o, p.C, p.kept, false, o.num('lambda_focal')) };
  }

  /** How often each Dice value of a 'none' reduction appears once broadcast against [B, C', ...spatial]. */
  function diceRepeats(kind: 'dice-focal' | 'gdl-focal', p: MonaiPreamble): number {
    const S = p.lossOptions.shape.slice(2).reduce((a, b) => a * b, 1);
    const perValue = kind === 'gdl-focal' ? p.kept.length * S : S;
    return p.lossOptions.batch ? p.B * perValue : perValue;
  }

  /**
   * With a host other_act, pred holds its output: the Dice part runs on it and the terms on the
   * logits (cross-entropy, focal) on the raw input, as two GPU losses.
   */
  async function splitAtLogits(fused: LossOptions, p: Prepared, x: Tensor): Promise<number> {
    const { crossEntropy, focal, lambdaDice = 1, ...dice } = fused;
    const diceLoss = lambdaDice === 0 ? 0 : (await (await cache.loss(dice)).compute(p.pred, p.target)).loss;
    const onLogits: LossOptions = { ...dice, activation: 'none', lambdaDice: 0, label: `${dice.label} on the logits` };
    if (crossEntropy) onLogits.crossEntropy = crossEntropy;
    if (focal) onLogits.focal = focal;
    return lambdaDice * diceLoss + (await (await cache.loss(onLogits)).compute(f32(x), p.target)).loss;
  }

  /** DiceFocalLoss / GeneralizedDiceFocalLoss reduction 'none': MONAI's [B, C', ...spatial] tensor. */
  async function diceFocalTensor(
    o: Opts,
    kind: 'dice-focal' | 'gdl-focal',
    p: Prepared,
    x: Tensor,
  ): Promise<PresetValue> {
    const diceValues = diceGroupValues(
      kind,
      p,
      (await (await cache.loss(p.lossOptions)).compute(p.pred, p.target)).groups.value,
    );
    const focalValues = await focalElements(
      o.api,
      x,
      p.target,
      p.lossOptions.target === 'dense',
      focalTerm(o, p.C, p.kept, false, 1),
      p.kept.length !== p.C,
    );
    const lambdaDiceValue = o.num(kind === 'dice-focal' ? 'lambda_dice' : 'lambda_gdl');
    const lambdaFocal = o.num('lambda_focal');
    const [B] = x.shape;
    const S = numel(x.shape.slice(2));
    const Ck = p.kept.length;
    const rowWidth = kind === 'gdl-focal' ? 1 : Ck;
    const out: number[] = [];
    for (let b = 0; b < B; b++) {
      for (let k = 0; k < Ck; k++) {
        const d = diceValues[(p.lossOptions.batch ? 0 : b * rowWidth) + (kind === 'gdl-focal' ? 0 : k)];
        for (let s = 0; s < S; s++) out.push(lambdaDiceValue * d + lambdaFocal * focalValues[(b * Ck + k) * S + s]);
      }
    }
    return nested([B, Ck, ...x.shape.slice(2)], out);
  }

  /**
   * DiceCELoss in one loss: the Dice part on the preamble's activation (weight[1:] without the
   * background), torch's cross-entropy on the raw logits in the same passes: CrossEntropyLoss
   * (class indices for a label map, probabilities for a dense target) when C > 1, else
   * BCEWithLogitsLoss(pos_weight=weight); the reduction applies to both.
   */
  function diceCeFused(o: Opts, p: MonaiPreamble): LossOptions {
    const weight = o.numOrList('weight');
    if (typeof weight === 'number')
      throw new WgslDiceError('INVALID_WEIGHTS', `${o.api}: weight must be a sequence (one entry per class)`);
    const reduction = p.lossOptions.reduction as 'mean' | 'sum';
    // MONAI hands label_smoothing to CrossEntropyLoss only: BCEWithLogitsLoss (C = 1) has none.
    const crossEntropy: NonNullable<LossOptions['crossEntropy']> =
      p.C === 1
        ? { lambda: o.num('lambda_ce'), form: 'binary', reduction, ...bcePosWeight(o.api, weight) }
        : {
            lambda: o.num('lambda_ce'),
            form: 'softmax',
            reduction,
            labelSmoothing: o.num('label_smoothing'),
            ...(weight ? { weights: weight } : {}),
          };
    const opts: LossOptions = { ...p.lossOptions, lambdaDice: o.num('lambda_dice'), crossEntropy };
    if (weight && p.kept.length !== 1)
      opts.weights = engineWeights(o.api, p.kept.length === p.C ? weight : weight.slice(1), p.kept, p.C);
    return opts;
  }

  /** monai.losses.GeneralizedWassersteinDiceLoss on engine.wassersteinDice (its own kernels). */
  const wassersteinLosses = new PresetLossCache(factory);
  const wassersteinPreset =
    (api: string) =>
    (options: Options = {}): WassersteinPreset => {
      const o = parseOptions(api, options, MONAI_DEFAULTS.GeneralizedWassersteinDiceLoss);
      if (o.isNone('dist_matrix')) throw new WgslDiceError('INVALID_OPTION', `${api}: dist_matrix is required.`);
      const distanceMatrix = optionGuard(() => o.matrix('dist_matrix'));
      const weighting = optionGuard(() => o.oneOf('weighting_mode', ['default', 'GDL'] as const));
      const reduction = optionGuard(() => o.oneOf('reduction', ['none', 'mean', 'sum'] as const));
      const optionsFor = (shape: readonly number[]): WassersteinDiceOptions => {
        if (shape.length < 2 || shape[1] !== distanceMatrix.length) {
          throw new WgslDiceError(
            'SHAPE_MISMATCH',
            `${api}: input [${shape}] must be [B, C, ...spatial] with C = ${distanceMatrix.length} (the size of dist_matrix).`,
          );
        }
        return {
          shape: [...shape],
          layout: 'channels-first',
          target: 'u32',
          distanceMatrix,
          weighting,
          reduction,
          smoothNumerator: o.num('smooth_nr'),
          smoothDenominator: o.num('smooth_dr'),
          label: api,
        };
      };
      const lossFor = (shape: readonly number[]) => {
        const lossOptions = optionsFor(shape);
        return wassersteinLosses.get('wasserstein', lossOptions, () => factory.wassersteinDice(lossOptions));
      };
      return {
        api,
        options: o.values,
        create: async (shape, extras: CreateExtras = {}) =>
          storedIn(factory, extras.layout).wassersteinDice(optionsFor(shape)),
        async evaluate(pred, target, extras) {
          const { x, y } = hostTensors(pred, target, extras);
          const B = x.shape[0];
          // The label map may come as [B, ...spatial] or [B, 1, ...spatial]: one label per voxel.
          if (y.shape[0] !== B || y.data.length !== B * numel(x.shape.slice(2))) {
            throw new WgslDiceError(
              'SHAPE_MISMATCH',
              `${api}: target ([${y.shape}]) does not hold one label per voxel of input ([${x.shape}]).`,
            );
          }
          const r = await (await lossFor(x.shape)).compute(f32(x), labels(y));
          return reduction === 'none' ? nested([B], r.perSample) : r.loss;
        },
      };
    };

  /**
   * MONAI's focal tensor ('none'): [B, kept classes, S] flat. Every voxel becomes a sample of one
   * voxel (channels-last [B*S, C]), so that the per-(sample, class) focal sums are the elements.
   */
  async function focalElements(
    api: string,
    x: Tensor,
    target: Float32Array | Uint32Array,
    dense: boolean,
    focal: FocalOptions,
    dropBackground: boolean,
    activation: LossOptions['activation'] = 'none',
  ): Promise<number[]> {
    const [B, C] = x.shape;
    const S = numel(x.shape.slice(2));
    const voxelsFirst = (data: ArrayLike<number>) =>
      f32(moveAxis(reshape(tensor([...x.shape], Float64Array.from(data)), [B, C, S]), 1, 2));
    const perVoxel: LossOptions = {
      shape: [B * S, C],
      layout: 'channels-last',
      activation,
      target: dense ? 'dense' : 'u32',
      lambdaDice: 0,
      focal: { ...focal, reduction: 'sum' },
      label: `${api} element-wise`,
    };
    if (dropBackground) perVoxel.includeBackground = false;
    const r = await (await cache.loss(perVoxel)).compute(voxelsFirst(x.data), dense ? voxelsFirst(target) : target);
    const out: number[] = [];
    for (let b = 0; b < B; b++)
      for (let c = dropBackground ? 1 : 0; c < C; c++)
        for (let s = 0; s < S; s++) out.push(r.pairFocal![(b * S + s) * C + c]);
    return out;
  }

  /** monai.losses.FocalLoss: the engine's focal term alone (lambdaDice 0). */
  const focalPreset =
    (api: string) =>
    (options: Options = {}): Preset => {
      const o = parseOptions(api, options, MONAI_DEFAULTS.FocalLoss);
      optionGuard(() => o.oneOf('reduction', ['none', 'mean', 'sum'] as const));
      focalAlpha(o);
      /** Options for pred of `shape` (channel-first); `labelMap` when the target is a label map. */
      const focalOptions = (shape: readonly number[], targetShape: readonly number[]) => {
        if (shape.length < 2)
          throw new WgslDiceError('INVALID_SHAPE', `${api}: input must be [B, C, ...spatial], got [${shape}].`);
        const C = shape[1];
        const labelMap = o.bool('to_onehot_y') && C > 1;
        if (
          labelMap
            ? targetShape[1] !== 1 || targetShape[0] !== shape[0]
            : targetShape.some((d, i) => d !== shape[i]) || targetShape.length !== shape.length
        ) {
          throw new WgslDiceError(
            'SHAPE_MISMATCH',
            `${api}: ground truth has different shape ([${targetShape}]) from input ([${shape}]).`,
          );
        }
        const includeBackground = o.bool('include_background') || C === 1;
        const kept = [...Array(C).keys()].slice(includeBackground ? 0 : 1);
        const useSoftmax = o.bool('use_softmax');
        const lossOptions: LossOptions = {
          shape: [...shape],
          layout: 'channels-first',
          activation: useSoftmax ? 'softmax' : 'sigmoid',
          target: labelMap ? 'u32' : 'dense',
          lambdaDice: 0,
          focal: optionGuard(() => focalTerm(o, C, kept, useSoftmax, 1)),
          label: api,
        };
        if (!includeBackground) lossOptions.includeBackground = false;
        return { lossOptions, labelMap, kept };
      };
      return {
        api,
        options: o.values,
        create: async (shape, extras: CreateExtras = {}) =>
          storedIn(factory, extras.layout).loss(focalOptions(shape, extras.targetShape ?? shape).lossOptions),
        async evaluate(pred, target, extras) {
          const { x, y } = hostTensors(pred, target, extras);
          const { lossOptions, labelMap, kept } = focalOptions(x.shape, y.shape);
          const targetData = labelMap ? labels(y) : f32(y);
          if (o.raw('reduction') !== 'none')
            return (await (await cache.loss(lossOptions)).compute(f32(x), targetData)).loss;
          const values = await focalElements(
            api,
            x,
            targetData,
            !labelMap,
            lossOptions.focal!,
            kept.length !== x.shape[1],
            lossOptions.activation,
          );
          return nested([x.shape[0], kept.length, ...x.shape.slice(2)], values);
        },
      };
    };

  type MetricKind = 'compute_dice' | 'DiceMetric' | 'compute_generalized_dice' | 'GeneralizedDiceScore';

  /**
   * y_pred as MONAI's DiceHelper reads it, as 0/1 channels: a one-channel prediction is a label
   * map (one channel per class for num_classes > 1, else the single channel `y_pred == 1`);
   * a multi-channel one is binarised as `y_pred != 0`.
   */
  function binarisedPrediction(x: Tensor, numClasses: number | null): Tensor {
    const [B, predCh] = x.shape;
    const N = numel(x.shape.slice(2));
    const classes = numClasses ?? predCh;
    if (predCh > 1)
      return tensor(
        [...x.shape],
        Float64Array.from(x.data, (v) => (v !== 0 ? 1 : 0)),
      );
    if (classes <= 1)
      return tensor(
        [...x.shape],
        Float64Array.from(x.data, (v) => (v === 1 ? 1 : 0)),
      );
    const out = tensor([B, classes, ...x.shape.slice(2)]);
    for (let b = 0; b < B; b++) {
      for (let n = 0; n < N; n++) {
        const label = x.data[b * N + n];
        if (Number.isInteger(label) && label >= 0 && label < classes) out.data[(b * classes + label) * N + n] = 1;
      }
    }
    return out;
  }
  const METRIC_REDUCTIONS = ['none', 'mean', 'sum', 'mean_batch', 'sum_batch', 'mean_channel', 'sum_channel'] as const;

  const metricPreset =
    (api: string, kind: MetricKind, defaults: Options) =>
    (options: Options = {}): Preset => {
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
          const stored = storedIn(factory, extras.layout);
          return isDice ? stored.metric({ ...lo, binarize: 'threshold', threshold: 0 }) : stored.loss(lo);
        },
        async evaluate(pred, target, extras) {
          const { x, y } = hostTensors(pred, target, extras);
          if (x.shape.length < 3)
            throw new WgslDiceError(
              'INVALID_SHAPE',
              `${api}: y_pred should have at least 3 dimensions (batch, channel, spatial)`,
            );
          const includeBackground = o.bool('include_background');
          if (isDice) {
            const ignoreEmpty = o.bool('ignore_empty');
            // MONAI's DiceHelper reads a one-channel y_pred as a label map (y_pred == c, over
            // num_classes classes, or class 1 alone) and any other y_pred as y_pred != 0. That
            // decoding happens here, on the host, into a 0/1 prediction the GPU metric
            // thresholds at 0.5.
            const xb = binarisedPrediction(x, o.numOrNull('num_classes'));
            const [B, C] = xb.shape;
            const labelMap = y.shape[1] === 1 && C > 1;
            const lo = optionsFor([...xb.shape], labelMap);
            const metric = await cache.metric({ ...lo, binarize: 'threshold', threshold: 0.5 });
            const r = await metric.compute(f32(xb), labelMap ? labels(y) : f32(y));
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
          const [B, C] = x.shape;
          if (y.shape.length !== x.shape.length || y.shape.some((d, i) => d !== x.shape[i])) {
            throw new WgslDiceError(
              'SHAPE_MISMATCH',
              `${api}: y_pred ([${x.shape}]) and y ([${y.shape}]) must have the same shape`,
            );
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
          const score = (numer: number, denom: number, predVol: number) =>
            denom === 0 ? (predVol === 0 ? 1 : 0) : numer / denom;
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
                out.push(
                  score(
                    2 * r.groups.tp[g] * ww[i],
                    (r.groups.targetSum[g] + r.groups.predSum[g]) * ww[i],
                    r.groups.predSum[g],
                  ),
                ),
              );
            }
          }
          const f = tensor(sumOverClasses ? [B, 1] : [B, Ck], out);
          if (reduction === null) return toNested(f) as PresetValue;
          return toNested(doMetricReduction(f, reduction).value) as PresetValue;
        },
      };
    };

  /**
   * monai.losses.SoftclDiceLoss / SoftDiceclDiceLoss: y_true and y_pred of one shape, NC...
   * (2D or 3D); evaluate(pred, target) takes y_pred first (MONAI's call is loss(y_true, y_pred)).
   */
  const clDiceLosses = new PresetLossCache(factory);
  const clDicePreset =
    (api: string, defaults: Options, withSoftDice: boolean) =>
    (options: Options = {}): ClDicePreset => {
      const o = parseOptions(api, options, defaults);
      const skeletonIterations = optionGuard(() => skeletonIterationsOf(o));
      const smooth = optionGuard(() => o.num('smooth'));
      const alpha = withSoftDice ? optionGuard(() => o.num('alpha')) : 1;
      const optionsFor = (shape: readonly number[]): ClDiceOptions => ({
        formula: 'cl-dice',
        shape: [...shape],
        layout: 'channels-first',
        skeletonIterations,
        alpha,
        smooth,
        label: api,
      });
      const lossFor = (shape: readonly number[]) => {
        const lossOptions = optionsFor(shape);
        return clDiceLosses.get('cl-dice', lossOptions, () => factory.loss(lossOptions));
      };
      return {
        api,
        options: o.values,
        create: async (shape, extras: CreateExtras = {}) => storedIn(factory, extras.layout).loss(optionsFor(shape)),
        async evaluate(pred, target, extras) {
          const { x, y } = hostTensors(pred, target, extras);
          if (y.shape.length !== x.shape.length || y.shape.some((d, i) => d !== x.shape[i])) {
            throw new WgslDiceError(
              'SHAPE_MISMATCH',
              `${api}: y_true ([${y.shape}]) and y_pred ([${x.shape}]) must have the same shape.`,
            );
          }
          return (await (await lossFor(x.shape)).compute(f32(x), f32(y))).loss;
        },
      };
    };

  return {
    // Surface-distance metrics and the Hausdorff distance-transform losses: src/presets/monai-surface.ts.
    ...createMonaiSurfacePresets(factory),
    SoftclDiceLoss: clDicePreset('monai.losses.SoftclDiceLoss', MONAI_DEFAULTS.SoftclDiceLoss, false),
    SoftDiceclDiceLoss: clDicePreset('monai.losses.SoftDiceclDiceLoss', MONAI_DEFAULTS.SoftDiceclDiceLoss, true),
    DiceLoss: lossPreset('monai.losses.DiceLoss', 'dice', MONAI_DEFAULTS.DiceLoss),
    MaskedDiceLoss: lossPreset('monai.losses.MaskedDiceLoss', 'masked', MONAI_DEFAULTS.DiceLoss),
    GeneralizedDiceLoss: lossPreset('monai.losses.GeneralizedDiceLoss', 'gdl', MONAI_DEFAULTS.GeneralizedDiceLoss),
    TverskyLoss: lossPreset('monai.losses.TverskyLoss', 'tversky', MONAI_DEFAULTS.TverskyLoss),
    DiceCELoss: lossPreset('monai.losses.DiceCELoss', 'dice-ce', MONAI_DEFAULTS.DiceCELoss),
    DiceFocalLoss: lossPreset('monai.losses.DiceFocalLoss', 'dice-focal', MONAI_DEFAULTS.DiceFocalLoss),
    GeneralizedDiceFocalLoss: lossPreset(
      'monai.losses.GeneralizedDiceFocalLoss',
      'gdl-focal',
      MONAI_DEFAULTS.GeneralizedDiceFocalLoss,
    ),
    FocalLoss: focalPreset('monai.losses.FocalLoss'),
    GeneralizedWassersteinDiceLoss: wassersteinPreset('monai.losses.GeneralizedWassersteinDiceLoss'),
    compute_dice: metricPreset('monai.metrics.compute_dice', 'compute_dice', MONAI_DEFAULTS.compute_dice),
    DiceMetric: metricPreset('monai.metrics.DiceMetric', 'DiceMetric', MONAI_DEFAULTS.DiceMetric),
    compute_generalized_dice: metricPreset(
      'monai.metrics.compute_generalized_dice',
      'compute_generalized_dice',
      MONAI_DEFAULTS.compute_generalized_dice,
    ),
    GeneralizedDiceScore: metricPreset(
      'monai.metrics.GeneralizedDiceScore',
      'GeneralizedDiceScore',
      MONAI_DEFAULTS.GeneralizedDiceScore,
    ),
  };
}
