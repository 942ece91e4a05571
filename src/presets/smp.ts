// segmentation_models.pytorch presets (peer-semantics.md b.2): batch-pooled per-class scores in the
// L1 soft-label form, eps clamp of the denominator, empty classes zeroed, log_loss → −log.

import type { LossFactory } from '../losses/factory.js';
import { WgslDiceError } from '../core/errors.js';
import type { LossOptions } from '../spec/family.js';
import type { Opts } from '../peers/options.js';
import { SMP_FOCAL_DEFAULTS, SMP_LOSS_DEFAULTS, SMP_TVERSKY_DEFAULTS } from '../peers/smp.js';
import {
  channelFirst,
  computeGroups,
  type CreateExtras,
  engineIgnore,
  f32,
  groupsInPlace,
  type InPlaceGroups,
  labels,
  nested,
  notImplemented,
  optionGuard,
  type Options,
  parseOptions,
  type Preset,
  PresetLossCache,
  prod,
  reductionNotInPlace,
  storedIn,
  toTensor,
} from './common.js';

type Mode = 'binary' | 'multiclass' | 'multilabel';

/**
 * smp's loss as engine options, from the shapes alone (pure: create() plans a [2, 4, 512, 512, 16]
 * loss without a host tensor of that size). `x`: y_pred, channel-first; `y`: y_true.
 */
export function smpLossOptions(
  o: Opts,
  alpha: number,
  beta: number,
  gamma: number,
  x: readonly number[],
  y: readonly number[],
): LossOptions {
  if (o.isNone('mode'))
    throw new WgslDiceError('INVALID_OPTION', `${o.api}: 'mode' is required (binary, multiclass or multilabel).`);
  const mode = optionGuard(() => o.oneOf('mode', ['binary', 'multiclass', 'multilabel'] as const)) as Mode;
  const classes = optionGuard(() => o.intsOrNull('classes'));
  if (classes !== null && mode === 'binary')
    throw new WgslDiceError('INVALID_OPTION', `${o.api}: Masking classes is not supported with mode=binary`);
  const B = x[0];
  if (y[0] !== B) throw new WgslDiceError('SHAPE_MISMATCH', `${o.api}: batch sizes of y_pred and y_true differ`);
  const ignore = optionGuard(() => o.numOrNull('ignore_index'));
  const fromLogits = o.bool('from_logits');
  const eps = o.num('eps');
  const C = mode === 'binary' ? 1 : x[1];
  const N = prod(x) / (B * C);
  const base: LossOptions = {
    shape: [B, C, N],
    layout: 'channels-first',
    activation: fromLogits ? (mode === 'multiclass' ? 'softmax' : 'sigmoid') : 'none',
    batch: true,
    softLabel: true,
    score: { numTp: 1, denTp: 1, denFp: alpha, denFn: beta },
    smoothNumerator: o.num('smooth'),
    smoothDenominator: o.num('smooth'),
    denominatorMin: eps,
    emptyClass: 'zero',
    value: o.bool('log_loss') ? 'negative-log' : 'one-minus',
    label: o.api,
  };
  if (o.bool('log_loss')) base.logEps = eps;
  if (gamma !== 1) base.gamma = gamma;
  if (mode === 'multiclass') {
    if (prod(y) !== B * N)
      throw new WgslDiceError(
        'SHAPE_MISMATCH',
        `${o.api}: multiclass y_true must be a label map of B·N = ${B * N} labels, got [${y}].`,
      );
    base.target = 'u32';
    // Ignored labels (any integer, also negative) are packed as a sentinel that is the engine's ignoreIndex.
    if (ignore !== null) base.ignoreIndex = engineIgnore(ignore);
  } else {
    if (prod(y) !== B * C * N)
      throw new WgslDiceError('SHAPE_MISMATCH', `${o.api}: y_true [${y}] and y_pred [${x}] differ in size.`);
    base.target = 'dense';
    // binary / multilabel: smp masks y_pred and y_true element-wise where y_true == ignore_index,
    // which the kernels do for a dense target equal to ignoreIndex.
    if (ignore !== null) base.ignoreIndex = ignore;
  }
  // The selected entries, in order: smp indexes the per-class losses with `classes`, so a
  // repeated class counts once per occurrence.
  const selected = classes === null ? [...Array(C).keys()] : classes.map((c) => (c < 0 ? c + C : c));
  const cw = o.numOrList('class_weights');
  if (classes !== null || cw !== null) {
    // Σ w·l / Σ w over the entries = a weighted mean over classes with each class's entries' weights summed.
    let entryWeights: number[];
    if (cw === null) entryWeights = selected.map(() => 1);
    else if (typeof cw === 'number') entryWeights = selected.map(() => cw);
    else if (cw.length === C && cw.length !== selected.length) entryWeights = selected.map((c) => cw[c]);
    else if (cw.length === selected.length) entryWeights = cw;
    else
      throw new WgslDiceError(
        'INVALID_WEIGHTS',
        `${o.api}: class_weights has ${cw.length} entries for ${selected.length} classes`,
      );
    const w = new Array<number>(C).fill(0);
    selected.forEach((c, i) => (w[c] += entryWeights[i]));
    base.classes = [...new Set(selected)];
    base.weights = w;
    base.reduction = 'weighted-mean';
  }
  return base;
}

const FUNCTIONAL_DEFAULTS: Options = { smooth: 0.0, eps: 1e-7, dims: null };
const FUNCTIONAL_TVERSKY_DEFAULTS: Options = { alpha: null, beta: null, smooth: 0.0, eps: 1e-7, dims: null };

export function createSmpPresets(factory: LossFactory) {
  const cache = new PresetLossCache(factory);

  const lossPreset =
    (api: string, defaults: Options, coef: (o: Opts) => [number, number, number]) =>
    (options: Options = {}): Preset => {
      const o = parseOptions(api, options, defaults);
      const [alpha, beta, gamma] = coef(o);
      return {
        api,
        options: o.values,
        async create(shape, extras: CreateExtras = {}) {
          return storedIn(factory, extras.layout).loss(
            smpLossOptions(o, alpha, beta, gamma, shape, extras.targetShape ?? shape),
          );
        },
        async evaluate(pred, target, extras) {
          const x = channelFirst(toTensor(pred, extras?.inputShape, 'y_pred'), extras?.layout);
          const yRaw = toTensor(target, extras?.targetShape, 'y_true');
          const y = yRaw.shape.length === x.shape.length ? channelFirst(yRaw, extras?.layout) : yRaw;
          const lossOptions = smpLossOptions(o, alpha, beta, gamma, x.shape, y.shape);
          const packed =
            lossOptions.target === 'u32'
              ? labels(
                  y,
                  optionGuard(() => o.numOrNull('ignore_index')),
                )
              : f32(y);
          const loss = await cache.loss(lossOptions);
          return (await loss.compute(f32(x), packed)).loss;
        },
      };
    };

  /** soft_*_score(output, target, smooth, eps, dims): one score per kept index (dims reduced). */
  const scorePreset =
    (api: string, defaults: Options, coef: (o: Opts) => [number, number]) =>
    (options: Options = {}): Preset => {
      const o = parseOptions(api, options, defaults);
      const [alpha, beta] = coef(o);
      const dims = () => optionGuard(() => o.intsOrNull('dims'));
      // One engine group per kept index (the axes not in dims), read where the data lies when the
      // kept axes allow it (groupsInPlace), as create() must; else evaluate() moves them first.
      const optionsFor = (groups: InPlaceGroups): LossOptions => ({
        shape: groups.shape,
        layout: groups.layout,
        batch: groups.batch,
        softLabel: true,
        score: { numTp: 1, denTp: 1, denFp: alpha, denFn: beta },
        smoothNumerator: o.num('smooth'),
        smoothDenominator: o.num('smooth'),
        denominatorMin: o.num('eps'),
        reduction: 'none',
        label: api,
      });
      return {
        api,
        options: o.values,
        async create(shape) {
          const groups = groupsInPlace(shape, dims());
          if (!groups) throw reductionNotInPlace(api, 'dims', shape, dims());
          return factory.loss(optionsFor(groups));
        },
        async evaluate(pred, target, extras) {
          const x = toTensor(pred, extras?.inputShape, 'output');
          const y = toTensor(target, extras?.targetShape, 'target');
          if (x.shape.length !== y.shape.length || x.shape.some((d, i) => d !== y.shape[i])) {
            throw new WgslDiceError(
              'SHAPE_MISMATCH',
              `${api}: output [${x.shape}] and target [${y.shape}] differ in size`,
            );
          }
          const { result: r, kept, K } = await computeGroups(cache, optionsFor, x, y, dims());
          const scores = Array.from(r.groups.score.slice(0, K));
          return kept.length === 0 ? scores[0] : nested(kept, scores);
        },
      };
    };

  return {
    DiceLoss: lossPreset('segmentation_models_pytorch.losses.DiceLoss', SMP_LOSS_DEFAULTS, () => [0.5, 0.5, 1]),
    JaccardLoss: lossPreset('segmentation_models_pytorch.losses.JaccardLoss', SMP_LOSS_DEFAULTS, () => [1, 1, 1]),
    TverskyLoss: lossPreset('segmentation_models_pytorch.losses.TverskyLoss', SMP_TVERSKY_DEFAULTS, (o) => [
      o.num('alpha'),
      o.num('beta'),
      o.num('gamma'),
    ]),
    FocalLoss: (options: Options = {}): Preset => {
      const api = 'segmentation_models_pytorch.losses.FocalLoss';
      const o = parseOptions(api, options, SMP_FOCAL_DEFAULTS);
      return {
        api,
        options: o.values,
        create: async () => notImplemented(api),
        evaluate: async () => notImplemented(api),
      };
    },
    soft_dice_score: scorePreset(
      'segmentation_models_pytorch.losses._functional.soft_dice_score',
      FUNCTIONAL_DEFAULTS,
      () => [0.5, 0.5],
    ),
    soft_jaccard_score: scorePreset(
      'segmentation_models_pytorch.losses._functional.soft_jaccard_score',
      FUNCTIONAL_DEFAULTS,
      () => [1, 1],
    ),
    soft_tversky_score: scorePreset(
      'segmentation_models_pytorch.losses._functional.soft_tversky_score',
      FUNCTIONAL_TVERSKY_DEFAULTS,
      (o) => {
        if (o.isNone('alpha') || o.isNone('beta'))
          throw new WgslDiceError('INVALID_OPTION', `${o.api}: alpha and beta are required`);
        return [o.num('alpha'), o.num('beta')];
      },
    ),
  };
}
