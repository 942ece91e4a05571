// Seeded random option sets for the peer presets, on the GPU, against the float64 peer
// references (which pass all 92 public vectors): held-out peer cases of the same kinds will
// exercise options the public vectors do not. Tolerance: |a - e| <= 1e-5 + 1e-4 |e|, NaN
// patterns equal. A failure names its seed and options.
import { describe, expect, it } from 'vitest';
import { DiceEngine, type Preset } from '../src/index.js';
import { peerReference, type PeerValue } from '../src/reference/peers/index.js';
import { mulberry32 } from './helpers/gpu.js';
import { flat } from './helpers/peer-vectors.js';
import { useTestEngine } from './helpers/test-engine.js';

const gpu = useTestEngine();

type Random = () => number;
interface Generated {
  options: Record<string, unknown>;
  pred: number[];
  target: number[];
  extras: { inputShape: number[]; targetShape: number[]; layout?: string };
}
interface PresetFuzz {
  api: string;
  preset: (e: DiceEngine) => (options: Record<string, unknown>) => Pick<Preset, 'evaluate'>;
  generate: (r: Random) => Generated;
}

const pick = <T>(r: Random, values: readonly T[]): T => values[Math.floor(r() * values.length)];
const logits = (r: Random, n: number) => Array.from({ length: n }, () => r() * 6 - 3);
const probabilities = (r: Random, n: number) => Array.from({ length: n }, () => r());
const labelMap = (r: Random, n: number, C: number) => Array.from({ length: n }, () => Math.floor(r() * C));
const oneHotNCHW = (labels: number[], B: number, C: number, S: number) => {
  const out = new Array(B * C * S).fill(0);
  labels.forEach((l, v) => (out[(Math.floor(v / S) * C + l) * S + (v % S)] = 1));
  return out;
};

function monaiCommon(r: Random, C: number) {
  const activation = pick(r, ['sigmoid', 'softmax', 'none'] as const);
  const options: Record<string, unknown> = {
    include_background: C > 1 ? r() < 0.7 : true,
    sigmoid: activation === 'sigmoid',
    softmax: activation === 'softmax' && C > 1,
    reduction: pick(r, ['mean', 'sum', 'none']),
    smooth_nr: pick(r, [0, 1e-5, 1]),
    smooth_dr: pick(r, [1e-5, 1]),
    batch: r() < 0.4,
  };
  return options;
}

function monaiInputs(r: Random, options: Record<string, unknown>, B: number, C: number, S: number[]): Generated {
  const voxels = S.reduce((a, b) => a * b, 1);
  const labels = labelMap(r, B * voxels, C);
  const toOnehot = C > 1 && r() < 0.5;
  options.to_onehot_y = toOnehot;
  const raw = options.sigmoid || options.softmax;
  return {
    options,
    pred: raw ? logits(r, B * C * voxels) : probabilities(r, B * C * voxels),
    target: toOnehot
      ? labels
      : C === 1
        ? labels.map((l) => (l > 0 || r() < 0.3 ? 1 : 0))
        : oneHotNCHW(labels, B, C, voxels),
    extras: { inputShape: [B, C, ...S], targetShape: toOnehot ? [B, 1, ...S] : [B, C, ...S] },
  };
}

const fuzzers: PresetFuzz[] = [
  {
    api: 'monai.losses.DiceLoss',
    preset: (e) => e.presets.monai.DiceLoss,
    generate: (r) => {
      const C = pick(r, [1, 2, 3]);
      const o = monaiCommon(r, C);
      o.squared_pred = r() < 0.3;
      o.jaccard = r() < 0.3;
      if (r() < 0.3 && C > 1) o.weight = Array.from({ length: o.include_background ? C : C - 1 }, () => 0.5 + r());
      return monaiInputs(r, o, pick(r, [1, 2]), C, [3, 4]);
    },
  },
  {
    api: 'monai.losses.GeneralizedDiceLoss',
    preset: (e) => e.presets.monai.GeneralizedDiceLoss,
    generate: (r) => {
      const C = pick(r, [2, 3, 4]);
      const o = monaiCommon(r, C);
      o.w_type = pick(r, ['square', 'simple', 'uniform']);
      return monaiInputs(r, o, pick(r, [1, 2]), C, [4, 3]);
    },
  },
  {
    api: 'monai.losses.TverskyLoss',
    preset: (e) => e.presets.monai.TverskyLoss,
    generate: (r) => {
      const C = pick(r, [1, 2, 3]);
      const o = monaiCommon(r, C);
      o.alpha = r();
      o.beta = r();
      return monaiInputs(r, o, pick(r, [1, 2]), C, [5]);
    },
  },
  {
    api: 'monai.losses.DiceCELoss',
    preset: (e) => e.presets.monai.DiceCELoss,
    generate: (r) => {
      const C = pick(r, [2, 3]);
      const o = monaiCommon(r, C);
      o.sigmoid = false;
      o.softmax = true;
      o.reduction = pick(r, ['mean', 'sum']);
      o.lambda_dice = r() * 2;
      o.lambda_ce = r() * 2;
      if (r() < 0.4) o.weight = Array.from({ length: C }, () => 0.5 + r());
      if (r() < 0.4) o.label_smoothing = r() * 0.4;
      const g = monaiInputs(r, o, pick(r, [1, 2]), C, [3, 3]);
      // DiceCE takes a label map for its CE: keep to_onehot_y with label maps.
      if (!g.options.to_onehot_y) {
        g.options.to_onehot_y = true;
        const voxels = 9;
        const B = g.extras.inputShape[0];
        g.target = labelMap(r, B * voxels, C);
        g.extras.targetShape = [B, 1, 3, 3];
      }
      return g;
    },
  },
  {
    api: 'monai.losses.FocalLoss',
    preset: (e) => e.presets.monai.FocalLoss,
    generate: (r) => {
      const C = pick(r, [1, 2, 3]);
      const useSoftmax = C > 1 && r() < 0.4;
      const options: Record<string, unknown> = {
        include_background: C > 1 ? r() < 0.7 : true,
        gamma: pick(r, [0, 1, 2, 2.5]),
        use_softmax: useSoftmax,
        reduction: pick(r, ['mean', 'sum', 'none']),
      };
      if (r() < 0.4 && !(useSoftmax && !options.include_background)) options.alpha = r();
      const g = monaiInputs(r, options, pick(r, [1, 2]), C, [3, 4]);
      g.pred = logits(r, g.pred.length);
      return g;
    },
  },
  {
    api: 'monai.losses.DiceFocalLoss',
    preset: (e) => e.presets.monai.DiceFocalLoss,
    generate: (r) => {
      const C = pick(r, [2, 3]);
      const o = monaiCommon(r, C);
      o.reduction = pick(r, ['mean', 'sum']);
      o.gamma = pick(r, [0, 2]);
      o.lambda_dice = r() * 2;
      o.lambda_focal = r() * 2;
      const g = monaiInputs(r, o, pick(r, [1, 2]), C, [3, 3]);
      g.pred = logits(r, g.pred.length);
      return g;
    },
  },
  {
    api: 'monai.metrics.DiceMetric',
    preset: (e) => e.presets.monai.DiceMetric,
    generate: (r) => {
      const B = pick(r, [1, 2, 3]);
      const C = pick(r, [2, 3]);
      const voxels = 12;
      const options = {
        include_background: r() < 0.6,
        reduction: pick(r, ['mean', 'sum', 'mean_batch', 'sum_batch', 'mean_channel', 'sum_channel', 'none']),
        ignore_empty: r() < 0.5,
      };
      const predLabels = labelMap(r, B * voxels, C);
      const truthLabels = labelMap(r, B * voxels, C);
      return {
        options,
        pred: oneHotNCHW(predLabels, B, C, voxels),
        target: oneHotNCHW(truthLabels, B, C, voxels),
        extras: { inputShape: [B, C, 3, 4], targetShape: [B, C, 3, 4] },
      };
    },
  },
  {
    api: 'keras.losses.Tversky',
    preset: (e) => e.presets.keras.Tversky,
    generate: (r) => {
      const B = pick(r, [1, 2]);
      const C = pick(r, [1, 2, 3]);
      const n = B * 12 * C;
      return {
        options: { alpha: r(), beta: r() },
        pred: probabilities(r, n),
        target: Array.from({ length: n }, () => (r() < 0.4 ? 1 : 0)),
        extras: { inputShape: [B, 3, 4, C], targetShape: [B, 3, 4, C], layout: 'NHWC' },
      };
    },
  },
  {
    api: 'monai.losses.MaskedDiceLoss',
    preset: (e) => e.presets.monai.MaskedDiceLoss,
    generate: (r) => {
      const C = pick(r, [1, 2, 3]);
      const o = monaiCommon(r, C);
      const B = pick(r, [1, 2]);
      const g = monaiInputs(r, o, B, C, [3, 4]);
      const perSample = r() < 0.5;
      const mask = Array.from({ length: (perSample ? B : 1) * 12 }, () => (r() < 0.4 ? 0 : 1));
      return { ...g, extras: { ...g.extras, mask, maskShape: [perSample ? B : 1, 1, 3, 4] } as Generated['extras'] };
    },
  },
  {
    api: 'monai.metrics.GeneralizedDiceScore',
    preset: (e) => e.presets.monai.GeneralizedDiceScore,
    generate: (r) => {
      const B = pick(r, [1, 2, 3]);
      const C = pick(r, [2, 3]);
      const options = {
        include_background: r() < 0.6,
        reduction: pick(r, ['mean', 'sum', 'mean_batch', 'sum_batch', 'none']),
        weight_type: pick(r, ['square', 'simple', 'uniform']),
      };
      return {
        options,
        pred: oneHotNCHW(labelMap(r, B * 12, C), B, C, 12),
        target: oneHotNCHW(labelMap(r, B * 12, C - (r() < 0.3 ? 1 : 0)), B, C, 12),
        extras: { inputShape: [B, C, 3, 4], targetShape: [B, C, 3, 4] },
      };
    },
  },
  {
    api: 'monai.losses.GeneralizedWassersteinDiceLoss',
    preset: (e) => e.presets.monai.GeneralizedWassersteinDiceLoss,
    generate: (r) => {
      const B = pick(r, [1, 2, 3]);
      const C = pick(r, [2, 3]);
      const M = Array.from({ length: C }, (_, i) => Array.from({ length: C }, (_, j) => (i === j ? 0 : 0.2 + r())));
      for (let i = 0; i < C; i++) for (let j = 0; j < i; j++) M[i][j] = M[j][i];
      return {
        options: {
          dist_matrix: M,
          weighting_mode: pick(r, ['default', 'GDL']),
          reduction: pick(r, ['mean', 'sum', 'none']),
        },
        pred: logits(r, B * C * 12),
        target: labelMap(r, B * 12, C),
        extras: { inputShape: [B, C, 3, 4], targetShape: [B, 3, 4] },
      };
    },
  },
  {
    api: 'nnunetv2.training.loss.dice.SoftDiceLoss',
    preset: (e) => e.presets.nnunet.SoftDiceLoss,
    generate: (r) => {
      const B = pick(r, [1, 2]);
      const C = pick(r, [2, 3]);
      return {
        options: {
          apply_nonlin: r() < 0.5 ? 'softmax(dim=1)' : null,
          batch_dice: r() < 0.5,
          do_bg: r() < 0.5,
          smooth: pick(r, [1e-5, 1]),
        },
        pred: logits(r, B * C * 12),
        target: labelMap(r, B * 12, C),
        extras: { inputShape: [B, C, 3, 4], targetShape: [B, 1, 3, 4] },
      };
    },
  },
  {
    api: 'segmentation_models_pytorch.losses._functional.soft_jaccard_score',
    preset: (e) => e.presets.smp.soft_jaccard_score,
    generate: (r) => {
      const rows = pick(r, [1, 2, 3]);
      const n = rows * 5;
      return {
        options: { dims: r() < 0.5 ? null : [1], eps: 1e-5, smooth: pick(r, [0, 0.5]) },
        pred: probabilities(r, n),
        target: Array.from({ length: n }, () => (r() < 0.4 ? 1 : 0)),
        extras: { inputShape: [rows, 5], targetShape: [rows, 5] },
      };
    },
  },
  {
    api: 'keras.losses.Dice',
    preset: (e) => e.presets.keras.Dice,
    generate: (r) => {
      const B = pick(r, [1, 2, 3]);
      const C = pick(r, [1, 2]);
      const n = B * 6 * C;
      return {
        options: {
          axis: pick(r, [null, [1, 2], [1, 2, 3]]),
          reduction: pick(r, ['sum_over_batch_size', 'sum', 'none']),
        },
        pred: probabilities(r, n),
        target: Array.from({ length: n }, () => (r() < 0.4 ? 1 : 0)),
        extras: { inputShape: [B, 2, 3, C], targetShape: [B, 2, 3, C], layout: 'NHWC' },
      };
    },
  },
  {
    api: 'segmentation_models_pytorch.losses.DiceLoss',
    preset: (e) => e.presets.smp.DiceLoss,
    generate: (r) => smpInputs(r, {}),
  },
  {
    api: 'segmentation_models_pytorch.losses.JaccardLoss',
    preset: (e) => e.presets.smp.JaccardLoss,
    generate: (r) => smpInputs(r, {}),
  },
  {
    api: 'segmentation_models_pytorch.losses.TverskyLoss',
    preset: (e) => e.presets.smp.TverskyLoss,
    generate: (r) => smpInputs(r, { alpha: r(), beta: r(), gamma: 0.5 + r() }),
  },
  {
    api: 'segmentation_models.losses.DiceLoss',
    preset: (e) => e.presets.qsm.DiceLoss,
    generate: (r) => qsmInputs(r, { beta: pick(r, [0.5, 1, 2]) }),
  },
  {
    api: 'segmentation_models.metrics.FScore',
    preset: (e) => e.presets.qsm.FScore,
    generate: (r) => qsmInputs(r, { beta: pick(r, [0.5, 1, 2]), threshold: r() < 0.5 ? null : 0.5 }),
  },
  {
    api: 'nnunetv2.training.loss.compound_losses.DC_and_CE_loss',
    preset: (e) => e.presets.nnunet.DC_and_CE_loss,
    generate: (r) => {
      const B = pick(r, [1, 2]);
      const C = pick(r, [2, 3]);
      const soft: Record<string, unknown> = { batch_dice: r() < 0.5, smooth: pick(r, [1e-5, 1]), do_bg: r() < 0.3 };
      const options: Record<string, unknown> = {
        soft_dice_kwargs: soft,
        ce_kwargs: {},
        weight_ce: r() * 2,
        weight_dice: r() * 2,
      };
      if (r() < 0.4) options.ignore_label = C;
      const labels = labelMap(r, B * 12, options.ignore_label === undefined ? C : C + 1);
      return {
        options,
        pred: logits(r, B * C * 12),
        target: labels,
        extras: { inputShape: [B, C, 3, 4], targetShape: [B, 1, 3, 4] },
      };
    },
  },
];

function smpInputs(r: Random, extra: Record<string, unknown>): Generated {
  const mode = pick(r, ['binary', 'multiclass', 'multilabel'] as const);
  const B = pick(r, [1, 2]);
  const C = mode === 'binary' ? 1 : pick(r, [2, 3]);
  const S = 12;
  const options: Record<string, unknown> = {
    mode,
    log_loss: r() < 0.3,
    from_logits: r() < 0.7,
    smooth: pick(r, [0, 0.5]),
    ...extra,
  };
  if (mode !== 'binary' && r() < 0.3) options.classes = [C - 1];
  if (mode === 'multiclass' && r() < 0.3) options.ignore_index = 255;
  const pred = options.from_logits ? logits(r, B * C * S) : probabilities(r, B * C * S);
  let target: number[];
  let targetShape: number[];
  if (mode === 'multiclass') {
    target = labelMap(r, B * S, C).map((l) => (options.ignore_index !== undefined && r() < 0.15 ? 255 : l));
    targetShape = [B, 3, 4];
  } else {
    target = Array.from({ length: B * C * S }, () => (r() < 0.4 ? 1 : 0));
    targetShape = [B, C, 3, 4];
  }
  return { options, pred, target, extras: { inputShape: [B, C, 3, 4], targetShape } };
}

function qsmInputs(r: Random, extra: Record<string, unknown>): Generated {
  const B = pick(r, [1, 2]);
  const C = pick(r, [1, 2, 3]);
  const options: Record<string, unknown> = { per_image: r() < 0.5, smooth: pick(r, [1e-5, 1]), ...extra };
  if (C > 1 && r() < 0.3) options.class_indexes = [C - 1];
  // One weight per selected class.
  if (r() < 0.3) options.class_weights = Array.from({ length: options.class_indexes ? 1 : C }, () => 0.5 + r());
  const n = B * 3 * 4 * C;
  return {
    options,
    pred: probabilities(r, n),
    target: Array.from({ length: n }, () => (r() < 0.4 ? 1 : 0)),
    extras: { inputShape: [B, 3, 4, C], targetShape: [B, 3, 4, C], layout: 'NHWC' },
  };
}

const CASES = Number(process.env.WGSL_DICE_FUZZ_PRESETS ?? 12);

describe('peer presets on the GPU against the float64 peer references, random options', () => {
  for (const fuzzer of fuzzers) {
    for (let k = 0; k < CASES; k++) {
      const seed = 500 + k;
      it(`${fuzzer.api} seed ${seed}`, async () => {
        const r = mulberry32(seed * 7919 + fuzzer.api.length);
        const g = fuzzer.generate(r);
        const context = `${fuzzer.api} seed ${seed} ${JSON.stringify(g.options)}`;
        const want = peerReference[fuzzer.api](g.options, g.pred, g.target, g.extras) as PeerValue;
        const got = await fuzzer.preset(gpu.engine)(g.options).evaluate(g.pred, g.target, g.extras);
        const a = flat(got);
        const e = flat(want);
        expect(a.length, context).toBe(e.length);
        expect(a.map(Number.isNaN), context).toEqual(e.map(Number.isNaN));
        a.forEach((v, i) => {
          if (Number.isNaN(e[i])) return;
          const bound = 1e-5 + 1e-4 * Math.abs(e[i]);
          if (!(Math.abs(v - e[i]) <= bound)) throw new Error(`${context}: element ${i} got ${v}, expected ${e[i]}`);
        });
      });
    }
  }
});
