/**
 * The seed's three Dice losses in tfjs ops, used only for the first call at a shape the
 * wgsl-dice loss is still compiling for (tfjs's forward must return synchronously; pipelines
 * compile asynchronously). Same formulas and epsilon as the GPU loss, so a model.fit that
 * starts before `prepare()` gets the same values, a little slower, on its first step.
 */
import type { Scalar, Tensor } from '@tensorflow/tfjs-core';
import { tf } from './tfjs-core.js';

export interface SeedFormula {
  reduce: 'global' | 'per-class';
  weights: readonly number[] | undefined;
  epsilonNumerator: number;
  epsilonDenominator: number;
}

/**
 * dice = (2·Σ y·p + ε_nr) / (Σ y + Σ p + ε_dr) per sample (global) or per sample and class;
 * global: mean_b(1 − dice); weighted: Σ_c w_c mean_b(1 − dice_bc); else mean over b and c.
 */
export function seedLossInTfjsOps(formula: SeedFormula, yTrue: Tensor, yPred: Tensor): Scalar {
  return tf.tidy(() => {
    const rank = yPred.rank;
    const axes = Array.from({ length: formula.reduce === 'global' ? rank - 1 : rank - 2 }, (_, k) => k + 1);
    const target = tf.cast(yTrue, 'float32');
    const intersection = tf.sum(tf.mul(target, yPred), axes);
    const union = tf.add(tf.sum(target, axes), tf.sum(yPred, axes));
    const dice = tf.div(
      tf.add(tf.mul(2, intersection), formula.epsilonNumerator),
      tf.add(union, formula.epsilonDenominator),
    );
    const perGroup = tf.sub(1, dice); // [B] or [B, C]
    if (!formula.weights) return tf.mean(perGroup);
    return tf.sum(tf.mul(tf.mean(perGroup, 0), tf.tensor1d([...formula.weights], 'float32')));
  });
}
