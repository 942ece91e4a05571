// Registry of the float64 peer references, keyed by the vectors' `api` strings, and a helper that
// evaluates one case of the peer test vectors (test/fixtures/vectors-public.json).
//
// Calling convention: fn(options, input, target, extras) with options named exactly as the library
// names them (snake_case), input = prediction / logits and target = ground truth as nested arrays
// (for Keras, input = y_pred and target = y_true although Keras calls loss(y_true, y_pred)).
// Unknown option names throw an Error that names the option and lists the valid ones.

import { type Options } from '../../peers/options.js';
import { isChannelsLast, toChannelFirst } from '../../peers/layout.js';
import * as keras from './keras.js';
import * as monai from './monai.js';
import * as nnunet from './nnunet.js';
import * as qsm from './qsm.js';
import * as smp from './smp.js';
import {
  type Nested,
  type NestedArray,
  type Tensor,
  fromNested,
  scalar,
  sumAll,
  toNested,
} from '../../peers/tensor.js';

export type { Nested, NestedArray, Tensor } from '../../peers/tensor.js';
export type { Options, OptionValue } from '../../peers/options.js';
export { fromNested, toNested } from '../../peers/tensor.js';
export { keras, monai, nnunet, qsm, smp };

export interface PeerExtras {
  /** MONAI MaskedDiceLoss mask / nnU-Net loss_mask (B1… or 11…). */
  mask?: Nested | null;
  /** Storage layout of the arrays: "NCHW", "NHWC", "NCW", "NCDHW", "NL", "flat", ... */
  layout?: string | null;
  inputShape?: number[] | null;
  targetShape?: number[] | null;
  maskShape?: number[] | null;
  /** Informational ("int64", "float32", "uint8" ...): values are read as float64 either way. */
  targetDtype?: string | null;
  /** Post-processing the source test applied to the returned tensor: "mean()" or "sum()". */
  post?: string | null;
}

export type PeerValue = number | NestedArray;
export type PeerFn = (options: Options, input: Nested, target: Nested, extras?: PeerExtras) => PeerValue;

/** One case of vectors-public.json (fields this module reads). */
export interface PeerCase {
  id?: string;
  api: string;
  options?: Options | null;
  layout?: string | null;
  input_shape?: number[] | null;
  input: Nested;
  target_shape?: number[] | null;
  target: Nested;
  target_dtype?: string | null;
  mask_shape?: number[] | null;
  mask?: Nested | null;
  post?: string | null;
  [key: string]: unknown;
}

function applyPost(t: Tensor, post: string | null | undefined): Tensor {
  if (!post) return t;
  const p = post.replace(/\s+/g, '');
  if (p === 'mean()') return scalar(sumAll(t) / t.data.length);
  if (p === 'sum()') return scalar(sumAll(t));
  throw new Error(`unsupported post-processing '${post}' (known: mean(), sum())`);
}

function finish(t: Tensor, extras: PeerExtras | undefined): PeerValue {
  return toNested(applyPost(t, extras?.post));
}

interface TorchArgs {
  input: Tensor;
  target: Tensor;
  mask: Tensor | null;
}

/** Tensors for a channel-first (torch) library: channels-last layouts are moved to (N, C, ...). */
function torchArgs(input: Nested, target: Nested, extras: PeerExtras | undefined): TorchArgs {
  const layout = extras?.layout ?? null;
  const x = fromNested(input, extras?.inputShape ?? undefined);
  const y = fromNested(target, extras?.targetShape ?? undefined);
  const m = extras?.mask != null ? fromNested(extras.mask, extras.maskShape ?? undefined) : null;
  const rank = x.shape.length;
  return {
    input: toChannelFirst(x, layout),
    target: y.shape.length === rank ? toChannelFirst(y, layout) : y,
    mask: m && m.shape.length === rank ? toChannelFirst(m, layout) : m,
  };
}

/** Tensors used exactly as stored (Keras, qubvel segmentation_models, smp functional scores). */
function rawArgs(input: Nested, target: Nested, extras: PeerExtras | undefined): { input: Tensor; target: Tensor } {
  return {
    input: fromNested(input, extras?.inputShape ?? undefined),
    target: fromNested(target, extras?.targetShape ?? undefined),
  };
}

type TorchImpl = (options: Options, input: Tensor, target: Tensor, mask?: Tensor | null) => Tensor;
type RawImpl = (options: Options, input: Tensor, target: Tensor) => Tensor;
type QsmImpl = (options: Options, pr: Tensor, gt: Tensor, channelsLast: boolean) => Tensor;

const torch =
  (impl: TorchImpl): PeerFn =>
  (options, input, target, extras) => {
    const a = torchArgs(input, target, extras);
    return finish(impl(options ?? {}, a.input, a.target, a.mask), extras);
  };

const raw =
  (impl: RawImpl): PeerFn =>
  (options, input, target, extras) => {
    const a = rawArgs(input, target, extras);
    return finish(impl(options ?? {}, a.input, a.target), extras);
  };

const qsmFn =
  (impl: QsmImpl): PeerFn =>
  (options, input, target, extras) => {
    const a = rawArgs(input, target, extras);
    const layout = extras?.layout ?? null;
    // Keras default image_data_format is channels_last; a channel-first layout string ("NCHW") selects channels_first.
    const channelsLast = layout === null || layout.indexOf('C') < 0 || isChannelsLast(layout);
    return finish(impl(options ?? {}, a.input, a.target, channelsLast), extras);
  };

/** DiceMetric(**options)(y_pred, y); aggregate(). With get_not_nans MONAI returns (f, not_nans): this returns f. */
const diceMetricValue: TorchImpl = (options, input, target) => {
  const r = monai.diceMetricAggregate(options, input, target);
  // return_with_label: MONAI returns {label: round(v, 4)}; the registry returns those values in label order.
  if (r.labelled) {
    const values = Object.values(r.labelled);
    return { shape: [values.length], data: Float64Array.from(values) };
  }
  return r.value;
};

export const peerReference: Record<string, PeerFn> = {
  // MONAI losses
  'monai.losses.DiceLoss': torch(monai.diceLoss),
  'monai.losses.MaskedDiceLoss': torch(monai.maskedDiceLoss),
  'monai.losses.GeneralizedDiceLoss': torch(monai.generalizedDiceLoss),
  'monai.losses.TverskyLoss': torch(monai.tverskyLoss),
  'monai.losses.DiceCELoss': torch(monai.diceCELoss),
  'monai.losses.DiceFocalLoss': torch(monai.diceFocalLoss),
  'monai.losses.GeneralizedDiceFocalLoss': torch(monai.generalizedDiceFocalLoss),
  'monai.losses.FocalLoss': torch(monai.focalLoss),
  'monai.losses.GeneralizedWassersteinDiceLoss': torch(monai.generalizedWassersteinDiceLoss),
  'monai.losses.SoftclDiceLoss': torch(monai.softclDiceLoss),
  'monai.losses.SoftDiceclDiceLoss': torch(monai.softDiceclDiceLoss),
  // MONAI metrics
  'monai.metrics.compute_dice': torch(monai.computeDice),
  'monai.metrics.DiceMetric': torch(diceMetricValue),
  'monai.metrics.compute_generalized_dice': torch(monai.computeGeneralizedDice),
  'monai.metrics.GeneralizedDiceScore': torch(monai.generalizedDiceScore),
  // segmentation_models.pytorch
  'segmentation_models_pytorch.losses.DiceLoss': torch(smp.diceLoss),
  'segmentation_models_pytorch.losses.JaccardLoss': torch(smp.jaccardLoss),
  'segmentation_models_pytorch.losses.TverskyLoss': torch(smp.tverskyLoss),
  'segmentation_models_pytorch.losses.FocalLoss': torch(smp.focalLoss),
  'segmentation_models_pytorch.losses._functional.soft_dice_score': raw(smp.softDiceScore),
  'segmentation_models_pytorch.losses._functional.soft_jaccard_score': raw(smp.softJaccardScore),
  'segmentation_models_pytorch.losses._functional.soft_tversky_score': raw(smp.softTverskyScore),
  // Keras 3
  'keras.losses.Dice': raw(keras.dice),
  'keras.losses.Tversky': raw(keras.tversky),
  // qubvel segmentation_models
  'segmentation_models.losses.DiceLoss': qsmFn(qsm.diceLoss),
  'segmentation_models.losses.JaccardLoss': qsmFn(qsm.jaccardLoss),
  'segmentation_models.metrics.FScore': qsmFn(qsm.fScore),
  'segmentation_models.metrics.IOUScore': qsmFn(qsm.iouScore),
  // nnU-Net v2
  'nnunetv2.training.loss.dice.SoftDiceLoss': torch(nnunet.softDiceLoss),
  'nnunetv2.training.loss.dice.MemoryEfficientSoftDiceLoss': torch(nnunet.memoryEfficientSoftDiceLoss),
  'nnunetv2.training.loss.compound_losses.DC_and_CE_loss': torch(nnunet.dcAndCeLoss),
  'nnunetv2.training.loss.compound_losses.DC_and_BCE_loss': torch(nnunet.dcAndBceLoss),
};

/** Evaluate one vectors-public.json case with the reference of its `api`. */
export function evaluatePeerCase(vectorCase: PeerCase): PeerValue {
  const fn = peerReference[vectorCase.api];
  if (!fn) {
    throw new Error(`no peer reference for api '${vectorCase.api}'. Known: ${Object.keys(peerReference).join(', ')}`);
  }
  return fn(vectorCase.options ?? {}, vectorCase.input, vectorCase.target, {
    mask: vectorCase.mask ?? null,
    layout: vectorCase.layout ?? null,
    inputShape: vectorCase.input_shape ?? null,
    targetShape: vectorCase.target_shape ?? null,
    maskShape: vectorCase.mask_shape ?? null,
    targetDtype: vectorCase.target_dtype ?? null,
    post: vectorCase.post ?? null,
  });
}
