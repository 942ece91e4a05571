// Keras 3 presets (docs/peer-semantics.md b.3): keras.losses.Dice / Tversky. pred first (y_pred, then
// y_true), unlike Keras' loss(y_true, y_pred). Sums over `axis` (None = everything pooled).

import type { LossFactory } from '../losses/factory.js';
import type { LossOptions } from '../spec/family.js';
import type { Opts } from '../peers/options.js';
import { KERAS_DICE_DEFAULTS, KERAS_EPSILON, KERAS_TVERSKY_DEFAULTS } from '../peers/keras.js';
import { WgslDiceError } from '../core/errors.js';
import {
  computeGroups,
  groupsInPlace,
  type InPlaceGroups,
  nested,
  optionGuard,
  type Options,
  parseOptions,
  type Preset,
  PresetLossCache,
  reductionNotInPlace,
  toTensor,
} from './common.js';

type Reduction = 'sum_over_batch_size' | 'sum' | 'mean' | 'mean_with_sample_weight' | 'none' | null;

export function createKerasPresets(factory: LossFactory) {
  const cache = new PresetLossCache(factory);
  const preset =
    (api: string, defaults: Options, score: (o: Opts) => LossOptions['score']) =>
    (options: Options = {}): Preset => {
      const o = parseOptions(api, options, defaults);
      const reduction: Reduction = o.isNone('reduction')
        ? null
        : optionGuard(() =>
            o.oneOf('reduction', ['sum_over_batch_size', 'sum', 'mean', 'mean_with_sample_weight', 'none'] as const),
          );
      const coef = score(o);
      // Each kept index (of the axes not summed over) is one engine group; axis=None is one group
      // over everything. Where the kept axes allow it the data is read where it lies (see
      // groupsInPlace), as create() must; otherwise evaluate() moves the kept axes first on the
      // host ([K, N, 1] channels-last).
      const optionsFor = (groups: InPlaceGroups): LossOptions => ({
        shape: groups.shape,
        layout: groups.layout,
        batch: groups.batch,
        score: coef,
        smoothNumerator: 0,
        smoothDenominator: KERAS_EPSILON,
        reduction: reduction === 'sum' ? 'sum' : reduction === null || reduction === 'none' ? 'none' : 'mean',
        label: api,
      });
      const axis = () => optionGuard(() => o.intsOrNull('axis'));
      return {
        api,
        options: o.values,
        async create(shape) {
          const groups = groupsInPlace(shape, axis());
          if (!groups) throw reductionNotInPlace(api, 'axis', shape, axis());
          return factory.loss(optionsFor(groups));
        },
        async evaluate(pred, target, extras) {
          const yPred = toTensor(pred, extras?.inputShape, 'y_pred');
          const yTrue = toTensor(target, extras?.targetShape, 'y_true');
          if (yPred.shape.length !== yTrue.shape.length || yPred.shape.some((d, i) => d !== yTrue.shape[i])) {
            throw new WgslDiceError(
              'SHAPE_MISMATCH',
              `${api}: y_true [${yTrue.shape}] and y_pred [${yPred.shape}] must have the same shape`,
            );
          }
          const { result: r, kept, K } = await computeGroups(cache, optionsFor, yPred, yTrue, axis());
          if (kept.length === 0) return r.groups.value[0];
          if (reduction === null || reduction === 'none') return nested(kept, r.groups.value.slice(0, K));
          return r.loss;
        },
      };
    };
  return {
    // 1 − 2Σ(t·p) / (Σt + Σp + 1e-7)
    Dice: preset('keras.losses.Dice', KERAS_DICE_DEFAULTS, () => ({ numTp: 2, denTp: 2, denFp: 1, denFn: 1 })),
    // 1 − I / (I + α·Σ(1−t)p + β·Σt(1−p) + 1e-7)
    Tversky: preset('keras.losses.Tversky', KERAS_TVERSKY_DEFAULTS, (o) => ({
      numTp: 1,
      denTp: 1,
      denFp: o.num('alpha'),
      denFn: o.num('beta'),
    })),
  };
}
