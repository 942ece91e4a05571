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
      // qsm reads channels last (Keras's image_data_format) unless the layout puts C at axis 1.
      const channelsLastOf = (extras?: PresetExtras | { layout?: string | null }) => {
        const layout = extras?.layout ?? null;
        if (layout === null || isChannelsLast(layout)) return true;
        if (layout.indexOf('C') === 1) return false;
        throw new WgslDiceError(
          'INVALID_OPTION',
          `${api}: layout "${layout}" puts the channels at axis ${layout.indexOf('C')}; qsm reads them last ` +
            '(channels_last, e.g. "NHWC") or at axis 1 (channels_first, e.g. "NCHW").',
        );
      };
      /** The selected classes (class_indexes, negatives counted from the end; repeats kept) and each entry's weight. */
      const entries = (C: number): { classes: number[]; weights: number[] } => {
        const classes = (classIndexes ?? [...Array(C).keys()]).map((c) => (c < 0 ? c + C : c));
        const cw = o.numOrList('class_weights') ?? 1;
        const w = typeof cw === 'number' ? [cw] : cw;
        if (w.length !== classes.length && w.length !== 1) {
          throw new WgslDiceError(
            'INVALID_WEIGHTS',
            `${api}: class_weights has ${w.length} entries for ${classes.length} classes`,
          );
        }
        return { classes, weights: classes.map((_, i) => (w.length === 1 ? w[0] : w[i])) };
      };
      // The score: per selected entry its class's batch score (or the mean over images with
      // per_image) times its class weight, then the mean over the entries.
      const combine = (r: LossResult, B: number, C: number): number => {
        const { classes, weights } = entries(C);
        const rows = perImage ? B : 1;
        const s = classes.map((c) => {
          let v = 0;
          for (let b = 0; b < rows; b++) v += r.groups.score[b * C + c];
          return v / rows;
        });
        return s.reduce((a, v, i) => a + v * weights[i], 0) / s.length;
      };
      /**
       * create(): one engine loss of value Σ_g W_c (1 − s_g) with W_c = (the weights of class c's
       * entries) / (entries × rows): that is 1 − score when the entries' weights sum to their
       * number (no class_weights, weights of mean 1). Other weights make the GPU value qsm's plus a
       * constant, which no engine option expresses: NOT_SUPPORTED.
       */
      const weighted = (lo: LossOptions, B: number, C: number): LossOptions => {
        const { classes, weights } = entries(C);
        const n = classes.length;
        const total = weights.reduce((a, w) => a + w, 0);
        if (Math.abs(total - n) > 1e-9 * n) {
          throw new WgslDiceError(
            'NOT_SUPPORTED',
            `${api}: create() with class_weights summing to ${total} over ${n} classes: the GPU loss would be ` +
              `Σ w·(1 − score) / ${n}, qsm's value plus the constant ${(total - n) / n} (the same gradient). Scale ` +
              `class_weights to sum to ${n}, or use evaluate().`,
          );
        }
        const rows = perImage ? B : 1;
        const W = new Array<number>(C).fill(0);
        classes.forEach((c, i) => (W[c] += weights[i] / (n * rows)));
        return { ...lo, classes: [...new Set(classes)], weights: W, reduction: 'sum' };
      };
      return {
        api,
        options: o.values,
        async create(shape, extras?: { layout?: string }) {
          const channelsLast = channelsLastOf(extras);
          const C = channelsLast ? shape[shape.length - 1] : shape[1];
          const lo = weighted(optionsFor([...shape], channelsLast), shape[0], C);
          // The GPU value is 1 − the weighted score (for FScore: 1 − what evaluate() returns).
          return threshold !== null ? factory.metric({ ...lo, binarize: 'threshold', threshold }) : factory.loss(lo);
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
          const s = combine(r, pr.shape[0], C);
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
