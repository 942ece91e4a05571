// qubvel segmentation_models (Keras): constructor defaults of its Dice losses and metrics.

import type { Options } from './options.js';

/** segmentation_models.base.functional.SMOOTH */
export const QSM_SMOOTH = 1e-5;

export const QSM_DICE_LOSS_DEFAULTS: Options = {
  beta: 1,
  class_weights: null,
  class_indexes: null,
  per_image: false,
  smooth: QSM_SMOOTH,
};

export const QSM_JACCARD_LOSS_DEFAULTS: Options = {
  class_weights: null,
  class_indexes: null,
  per_image: false,
  smooth: QSM_SMOOTH,
};

/** The metrics take the losses' options, plus a binarising threshold and a name. */
export const QSM_FSCORE_DEFAULTS: Options = { ...QSM_DICE_LOSS_DEFAULTS, threshold: null, name: null };

export const QSM_IOU_DEFAULTS: Options = { ...QSM_JACCARD_LOSS_DEFAULTS, threshold: null, name: null };
