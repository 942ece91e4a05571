// engine.presets: option checking (library names, unknown names rejected) and gradients of the GPU
// path (preset.create() → FamilyLoss.compute({ grad: true })) against central differences of the
// float64 peer references in src/reference/peers.
import { describe, expect, it } from 'vitest';
import { WgslDiceError } from '../src/index.js';
import { peerReference } from '../src/reference/peers/index.js';
import { centralDifferences, totalOf } from './helpers/finite-differences.js';
import { expectClose, mulberry32, withValidation } from './helpers/gpu.js';
import { useTestEngine } from './helpers/test-engine.js';

const gpu = useTestEngine();

describe('preset options', () => {
  it('rejects unknown option names (UNKNOWN_OPTION, naming the valid ones)', () => {
    const bad: [() => unknown, string][] = [
      [() => gpu.engine.presets.monai.DiceLoss({ smooth: 1 }), 'smooth'],
      [() => gpu.engine.presets.monai.TverskyLoss({ gamma: 2 }), 'gamma'],
      [() => gpu.engine.presets.smp.DiceLoss({ mode: 'binary', smooth_nr: 0 }), 'smooth_nr'],
      [() => gpu.engine.presets.keras.Dice({ from_logits: true }), 'from_logits'],
      [() => gpu.engine.presets.qsm.DiceLoss({ per_class: true }), 'per_class'],
      [() => gpu.engine.presets.nnunet.SoftDiceLoss({ batchDice: true }), 'batchDice'],
      [() => gpu.engine.presets.nnunet.DC_and_CE_loss({ soft_dice_kwargs: { smoth: 1 } }), 'smoth'],
    ];
    for (const [make, name] of bad) {
      let error: unknown;
      try {
        make();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(WgslDiceError);
      expect((error as WgslDiceError).code).toBe('UNKNOWN_OPTION');
      expect((error as Error).message).toContain(`'${name}'`);
    }
  });

  it('fills in the library defaults', () => {
    expect(gpu.engine.presets.monai.DiceLoss().options).toMatchObject({
      smooth_nr: 1e-5,
      smooth_dr: 1e-5,
      include_background: true,
      reduction: 'mean',
    });
    expect(gpu.engine.presets.smp.DiceLoss({ mode: 'multiclass' }).options).toMatchObject({
      from_logits: true,
      smooth: 0,
      eps: 1e-7,
    });
    expect(gpu.engine.presets.nnunet.SoftDiceLoss().options).toMatchObject({
      smooth: 1,
      do_bg: true,
      batch_dice: false,
    });
  });

  it('GeneralizedWassersteinDiceLoss checks its distance matrix and labels', async () => {
    expect(() => gpu.engine.presets.monai.GeneralizedWassersteinDiceLoss()).toThrow(/dist_matrix is required/);
    await expect(
      gpu.engine.presets.monai
        .GeneralizedWassersteinDiceLoss({
          dist_matrix: [
            [0, 1],
            [1, 0],
          ],
        })
        .create([1, 3, 4]),
    ).rejects.toMatchObject({ code: 'SHAPE_MISMATCH' });
    await expect(
      gpu.engine.presets.monai
        .GeneralizedWassersteinDiceLoss({
          dist_matrix: [
            [0, 1],
            [1, 0],
          ],
        })
        .evaluate(
          [
            [
              [0, 1, 2],
              [1, 0, 2],
            ],
          ],
          [[0, 2, 1]],
        ),
    ).rejects.toMatchObject({ code: 'LABEL_OUT_OF_RANGE' });
  });
});

/** Central differences (float64) of a reference loss w.r.t. its flat input. */
function gradTol(expected: ArrayLike<number>) {
  let max = 0;
  for (let i = 0; i < expected.length; i++) max = Math.max(max, Math.abs(expected[i]));
  return { atol: 2e-5 * max, rtol: 1e-4 };
}

const nnunetNone = {
  ce_kwargs: { reduction: 'none', weight: [1, 2, 0.5], label_smoothing: 0.1 },
  ignore_label: 255,
  weight_dice: 0.5,
};

interface GradCase {
  name: string;
  api: string;
  make: () => {
    create: (
      shape: readonly number[],
      extras?: { targetShape?: readonly number[] },
    ) => Promise<{
      compute(
        pred: Float32Array,
        target: Uint32Array,
        options: { grad: boolean },
      ): Promise<{ loss: number; grad?: Float32Array }>;
      destroy(): void;
    }>;
  };
  options: Record<string, unknown>;
  shape: number[];
  targetShape: number[];
  labels: (random: () => number, C: number) => number;
}

const gradCases: GradCase[] = [
  {
    name: 'MONAI DiceLoss(softmax, to_onehot_y)',
    api: 'monai.losses.DiceLoss',
    make: () => gpu.engine.presets.monai.DiceLoss({ softmax: true, to_onehot_y: true }),
    options: { softmax: true, to_onehot_y: true },
    shape: [2, 3, 4, 5],
    targetShape: [2, 1, 4, 5],
    labels: (r, C) => Math.floor(r() * C),
  },
  {
    name: 'MONAI DiceLoss(softmax, to_onehot_y, include_background=False, batch, jaccard)',
    api: 'monai.losses.DiceLoss',
    make: () =>
      gpu.engine.presets.monai.DiceLoss({
        softmax: true,
        to_onehot_y: true,
        include_background: false,
        batch: true,
        jaccard: true,
      }),
    options: { softmax: true, to_onehot_y: true, include_background: false, batch: true, jaccard: true },
    shape: [2, 3, 4, 5],
    targetShape: [2, 1, 4, 5],
    labels: (r, C) => Math.floor(r() * C),
  },
  {
    name: 'smp DiceLoss(multiclass) from logits',
    api: 'segmentation_models_pytorch.losses.DiceLoss',
    make: () => gpu.engine.presets.smp.DiceLoss({ mode: 'multiclass' }),
    options: { mode: 'multiclass' },
    shape: [2, 4, 3, 5],
    targetShape: [2, 3, 5],
    labels: (r, C) => Math.floor(r() * (C - 1)), // class C−1 empty: smp zeroes its loss
  },
  {
    name: 'smp DiceLoss(multiclass, log_loss, ignore_index=255)',
    api: 'segmentation_models_pytorch.losses.DiceLoss',
    make: () => gpu.engine.presets.smp.DiceLoss({ mode: 'multiclass', log_loss: true, ignore_index: 255 }),
    options: { mode: 'multiclass', log_loss: true, ignore_index: 255 },
    shape: [2, 3, 3, 4],
    targetShape: [2, 3, 4],
    labels: (r, C) => (r() < 0.15 ? 255 : Math.floor(r() * C)),
  },
  {
    name: 'nnU-Net DC_and_CE_loss (trainer defaults)',
    api: 'nnunetv2.training.loss.compound_losses.DC_and_CE_loss',
    make: () =>
      gpu.engine.presets.nnunet.DC_and_CE_loss({
        soft_dice_kwargs: { batch_dice: false, smooth: 1e-5, do_bg: false },
        dice_class: 'MemoryEfficientSoftDiceLoss',
      }),
    options: {
      soft_dice_kwargs: { batch_dice: false, smooth: 1e-5, do_bg: false },
      dice_class: 'MemoryEfficientSoftDiceLoss',
    },
    shape: [2, 3, 4, 4],
    targetShape: [2, 1, 4, 4],
    labels: (r, C) => Math.floor(r() * C),
  },
  {
    name: 'nnU-Net DC_and_CE_loss (SoftDiceLoss, batch_dice, ignore_label, CE weights)',
    api: 'nnunetv2.training.loss.compound_losses.DC_and_CE_loss',
    make: () =>
      gpu.engine.presets.nnunet.DC_and_CE_loss({
        soft_dice_kwargs: { batch_dice: true, smooth: 1 },
        ce_kwargs: { weight: [1, 2, 0.5] },
        ignore_label: 7,
      }),
    options: { soft_dice_kwargs: { batch_dice: true, smooth: 1 }, ce_kwargs: { weight: [1, 2, 0.5] }, ignore_label: 7 },
    shape: [2, 3, 4, 4],
    targetShape: [2, 1, 4, 4],
    labels: (r, C) => (r() < 0.2 ? 7 : Math.floor(r() * C)),
  },
  {
    name: 'MONAI FocalLoss(to_onehot_y) sigmoid form, alpha and weight',
    api: 'monai.losses.FocalLoss',
    make: () => gpu.engine.presets.monai.FocalLoss({ to_onehot_y: true, alpha: 0.25, weight: [1, 2, 0.5] }),
    options: { to_onehot_y: true, alpha: 0.25, weight: [1, 2, 0.5] },
    shape: [2, 3, 4, 3],
    targetShape: [2, 1, 4, 3],
    labels: (r, C) => Math.floor(r() * C),
  },
  {
    name: 'MONAI FocalLoss(to_onehot_y, use_softmax, include_background=False, gamma=1.5, sum)',
    api: 'monai.losses.FocalLoss',
    make: () =>
      gpu.engine.presets.monai.FocalLoss({
        to_onehot_y: true,
        use_softmax: true,
        include_background: false,
        gamma: 1.5,
        reduction: 'sum',
      }),
    options: { to_onehot_y: true, use_softmax: true, include_background: false, gamma: 1.5, reduction: 'sum' },
    shape: [2, 4, 3, 3],
    targetShape: [2, 1, 3, 3],
    labels: (r, C) => Math.floor(r() * C),
  },
  {
    name: 'MONAI DiceFocalLoss(softmax, to_onehot_y, lambda_focal=0.5)',
    api: 'monai.losses.DiceFocalLoss',
    make: () => gpu.engine.presets.monai.DiceFocalLoss({ softmax: true, to_onehot_y: true, lambda_focal: 0.5 }),
    options: { softmax: true, to_onehot_y: true, lambda_focal: 0.5 },
    shape: [2, 3, 4, 4],
    targetShape: [2, 1, 4, 4],
    labels: (r, C) => Math.floor(r() * C),
  },
  {
    name: 'MONAI DiceCELoss(softmax, to_onehot_y, weight, label_smoothing=0.2)',
    api: 'monai.losses.DiceCELoss',
    make: () =>
      gpu.engine.presets.monai.DiceCELoss({
        softmax: true,
        to_onehot_y: true,
        weight: [1, 2, 0.5],
        label_smoothing: 0.2,
      }),
    options: { softmax: true, to_onehot_y: true, weight: [1, 2, 0.5], label_smoothing: 0.2 },
    shape: [2, 3, 4, 5],
    targetShape: [2, 1, 4, 5],
    labels: (r, C) => Math.floor(r() * C),
  },
  {
    name: 'nnU-Net DC_and_CE_loss(ce_kwargs.label_smoothing=0.1)',
    api: 'nnunetv2.training.loss.compound_losses.DC_and_CE_loss',
    make: () => gpu.engine.presets.nnunet.DC_and_CE_loss({ ce_kwargs: { label_smoothing: 0.1 } }),
    options: { ce_kwargs: { label_smoothing: 0.1 } },
    shape: [2, 3, 4, 5],
    targetShape: [2, 1, 4, 5],
    labels: (r, C) => Math.floor(r() * C),
  },
  {
    name: "nnU-Net DC_and_CE_loss(ce_kwargs.reduction='none', weight, label_smoothing, ignore_label=255)",
    api: 'nnunetv2.training.loss.compound_losses.DC_and_CE_loss',
    make: () => gpu.engine.presets.nnunet.DC_and_CE_loss(nnunetNone),
    options: nnunetNone,
    shape: [2, 3, 4, 3],
    targetShape: [2, 1, 4, 3],
    labels: (r, C) => (r() < 0.2 ? 255 : Math.floor(r() * C)),
  },
  {
    name: 'MONAI GeneralizedWassersteinDiceLoss (default weighting, B=2)',
    api: 'monai.losses.GeneralizedWassersteinDiceLoss',
    make: () =>
      gpu.engine.presets.monai.GeneralizedWassersteinDiceLoss({
        dist_matrix: [
          [0, 1, 2],
          [1, 0, 1.5],
          [2, 1.5, 0],
        ],
      }),
    options: {
      dist_matrix: [
        [0, 1, 2],
        [1, 0, 1.5],
        [2, 1.5, 0],
      ],
    },
    shape: [2, 3, 4, 5],
    targetShape: [2, 4, 5],
    labels: (r, C) => Math.floor(r() * C),
  },
  {
    name: "MONAI GeneralizedWassersteinDiceLoss ('GDL' weighting, B=3, sum)",
    api: 'monai.losses.GeneralizedWassersteinDiceLoss',
    make: () =>
      gpu.engine.presets.monai.GeneralizedWassersteinDiceLoss({
        dist_matrix: [
          [0, 1, 1, 1],
          [1, 0, 0.5, 0.7],
          [1, 0.5, 0, 0.6],
          [1, 0.7, 0.6, 0],
        ],
        weighting_mode: 'GDL',
        reduction: 'sum',
      }),
    options: {
      dist_matrix: [
        [0, 1, 1, 1],
        [1, 0, 0.5, 0.7],
        [1, 0.5, 0, 0.6],
        [1, 0.7, 0.6, 0],
      ],
      weighting_mode: 'GDL',
      reduction: 'sum',
    },
    shape: [3, 4, 3, 3],
    targetShape: [3, 1, 3, 3],
    labels: (r, C) => Math.floor(r() * (C - 1)), // class C−1 empty in every sample
  },
];

describe('preset gradients (GPU) vs central differences of the float64 peer reference', () => {
  for (const c of gradCases) {
    it(c.name, async () => {
      const random = mulberry32(1234);
      const n = c.shape.reduce((a, b) => a * b, 1);
      const C = c.shape[1];
      const logits = Float64Array.from({ length: n }, () => random() * 4 - 2);
      const labelCount = c.targetShape.reduce((a, b) => a * b, 1);
      const labelValues = Array.from({ length: labelCount }, () => c.labels(random, C));
      const ref = peerReference[c.api];
      // A tensor-valued loss (a 'none' reduction) trains on its sum, as the GPU path's scalar.
      const f = (x: Float64Array) =>
        totalOf(ref(c.options, Array.from(x), labelValues, { inputShape: c.shape, targetShape: c.targetShape }));

      const loss = await c.make().create(c.shape, { targetShape: c.targetShape });
      const result = await withValidation(gpu.device, () =>
        loss.compute(Float32Array.from(logits), Uint32Array.from(labelValues), { grad: true }),
      );
      // The f32 logits the GPU saw, so that the reference sees exactly the same input.
      const x0 = Float64Array.from(Float32Array.from(logits));
      expectClose([result.loss], [f(x0)], { atol: 1e-5, rtol: 1e-5 }, `${c.name} loss`);
      const expected = centralDifferences(f, x0);
      expectClose(result.grad!, expected, gradTol(expected), `${c.name} grad`);
      loss.destroy();
    });
  }
});

describe('MONAI Dice metrics decode y_pred as DiceHelper does', () => {
  // Each against the float64 peer reference on the same nested input.
  const cases: [
    string,
    Record<string, unknown>,
    number[],
    number[],
    (r: () => number) => number,
    (r: () => number) => number,
  ][] = [
    [
      'label-map prediction with num_classes',
      { num_classes: 3, ignore_empty: false },
      [2, 1, 4, 4],
      [2, 1, 4, 4],
      (r) => Math.floor(r() * 3),
      (r) => Math.floor(r() * 3),
    ],
    [
      'multi-channel prediction, negative values count as "on" (!= 0)',
      { include_background: false },
      [2, 3, 4, 4],
      [2, 3, 4, 4],
      (r) => (r() < 0.3 ? -1 : r() < 0.5 ? 0 : 1),
      (r) => (r() < 0.4 ? 1 : 0),
    ],
    [
      'one channel: class 1 only (y_pred == 1)',
      {},
      [2, 1, 5, 3],
      [2, 1, 5, 3],
      (r) => (r() < 0.3 ? 0.7 : r() < 0.6 ? 1 : 0),
      (r) => (r() < 0.5 ? 1 : 0),
    ],
  ];
  it.each(cases)('%s', async (_name, options, predShape, targetShape, predValue, targetValue) => {
    const random = mulberry32(99);
    const pred = Array.from({ length: predShape.reduce((a, b) => a * b, 1) }, () => predValue(random));
    const target = Array.from({ length: targetShape.reduce((a, b) => a * b, 1) }, () => targetValue(random));
    const extras = { inputShape: predShape, targetShape };
    const got = await gpu.engine.presets.monai.compute_dice(options).evaluate(pred, target, extras);
    const want = peerReference['monai.metrics.compute_dice'](options, pred, target, extras);
    const flat = (v: unknown): number[] => (Array.isArray(v) ? v.flatMap(flat) : [v as number]);
    const a = flat(got);
    const e = flat(want);
    expect(a.map(Number.isNaN)).toEqual(e.map(Number.isNaN));
    expectClose(
      a.map((v) => (Number.isNaN(v) ? 0 : v)),
      e.map((v) => (Number.isNaN(v) ? 0 : v)),
      { atol: 1e-6, rtol: 1e-5 },
      'dice',
    );
  });
});
