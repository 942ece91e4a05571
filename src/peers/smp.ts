// segmentation_models.pytorch: defaults of its functional scores and its Dice-family losses.

import type { Options } from './options.js';

export const SCORE_DEFAULTS: Options = { smooth: 0.0, eps: 1e-7, dims: null };

export const TVERSKY_SCORE_DEFAULTS: Options = { alpha: null, beta: null, smooth: 0.0, eps: 1e-7, dims: null };

export const SMP_LOSS_DEFAULTS: Options = {
  mode: null,
  classes: null,
  log_loss: false,
  from_logits: true,
  smooth: 0.0,
  ignore_index: null,
  eps: 1e-7,
  class_weights: null,
};

export const SMP_TVERSKY_DEFAULTS: Options = { ...SMP_LOSS_DEFAULTS, alpha: 0.5, beta: 0.5, gamma: 1.0 };

export const SMP_FOCAL_DEFAULTS: Options = {
  mode: null,
  alpha: null,
  gamma: 2.0,
  ignore_index: null,
  from_logits: true,
  eps: 1e-7,
  reduction: 'mean',
  normalized: false,
  reduced_threshold: null,
  class_weights: null,
};
