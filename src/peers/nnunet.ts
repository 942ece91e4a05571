// nnU-Net v2 (nnunetv2.training.loss): constructor defaults of its Dice and compound losses.

import type { Options } from './options.js';

export const SOFT_DICE_DEFAULTS: Options = {
  apply_nonlin: null,
  batch_dice: false,
  do_bg: true,
  smooth: 1.0,
  ddp: true,
  clip_tp: null,
};

export const MEM_EFF_DICE_DEFAULTS: Options = {
  apply_nonlin: null,
  batch_dice: false,
  do_bg: true,
  smooth: 1.0,
  ddp: true,
};

export const CE_KWARGS_DEFAULTS: Options = {
  weight: null,
  ignore_index: -100,
  reduction: 'mean',
  label_smoothing: 0.0,
};

export const DC_AND_CE_DEFAULTS: Options = {
  soft_dice_kwargs: {},
  ce_kwargs: {},
  weight_ce: 1,
  weight_dice: 1,
  ignore_label: null,
  dice_class: 'SoftDiceLoss',
};

export const BCE_KWARGS_DEFAULTS: Options = { weight: null, reduction: 'mean', pos_weight: null };

export const DC_AND_BCE_DEFAULTS: Options = {
  bce_kwargs: {},
  soft_dice_kwargs: {},
  weight_ce: 1,
  weight_dice: 1,
  use_ignore_label: false,
  dice_class: 'MemoryEfficientSoftDiceLoss',
};
