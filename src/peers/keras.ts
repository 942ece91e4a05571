// Keras 3 (keras.losses.Dice, Tversky): constructor defaults and keras.backend.epsilon().

import type { Options } from './options.js';

/** keras.backend.epsilon() */
export const KERAS_EPSILON = 1e-7;

export const KERAS_DICE_DEFAULTS: Options = { reduction: 'sum_over_batch_size', name: 'dice', axis: null, dtype: null };

export const KERAS_TVERSKY_DEFAULTS: Options = {
  alpha: 0.5,
  beta: 0.5,
  reduction: 'sum_over_batch_size',
  name: 'tversky',
  axis: null,
  dtype: null,
};
