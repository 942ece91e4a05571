// nnU-Net v2 presets (peer-semantics.md b.4): SoftDiceLoss, MemoryEfficientSoftDiceLoss (same value:
// −mean(dc), denominator clipped at 1e-8) and DC_and_CE_loss (softmax Dice + CE in the same passes).

import type { LossFactory } from '../losses/factory.js';
import { WgslDiceError } from '../core/errors.js';
import type { LossOptions } from '../spec/family.js';
import type { Opts } from '../peers/options.js';
import { DC_AND_CE_DEFAULTS, MEM_EFF_DICE_DEFAULTS, SOFT_DICE_DEFAULTS } from '../peers/nnunet.js';
import { type Tensor, moveAxis, reshape } from '../peers/tensor.js';
import { type KernelActivation, hostActivation, hostOnlyActivation, kernelActivation } from './activation.js';
import {
  type CreateExtras,
  type HostInput,
  engineIgnore,
  PresetLossCache,
  type Options,
  type Preset,
  type PresetExtras,
  channelFirst,
  f32,
  labels,
  nested,
  optionGuard,
  parseOptions,
  prod,
  storedIn,
  toTensor,
} from './common.js';

/** apply_nonlin → the kernels' activation; any other callable runs on the host (evaluate only). */
function nonlinOf(o: Opts): { activation: KernelActivation; host: ((t: Tensor) => Tensor) | null } {
  const v = o.raw('apply_nonlin');
  if (v === null) return { activation: 'none', host: null };
  const kernel = kernelActivation(v);
  return kernel !== null ? { activation: kernel, host: null } : { activation: 'none', host: hostActivation(o.api, v) };
}

/**
 * SoftDiceLoss as engine options, from the shapes alone (pure: create() plans a [2, 4, 512, 512, 16]
 * loss without a host tensor of that size). `x`: the channel-first input; `y`: the target, a label
 * map (B, 1, ...) or (B, ...), or dense like x.
 */
export function nnunetDiceOptions(
  o: Opts,
  x: readonly number[],
  y: readonly number[],
  maskShape: readonly number[] | null,
  forCreate: boolean,
): LossOptions {
  const { activation, host } = nonlinOf(o);
  if (host && forCreate) hostOnlyActivation(o.api, 'apply_nonlin', o.raw('apply_nonlin'));
  const rank = x.length;
  const [B, C] = x;
  const gt = y.length === rank - 1 ? [y[0], 1, ...y.slice(1)] : y;
  const dense = gt.length === rank && gt.every((d, i) => d === x[i]);
  if (!dense && (gt[1] !== 1 || prod(gt) !== prod(x) / C)) {
    throw new WgslDiceError(
      'SHAPE_MISMATCH',
      `${o.api}: target [${y}] is neither a label map (B, 1, ...) nor of x's shape [${x}].`,
    );
  }
  const s = o.num('smooth');
  const lo: LossOptions = {
    shape: [...x],
    layout: 'channels-first',
    activation,
    target: dense ? 'dense' : 'u32',
    batch: o.bool('batch_dice'),
    score: { numTp: 2, denTp: 2, denFp: 1, denFn: 1 },
    smoothNumerator: s,
    smoothDenominator: s,
    denominatorMin: 1e-8,
    value: 'negative',
    label: o.api,
  };
  if (!o.bool('do_bg')) lo.includeBackground = false;
  // SoftDiceLoss clip_tp: tp = clip(tp, min=clip_tp) in 2tp of the numerator and denominator.
  if ('clip_tp' in o.values && !o.isNone('clip_tp')) lo.tpMin = optionGuard(() => o.num('clip_tp'));
  if (maskShape) {
    lo.mask = 'weight';
    lo.maskShape = maskShape[0] === 1 && B !== 1 ? 'shared' : 'per-sample';
  }
  return lo;
}

/** x as the kernels take it: apply_nonlin applied on the host when it is not one of theirs. */
function hostPred(o: Opts, x: Tensor): Float32Array {
  const { host } = nonlinOf(o);
  return f32(host ? host(x) : x);
}

/** The label map of a (B, 1, ...) or (B, ...) target (label order is the same). */
const defaultTargetShape = (shape: readonly number[]): number[] => [shape[0], 1, ...shape.slice(2)];

function tensors(
  pred: HostInput,
  target: HostInput,
  extras?: PresetExtras,
): { x: Tensor; y: Tensor; m: Tensor | null } {
  const x = channelFirst(toTensor(pred, extras?.inputShape, 'x'), extras?.layout);
  const yRaw = toTensor(target, extras?.targetShape, 'y');
  const y = yRaw.shape.length === x.shape.length ? channelFirst(yRaw, extras?.layout) : yRaw;
  const m = extras?.mask != null ? toTensor(extras.mask, extras.maskShape, 'loss_mask') : null;
  return { x, y, m };
}

const CE_KWARGS_DEFAULTS: Options = { weight: null, ignore_index: -100, reduction: 'mean', label_smoothing: 0.0 };

export function createNnunetPresets(factory: LossFactory) {
  const cache = new PresetLossCache(factory);

  const dicePreset =
    (api: string, defaults: Options) =>
    (options: Options = {}): Preset => {
      const o = parseOptions(api, options, defaults);
      return {
        api,
        options: o.values,
        async create(shape, extras: CreateExtras = {}) {
          return storedIn(factory, extras.layout).loss(
            nnunetDiceOptions(
              o,
              shape,
              extras.targetShape ?? defaultTargetShape(shape),
              extras.maskShape ?? null,
              true,
            ),
          );
        },
        async evaluate(pred, target, extras) {
          const { x, y, m } = tensors(pred, target, extras);
          const lossOptions = nnunetDiceOptions(o, x.shape, y.shape, m ? m.shape : null, false);
          const loss = await cache.loss(lossOptions);
          const packed = lossOptions.target === 'dense' ? f32(y) : labels(y);
          return (await loss.compute(hostPred(o, x), packed, m ? { mask: f32(m) } : {})).loss;
        },
      };
    };

  const dcAndCe = (options: Options = {}): Preset => {
    const api = 'nnunetv2.training.loss.compound_losses.DC_and_CE_loss';
    const o = parseOptions(api, options, DC_AND_CE_DEFAULTS);
    const cls = String(o.raw('dice_class')).replace(/^.*\./, '');
    if (cls !== 'SoftDiceLoss' && cls !== 'MemoryEfficientSoftDiceLoss') {
      throw new WgslDiceError(
        'INVALID_OPTION',
        `${api}: dice_class must be SoftDiceLoss or MemoryEfficientSoftDiceLoss, got '${cls}'`,
      );
    }
    const kwargs = optionGuard(() => o.dict('soft_dice_kwargs'));
    if ('apply_nonlin' in kwargs)
      throw new WgslDiceError(
        'INVALID_OPTION',
        `${api}: soft_dice_kwargs must not set 'apply_nonlin' (the compound loss sets it)`,
      );
    const diceO = parseOptions(
      `${api} soft_dice_kwargs (${cls})`,
      { ...kwargs, apply_nonlin: 'softmax(dim=1)' },
      cls === 'SoftDiceLoss' ? SOFT_DICE_DEFAULTS : MEM_EFF_DICE_DEFAULTS,
    );
    const ceO = parseOptions(
      `${api} ce_kwargs`,
      optionGuard(() => o.dict('ce_kwargs')),
      CE_KWARGS_DEFAULTS,
    );
    const ceReduction = optionGuard(() => ceO.oneOf('reduction', ['mean', 'sum', 'none'] as const));
    // 'none': DC_and_CE_loss returns weight_ce * (the per-voxel CE, [B, ...spatial]) + weight_dice * dc,
    // whose sum (the GPU path's scalar) is weight_ce * (CE sum) + weight_dice * dc * B * S.
    const ceNone = ceReduction === 'none';
    const ceWeight = ceO.numOrList('weight');
    if (typeof ceWeight === 'number')
      throw new WgslDiceError('INVALID_WEIGHTS', `${api}: ce_kwargs.weight must be a list (one entry per class)`);
    const ignore = optionGuard(() => o.numOrNull('ignore_label'));
    const smoothing = ceO.num('label_smoothing');
    /**
     * RobustCrossEntropyLoss(ignore_index=k) without ignore_label: the Dice term keeps label k, the
     * CE drops its voxels. For class-index targets that is the CE weight of class k set to 0 (out
     * of the numerator and the divisor alike), exactly so without label smoothing (whose term
     * would still weigh class k). An index outside [0, C) matches no valid label: nothing to do.
     */
    const ceWeightsFor = (C: number): number[] | null => {
      const k = ignore === null ? ceO.num('ignore_index') : null;
      if (k === null || !Number.isInteger(k) || k < 0 || k >= C) return ceWeight;
      if (smoothing > 0) {
        throw new WgslDiceError(
          'NOT_SUPPORTED',
          `${api}: ce_kwargs.ignore_index=${k} (a class the Dice term keeps) with label_smoothing is not supported; set ignore_label instead, or drop the smoothing.`,
        );
      }
      return (ceWeight ?? new Array<number>(C).fill(1)).map((w, c) => (c === k ? 0 : w));
    };
    const weightCe = o.num('weight_ce');
    const weightDice = o.num('weight_dice');
    /** The compound loss as engine options, from the shapes alone (see {@link nnunetDiceOptions}). */
    const optionsFor = (x: readonly number[], y: readonly number[], forCreate: boolean): LossOptions => {
      const t = y.length === x.length - 1 ? [y[0], 1, ...y.slice(1)] : y;
      if (t.length !== x.length || t[1] !== 1) {
        throw new WgslDiceError(
          'SHAPE_MISMATCH',
          `${api}: target must be a label map of shape (B, 1, ...), got [${y}]`,
        );
      }
      // With weight_ce = 0 the CE is the scalar 0 and the result stays a scalar.
      const broadcast = ceNone && weightCe !== 0 ? prod(x) / x[1] : 1;
      const weights = ceWeightsFor(x[1]);
      const lo: LossOptions = {
        ...nnunetDiceOptions(diceO, x, t, null, forCreate),
        target: 'u32',
        lambdaDice: weightDice * broadcast,
        crossEntropy: {
          lambda: weightCe,
          form: 'softmax',
          reduction: ceNone ? 'sum' : ceReduction,
          labelSmoothing: smoothing,
          ...(weights ? { weights } : {}),
        },
        label: api,
      };
      // ignore_label: Dice masks those voxels (loss_mask) and CE ignores them: the engine's ignoreIndex.
      if (ignore !== null) lo.ignoreIndex = engineIgnore(ignore);
      return lo;
    };
    return {
      api,
      options: o.values,
      async create(shape, extras: CreateExtras = {}) {
        return storedIn(factory, extras.layout).loss(
          optionsFor(shape, extras.targetShape ?? defaultTargetShape(shape), true),
        );
      },
      async evaluate(pred, target, extras) {
        const { x, y } = tensors(pred, target, extras);
        const p = { lossOptions: optionsFor(x.shape, y.shape, false), target: labels(y, ignore) };
        const r = await (await cache.loss(p.lossOptions)).compute(hostPred(diceO, x), p.target);
        if (!ceNone || weightCe === 0) return r.loss;
        const ignored = ignore === null ? null : engineIgnore(ignore);
        const dice = weightDice === 0 ? 0 : weightDice * r.diceLoss;
        // nnU-Net skips the CE (a scalar 0) when every voxel is ignored.
        if (ignored !== null && (p.target as Uint32Array).every((l) => l === ignored)) return dice;
        const ce = await voxelCrossEntropy(x, p.target as Uint32Array, ignored, smoothing, ceWeightsFor(x.shape[1]));
        return nested(
          [x.shape[0], ...x.shape.slice(2)],
          ce.map((v) => weightCe * v + dice),
        );
      },
    };
  };

  /**
   * torch's CrossEntropyLoss(weight, label_smoothing, reduction='none') per voxel (0 where
   * ignored), as the softmax-form focal term with gamma 0 on the smoothed target: every voxel a
   * sample of one voxel (channels-last [B*S, C]), its per-class terms read back.
   */
  async function voxelCrossEntropy(
    x: Tensor,
    labelMap: Uint32Array,
    ignored: number | null,
    smoothing: number,
    weights: number[] | null,
  ): Promise<number[]> {
    const [B, C] = x.shape;
    const N = labelMap.length;
    const pred = f32(moveAxis(reshape(x, [B, C, N / B]), 1, 2));
    const smoothed = new Float32Array(N * C);
    labelMap.forEach((label, n) => {
      if (label === ignored) return;
      for (let c = 0; c < C; c++) smoothed[n * C + c] = (c === label ? 1 - smoothing : 0) + smoothing / C;
    });
    const options: LossOptions = {
      shape: [N, C],
      activation: 'softmax',
      lambdaDice: 0,
      focal: { gamma: 0, useSoftmax: true, reduction: 'sum', ...(weights ? { weights } : {}) },
      label: 'DC_and_CE_loss per-voxel cross-entropy',
    };
    const r = await (await cache.loss(options)).compute(pred, smoothed);
    return Array.from({ length: N }, (_, n) => r.pairFocal!.slice(n * C, (n + 1) * C).reduce((a, v) => a + v, 0));
  }

  return {
    SoftDiceLoss: dicePreset('nnunetv2.training.loss.dice.SoftDiceLoss', SOFT_DICE_DEFAULTS),
    MemoryEfficientSoftDiceLoss: dicePreset(
      'nnunetv2.training.loss.dice.MemoryEfficientSoftDiceLoss',
      MEM_EFF_DICE_DEFAULTS,
    ),
    DC_and_CE_loss: dcAndCe,
  };
}
