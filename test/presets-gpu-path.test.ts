// The GPU path of the presets (create() then compute(..., { grad: true })) for option
// combinations the real-peer differential set draws rarely or never, against the float64 peer
// references (src/reference/peers): the loss within |a - e| <= 1e-5 + 1e-5 |e|, the gradient
// against central differences of the reference within 2e-5 max|g| + 1e-4 |g| element-wise
// (the differences carry ~1e-8 absolute error). A 'none' reduction trains on its tensor's sum.
// evaluate() is checked against the reference on the same input (value tolerance 1e-6 + 1e-4 |e|).
import { describe, it } from 'vitest';
import { labels } from '../src/presets/common.js';
import type { Preset } from '../src/presets/index.js';
import { peerReference } from '../src/reference/peers/index.js';
import { tensor } from '../src/peers/tensor.js';
import { centralDifferences, totalOf } from './helpers/finite-differences.js';
import { expectClose, mulberry32, withValidation } from './helpers/gpu.js';
import { useTestEngine } from './helpers/test-engine.js';

interface PathCase {
  lib: 'monai' | 'smp' | 'nnunet';
  api: string;
  /** The reference's registry name. */
  ref: string;
  options: Record<string, unknown>;
  shape: number[];
  targetShape: number[];
  /** One target value (a label, a one-hot or soft entry, or an ignore value) at flat index i. */
  target: (random: () => number, C: number, i: number) => number;
  maskShape?: number[];
  /** The library's ignore label, when label maps hold one. */
  ignore?: number;
}

const label = (random: () => number, C: number) => Math.floor(random() * C);
const softOrIgnore = (ignore: number) => (random: () => number) => (random() < 0.2 ? ignore : random() < 0.5 ? 1 : 0);

const cases: PathCase[] = [
  {
    lib: 'monai',
    api: 'DiceCELoss',
    ref: 'monai.losses.DiceCELoss',
    options: { sigmoid: true, weight: [0.5, 2, 1], reduction: 'sum', include_background: false },
    shape: [2, 3, 5],
    targetShape: [2, 3, 5],
    target: (r) => (r() < 0.4 ? 1 : 0),
  },
  {
    lib: 'monai',
    api: 'DiceCELoss',
    ref: 'monai.losses.DiceCELoss',
    options: { other_act: 'torch.tanh', to_onehot_y: true, label_smoothing: 0.1, batch: true },
    shape: [2, 3, 2, 3],
    targetShape: [2, 1, 2, 3],
    target: label,
  },
  {
    lib: 'monai',
    api: 'DiceCELoss',
    ref: 'monai.losses.DiceCELoss',
    options: { softmax: true, weight: [1.5, 0.5], label_smoothing: 0.2 },
    shape: [2, 2, 6],
    targetShape: [2, 2, 6],
    target: (r) => r(),
  },
  {
    lib: 'monai',
    api: 'DiceFocalLoss',
    ref: 'monai.losses.DiceFocalLoss',
    options: {
      sigmoid: true,
      to_onehot_y: true,
      reduction: 'none',
      batch: true,
      include_background: false,
      weight: [2, 0.5],
      alpha: 0.3,
    },
    shape: [2, 3, 2, 2],
    targetShape: [2, 1, 2, 2],
    target: label,
  },
  {
    lib: 'monai',
    api: 'GeneralizedDiceFocalLoss',
    ref: 'monai.losses.GeneralizedDiceFocalLoss',
    options: {
      softmax: true,
      to_onehot_y: true,
      reduction: 'none',
      batch: true,
      include_background: false,
      lambda_gdl: 0.5,
    },
    shape: [2, 3, 5],
    targetShape: [2, 1, 5],
    target: label,
  },
  {
    lib: 'monai',
    api: 'GeneralizedDiceFocalLoss',
    ref: 'monai.losses.GeneralizedDiceFocalLoss',
    options: { other_act: 'torch.tanh', reduction: 'none', w_type: 'simple' },
    shape: [2, 2, 4],
    targetShape: [2, 2, 4],
    target: (r) => (r() < 0.5 ? 1 : 0),
  },
  {
    lib: 'monai',
    api: 'MaskedDiceLoss',
    ref: 'monai.losses.MaskedDiceLoss',
    options: { to_onehot_y: true, soft_label: true, jaccard: true },
    shape: [2, 3, 5],
    targetShape: [2, 1, 5],
    target: label,
    maskShape: [1, 1, 5],
  },
  {
    lib: 'monai',
    api: 'TverskyLoss',
    ref: 'monai.losses.TverskyLoss',
    options: { other_act: 'lambda x: torch.softmax(x, dim=1)', soft_label: true, alpha: 0.7, beta: 0.3 },
    shape: [1, 1, 7],
    targetShape: [1, 1, 7],
    target: (r) => r(),
  },
  {
    lib: 'smp',
    api: 'JaccardLoss',
    ref: 'segmentation_models_pytorch.losses.JaccardLoss',
    options: { mode: 'multilabel', ignore_index: -1, classes: [2, 0, 2], log_loss: true },
    shape: [2, 3, 6],
    targetShape: [2, 3, 6],
    target: softOrIgnore(-1),
  },
  {
    lib: 'smp',
    api: 'DiceLoss',
    ref: 'segmentation_models_pytorch.losses.DiceLoss',
    options: { mode: 'multiclass', ignore_index: -100, classes: [1, 1, 2], class_weights: [1, 2, 0.5], smooth: 0.5 },
    shape: [2, 3, 6],
    targetShape: [2, 6],
    target: (r, C) => (r() < 0.2 ? -100 : label(r, C)),
    ignore: -100,
  },
  {
    lib: 'nnunet',
    api: 'SoftDiceLoss',
    ref: 'nnunetv2.training.loss.dice.SoftDiceLoss',
    options: { apply_nonlin: 'torch.sigmoid', clip_tp: 1.5, batch_dice: true, do_bg: false },
    shape: [2, 3, 5],
    targetShape: [2, 1, 5],
    target: label,
    maskShape: [2, 1, 5],
  },
  {
    lib: 'nnunet',
    api: 'DC_and_CE_loss',
    ref: 'nnunetv2.training.loss.compound_losses.DC_and_CE_loss',
    options: {
      ce_kwargs: { reduction: 'sum', weight: [1, 2, 0.5] },
      ignore_label: 255,
      dice_class: 'MemoryEfficientSoftDiceLoss',
    },
    shape: [2, 3, 5],
    targetShape: [2, 1, 5],
    target: (r, C) => (r() < 0.2 ? 255 : label(r, C)),
    ignore: 255,
  },
  {
    lib: 'nnunet',
    api: 'DC_and_CE_loss',
    ref: 'nnunetv2.training.loss.compound_losses.DC_and_CE_loss',
    options: { ce_kwargs: { ignore_index: 1, weight: [2, 1, 0.5] }, weight_dice: 0.5 },
    shape: [2, 3, 5],
    targetShape: [2, 1, 5],
    target: label,
  },
  {
    lib: 'nnunet',
    api: 'DC_and_CE_loss',
    ref: 'nnunetv2.training.loss.compound_losses.DC_and_CE_loss',
    options: { ce_kwargs: { ignore_index: 0, reduction: 'none' } },
    shape: [1, 3, 2, 3],
    targetShape: [1, 1, 2, 3],
    target: label,
  },
];

const gpu = useTestEngine();

describe('preset GPU path vs the float64 peer references (rarely drawn combinations)', () => {
  cases.forEach((c, index) => {
    it(`${c.lib}.${c.api} ${JSON.stringify(c.options)}`, async () => {
      const random = mulberry32(500 + index);
      const count = (s: number[]) => s.reduce((a, b) => a * b, 1);
      const C = c.shape[1];
      const x0 = Float64Array.from(Float32Array.from({ length: count(c.shape) }, () => random() * 4 - 2));
      const y = Array.from({ length: count(c.targetShape) }, (_, i) => c.target(random, C, i));
      const mask = c.maskShape
        ? Array.from({ length: count(c.maskShape) }, () => (random() < 0.3 ? 0 : random() < 0.5 ? 1 : random()))
        : null;
      const extras = { inputShape: c.shape, targetShape: c.targetShape, mask, maskShape: c.maskShape ?? null };
      const f = (x: Float64Array) => totalOf(peerReference[c.ref](c.options, Array.from(x), y, extras));

      const make = (
        gpu.engine.presets as unknown as Record<string, Record<string, (o: Record<string, unknown>) => Preset>>
      )[c.lib][c.api];
      const evaluated = await withValidation(gpu.device, () => make(c.options).evaluate(Array.from(x0), y, extras));
      expectClose([totalOf(evaluated)], [f(x0)], { atol: 1e-6, rtol: 1e-4 }, 'evaluate');

      const loss = await make(c.options).create(c.shape, {
        targetShape: c.targetShape,
        ...(c.maskShape ? { maskShape: c.maskShape } : {}),
      });
      try {
        const target =
          loss.options.target === 'dense' ? Float32Array.from(y) : labels(tensor(c.targetShape, y), c.ignore ?? null);
        const result = await withValidation(gpu.device, () =>
          loss.compute(Float32Array.from(x0), target, {
            grad: true,
            ...(mask ? { mask: Float32Array.from(mask) } : {}),
          }),
        );
        expectClose([result.loss], [f(x0)], { atol: 1e-5, rtol: 1e-5 }, 'GPU-path loss');
        const expected = centralDifferences(f, x0);
        const max = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        expectClose(result.grad!, expected, { atol: 2e-5 * max, rtol: 1e-4 }, 'GPU-path gradient');
      } finally {
        loss.destroy();
      }
    });
  });
});
