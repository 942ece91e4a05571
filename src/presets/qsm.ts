// qubvel segmentation_models presets (docs/peer-semantics.md b.3): DiceLoss (F-beta), JaccardLoss, FScore.
// Channels-last (Keras default image_data_format) unless extras.layout puts C at axis 1.

import type { LossFactory } from '../losses/factory.js';
import { WgslDiceError } from '../core/errors.js';
import type { LossResult } from '../losses/family.js';
import type { LossOptions } from '../spec/family.js';
import { isChannelsLast } from '../peers/layout.js';
import { QSM_DICE_LOSS_DEFAULTS, QSM_FSCORE_DEFAULTS, QSM_JACCARD_LOSS_DEFAULTS } from '../peers/qsm.js';
import {
  PresetLossCache,
  type Options,
  type Preset,
  type PresetExtras,
  f32,
  optionGuard,
  parseOptions,
  toTensor,
} from './common.js';

type Kind = 'dice-loss' | 'jaccard-loss' | 'f-score';

export function createQsmPresets(factory: LossFactory) {
  const cache = new PresetLossCache(factory);
  const preset =
    (api: string, kind: Kind, defaults: Options) =>
    (options: Options = {}): Preset => {
      const o = parseOptions(api, options, defaults);
      const smooth = o.num('smooth');
      const perImage = o.bool('per_image');
      const classIndexes = optionGuard(() => o.intsOrNull('class_indexes'));
      const threshold = kind === 'f-score' ? optionGuard(() => o.numOrNull('threshold')) : null;
      const b2 = kind === 'jaccard-loss' ? 1 : o.num('beta') ** 2;
      // F-beta: ((1+β²)tp + s) / ((1+β²)tp + β²fn + fp + s); IoU: (tp + s) / (tp + fp + fn + s).
      const score =
        kind === 'jaccard-loss'
          ? { numTp: 1, denTp: 1, denFp: 1, denFn: 1 }
          : { numTp: 1 + b2, denTp: 1 + b2, denFp: 1, denFn: b2 };
      const optionsFor = (shape: number[], channelsLast: boolean): LossOptions => {
        const C = channelsLast ? shape[shape.length - 1] : shape[1];
        const lo: LossOptions = {
          shape,
          layout: channelsLast ? 'channels-last' : 'channels-first',
          score,
          smoothNumerator: smooth,
          smoothDenominator: smooth,
          batch: !perImage,
          reduction: 'none',
          label: api,
        };
        if (classIndexes !== null) lo.classes = [...new Set(classIndexes.map((c) => (c < 0 ? c + C : c)))];
        return lo;
      };
      const channelsLastOf = (extras?: PresetExtras | { layout?: string | null }) => {
        const layout = extras?.layout ?? null;
        return layout === null || layout.indexOf('C') < 0 || isChannelsLast(layout);
      };
      const combine = (r: LossResult, lo: LossOptions, B: number, C: number): number => {
        const selected = classIndexes ?? [...Array(C).keys()];
        const rows = perImage ? B : 1;
        // per class: batch score (or mean over images when per_image), times class_weights, then mean.
        const s = selected.map((c) => {
          let v = 0;
          for (let b = 0; b < rows; b++) v += r.groups.score[b * C + (c < 0 ? c + C : c)];
          return v / rows;
        });
        const cw = o.numOrList('class_weights') ?? 1;
        const w = typeof cw === 'number' ? s.map(() => cw) : cw;
        if (w.length !== s.length && w.length !== 1) {
          throw new WgslDiceError(
            'INVALID_WEIGHTS',
            `${api}: class_weights has ${w.length} entries for ${s.length} classes`,
          );
        }
        void lo;
        return s.reduce((a, v, i) => a + v * (w.length === 1 ? w[0] : w[i]), 0) / s.length;
      };
      return {
        api,
        options: o.values,
        async create(shape, extras?: { layout?: string }) {
          const lo = optionsFor([...shape], channelsLastOf(extras));
          if (threshold !== null) return factory.metric({ ...lo, binarize: 'threshold', threshold });
          // The GPU loss's own scalar is mean(1 − score) = 1 − mean(score) without class_weights.
          return factory.loss({ ...lo, reduction: 'mean' });
        },
        async evaluate(pred, target, extras) {
          const pr = toTensor(pred, extras?.inputShape, 'pr');
          const gt = toTensor(target, extras?.targetShape, 'gt');
          if (pr.shape.length !== gt.shape.length || pr.shape.some((d, i) => d !== gt.shape[i])) {
            throw new WgslDiceError(
              'SHAPE_MISMATCH',
              `${api}: gt [${gt.shape}] and pr [${pr.shape}] must have the same shape`,
            );
          }
          const channelsLast = channelsLastOf(extras);
          const lo = optionsFor([...pr.shape], channelsLast);
          const C = channelsLast ? pr.shape[pr.shape.length - 1] : pr.shape[1];
          const loss =
            threshold !== null ? await cache.metric({ ...lo, binarize: 'threshold', threshold }) : await cache.loss(lo);
          const r = await loss.compute(f32(pr), f32(gt));
          const s = combine(r, lo, pr.shape[0], C);
          return kind === 'f-score' ? s : 1 - s;
        },
      };
    };
  return {
    DiceLoss: preset('segmentation_models.losses.DiceLoss', 'dice-loss', QSM_DICE_LOSS_DEFAULTS),
    JaccardLoss: preset('segmentation_models.losses.JaccardLoss', 'jaccard-loss', QSM_JACCARD_LOSS_DEFAULTS),
    FScore: preset('segmentation_models.metrics.FScore', 'f-score', QSM_FSCORE_DEFAULTS),
  };
}
