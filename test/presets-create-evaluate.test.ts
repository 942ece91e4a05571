// create() computes what evaluate() computes (issue 21: keras Dice with axis [1, 2] gave 3.4178
// from create() against 3.4784 from evaluate(); smp soft_dice_score({ dims: [0, 2, 3] })'s
// create() summed untransposed memory; qsm DiceLoss's create() dropped class_weights; and a
// torch preset's create() ignored a channels-last layout). For every preset, a few option
// combinations on one small input: evaluate(pred, target, extras) and
// create(shape, { targetShape, maskShape, layout }).compute(pred, target, { mask }) on the same
// host data. What corresponds:
//   - a loss: create()'s loss is evaluate()'s number, or the sum of the tensor it returns (the
//     scalar the GPU path trains on for a 'none' reduction);
//   - a score (smp soft_*_score, monai compute_dice): create()'s per-group scores are
//     evaluate()'s values, in order;
//   - qsm FScore: create()'s loss is 1 - the score evaluate() returns.
// Both sides are f32 GPU sums of the same terms, possibly in another order (evaluate() may
// transpose on the host): |a - e| <= 1e-5 + 1e-5 |e|.
import { describe, expect, it } from 'vitest';
import type { FamilyLoss } from '../src/index.js';
import { labels } from '../src/presets/common.js';
import type { Preset, PresetValue } from '../src/presets/index.js';
import { tensor, toNested } from '../src/peers/tensor.js';
import { expectClose, mulberry32, withValidation } from './helpers/gpu.js';
import { useTestEngine } from './helpers/test-engine.js';

const TOL = { atol: 1e-5, rtol: 1e-5 };

type Compare = 'sum' | 'scores' | 'one-minus';

interface Case {
  lib: 'monai' | 'smp' | 'keras' | 'qsm' | 'nnunet';
  api: string;
  options: Record<string, unknown>;
  /** pred as the preset receives it (and create() is given). */
  shape: number[];
  targetShape?: number[];
  /** 'labels' (integers below the class count), 'binary', 'soft', or a function of (random, i). */
  target: 'labels' | 'binary' | 'soft' | ((random: () => number) => number);
  /** pred values: 'logits' in [-2, 2] (default), or 'binary' 0/1. */
  pred?: 'logits' | 'binary';
  maskShape?: number[];
  layout?: string;
  /** The ignore label a label map holds (packed by labels()). */
  ignore?: number;
  compare?: Compare;
}

const NCHW = [2, 3, 3, 3];
const LABELS_B1HW = [2, 1, 3, 3];
const NHWC = [2, 3, 3, 2];

const cases: Case[] = [
  // MONAI
  {
    lib: 'monai',
    api: 'DiceLoss',
    options: { softmax: true, to_onehot_y: true },
    shape: NCHW,
    targetShape: LABELS_B1HW,
    target: 'labels',
  },
  {
    lib: 'monai',
    api: 'DiceLoss',
    options: { sigmoid: true, batch: true, reduction: 'none', weight: [1, 2, 0.5] },
    shape: NCHW,
    target: 'binary',
  },
  {
    lib: 'monai',
    api: 'DiceLoss',
    options: { softmax: true, to_onehot_y: true, include_background: false },
    shape: [2, 3, 3, 3],
    targetShape: [2, 3, 3, 1],
    layout: 'NHWC',
    target: 'labels',
  },
  {
    lib: 'monai',
    api: 'MaskedDiceLoss',
    options: { sigmoid: true },
    shape: NCHW,
    target: 'binary',
    maskShape: LABELS_B1HW,
  },
  {
    lib: 'monai',
    api: 'GeneralizedDiceLoss',
    options: { softmax: true, to_onehot_y: true },
    shape: NCHW,
    targetShape: LABELS_B1HW,
    target: 'labels',
  },
  { lib: 'monai', api: 'TverskyLoss', options: { sigmoid: true, alpha: 0.3, beta: 0.7 }, shape: NCHW, target: 'soft' },
  {
    lib: 'monai',
    api: 'DiceCELoss',
    options: { softmax: true, to_onehot_y: true, lambda_ce: 0.5 },
    shape: NCHW,
    targetShape: LABELS_B1HW,
    target: 'labels',
  },
  { lib: 'monai', api: 'DiceFocalLoss', options: { sigmoid: true, alpha: 0.25 }, shape: NCHW, target: 'binary' },
  {
    lib: 'monai',
    api: 'GeneralizedDiceFocalLoss',
    options: { softmax: true, to_onehot_y: true, reduction: 'none' },
    shape: NCHW,
    targetShape: LABELS_B1HW,
    target: 'labels',
  },
  {
    lib: 'monai',
    api: 'FocalLoss',
    options: { use_softmax: true, to_onehot_y: true, gamma: 1 },
    shape: NCHW,
    targetShape: LABELS_B1HW,
    target: 'labels',
  },
  {
    lib: 'monai',
    api: 'GeneralizedWassersteinDiceLoss',
    options: {
      dist_matrix: [
        [0, 1, 1],
        [1, 0, 0.5],
        [1, 0.5, 0],
      ],
      reduction: 'none',
    },
    shape: NCHW,
    targetShape: [2, 3, 3],
    target: 'labels',
  },
  { lib: 'monai', api: 'compute_dice', options: {}, shape: NCHW, pred: 'binary', target: 'binary', compare: 'scores' },
  {
    lib: 'monai',
    api: 'SoftDiceclDiceLoss',
    options: { iter_: 1 },
    shape: [1, 2, 6, 6],
    pred: 'binary',
    target: 'binary',
  },
  // segmentation_models.pytorch
  {
    lib: 'smp',
    api: 'DiceLoss',
    options: { mode: 'multiclass' },
    shape: NCHW,
    targetShape: [2, 3, 3],
    target: 'labels',
  },
  {
    lib: 'smp',
    api: 'DiceLoss',
    options: { mode: 'multilabel', ignore_index: -1 },
    shape: [2, 3, 3, 3],
    layout: 'NHWC',
    target: (r) => (r() < 0.2 ? -1 : r() < 0.5 ? 1 : 0),
  },
  {
    lib: 'smp',
    api: 'JaccardLoss',
    options: { mode: 'binary', log_loss: true },
    shape: [2, 1, 3, 3],
    target: 'binary',
  },
  {
    lib: 'smp',
    api: 'TverskyLoss',
    options: { mode: 'multiclass', alpha: 0.7, beta: 0.3, gamma: 2, classes: [0, 2] },
    shape: NCHW,
    targetShape: [2, 3, 3],
    target: 'labels',
  },
  {
    lib: 'smp',
    api: 'soft_dice_score',
    options: { dims: [0, 2, 3] },
    shape: NCHW,
    pred: 'binary',
    target: 'soft',
    compare: 'scores',
  },
  {
    lib: 'smp',
    api: 'soft_jaccard_score',
    options: {},
    shape: NCHW,
    target: 'soft',
    pred: 'binary',
    compare: 'scores',
  },
  {
    lib: 'smp',
    api: 'soft_tversky_score',
    options: { alpha: 0.3, beta: 0.7, dims: [1] },
    shape: NCHW,
    target: 'soft',
    pred: 'binary',
    compare: 'scores',
  },
  // Keras (channels-last; axis: the axes summed)
  { lib: 'keras', api: 'Dice', options: { axis: [1, 2] }, shape: NHWC, target: 'binary' },
  { lib: 'keras', api: 'Dice', options: { axis: [1, 2], reduction: 'none' }, shape: NHWC, target: 'binary' },
  { lib: 'keras', api: 'Dice', options: {}, shape: NHWC, target: 'binary' },
  { lib: 'keras', api: 'Dice', options: { axis: [0] }, shape: NHWC, target: 'binary' },
  { lib: 'keras', api: 'Dice', options: { axis: [0, 3] }, shape: NHWC, target: 'binary' },
  { lib: 'keras', api: 'Tversky', options: { axis: [1, 2, 3], alpha: 0.3, beta: 0.7 }, shape: NHWC, target: 'soft' },
  // qubvel segmentation_models (channels-last unless the layout puts C at axis 1)
  { lib: 'qsm', api: 'DiceLoss', options: { class_weights: [0.5, 1.5] }, shape: NHWC, target: 'binary' },
  {
    lib: 'qsm',
    api: 'JaccardLoss',
    options: { per_image: true, class_indexes: [1, 1] },
    shape: NHWC,
    target: 'binary',
  },
  {
    lib: 'qsm',
    api: 'FScore',
    options: { threshold: 0.5, beta: 2 },
    shape: NHWC,
    target: 'binary',
    compare: 'one-minus',
  },
  { lib: 'qsm', api: 'DiceLoss', options: {}, shape: NCHW, layout: 'NCHW', target: 'binary' },
  // nnU-Net v2
  {
    lib: 'nnunet',
    api: 'SoftDiceLoss',
    options: { apply_nonlin: 'softmax_helper_dim1', batch_dice: true, do_bg: false },
    shape: NCHW,
    targetShape: LABELS_B1HW,
    target: 'labels',
  },
  {
    lib: 'nnunet',
    api: 'MemoryEfficientSoftDiceLoss',
    options: { apply_nonlin: 'torch.sigmoid' },
    shape: NCHW,
    targetShape: LABELS_B1HW,
    target: 'labels',
    maskShape: LABELS_B1HW,
  },
  {
    lib: 'nnunet',
    api: 'DC_and_CE_loss',
    options: { ignore_label: 255 },
    shape: NCHW,
    targetShape: LABELS_B1HW,
    target: (r) => (r() < 0.2 ? 255 : Math.floor(r() * 3)),
    ignore: 255,
  },
  {
    lib: 'nnunet',
    api: 'DC_and_CE_loss',
    options: { ce_kwargs: { reduction: 'none' } },
    shape: NCHW,
    targetShape: LABELS_B1HW,
    target: 'labels',
  },
];

const gpu = useTestEngine();

const count = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const flat = (v: PresetValue): number[] => (Array.isArray(v) ? v.flatMap((e) => flat(e as PresetValue)) : [v]);

function classCount(c: Case): number {
  return c.layout && c.layout.indexOf('C') !== 1
    ? c.shape[c.shape.length - 1]
    : c.lib === 'keras' || c.lib === 'qsm'
      ? c.shape[c.shape.length - 1]
      : c.shape[1];
}

function inputs(c: Case, seed: number) {
  const random = mulberry32(seed);
  const C = classCount(c);
  const pred = Float32Array.from({ length: count(c.shape) }, () =>
    c.pred === 'binary' ? (random() < 0.5 ? 1 : 0) : random() * 4 - 2,
  );
  const targetShape = c.targetShape ?? c.shape;
  const value =
    typeof c.target === 'function'
      ? c.target
      : c.target === 'labels'
        ? (r: () => number) => Math.floor(r() * C)
        : c.target === 'binary'
          ? (r: () => number) => (r() < 0.5 ? 1 : 0)
          : (r: () => number) => r();
  const target = Array.from({ length: count(targetShape) }, () => value(random));
  const mask = c.maskShape
    ? Float32Array.from({ length: count(c.maskShape) }, () => (random() < 0.3 ? 0 : 1))
    : undefined;
  return { pred, target, targetShape, mask };
}

describe('preset create() computes what evaluate() computes', () => {
  cases.forEach((c, index) => {
    it(`${c.lib}.${c.api} ${JSON.stringify(c.options)}${c.layout ? ` ${c.layout}` : ''}`, async () => {
      const { pred, target, targetShape, mask } = inputs(c, 700 + index);
      const make = (gpu.engine.presets as unknown as Record<string, Record<string, (o: object) => Preset>>)[c.lib][
        c.api
      ];
      const evaluated = await withValidation(gpu.device, () =>
        make(c.options).evaluate(pred, target, {
          inputShape: c.shape,
          targetShape,
          ...(c.layout ? { layout: c.layout } : {}),
          ...(mask ? { mask, maskShape: c.maskShape } : {}),
        }),
      );
      const loss = (await make(c.options).create(c.shape, {
        ...(c.targetShape ? { targetShape: c.targetShape } : {}),
        ...(c.maskShape ? { maskShape: c.maskShape } : {}),
        ...(c.layout ? { layout: c.layout } : {}),
      })) as FamilyLoss;
      try {
        const labelMap = loss.options.target !== undefined && loss.options.target !== 'dense';
        const gpuTarget = labelMap ? labels(tensor(targetShape, target), c.ignore ?? null) : Float32Array.from(target);
        const result = await withValidation(gpu.device, () => loss.compute(pred, gpuTarget, mask ? { mask } : {}));
        const values = flat(evaluated);
        const what = `${c.lib}.${c.api}`;
        if (c.compare === 'scores') {
          expect(result.groups.score.length).toBe(values.length);
          expectClose(result.groups.score, values, TOL, `${what}: create()'s scores against evaluate()`);
        } else {
          const expected = values.reduce((a, v) => a + v, 0);
          expectClose(
            [result.loss],
            [c.compare === 'one-minus' ? 1 - expected : expected],
            TOL,
            `${what}: create() against evaluate()`,
          );
        }
      } finally {
        loss.destroy();
      }
    });
  });

  it('create().compute() takes the nested arrays evaluate() takes (flattened row-major, checked)', async () => {
    const c = cases[0]; // monai DiceLoss, softmax, label map [2, 1, 3, 3]
    const { pred, target, targetShape } = inputs(c, 700);
    const nest = (data: ArrayLike<number>, shape: number[]) => toNested(tensor(shape, Float64Array.from(data)));
    const loss = (await gpu.engine.presets.monai.DiceLoss(c.options).create(c.shape, { targetShape })) as FamilyLoss;
    try {
      const typed = await loss.compute(pred, labels(tensor(targetShape, target)), { grad: true });
      const nested = await withValidation(gpu.device, () =>
        loss.compute(nest(pred, c.shape) as never, nest(target, targetShape) as never, { grad: true }),
      );
      expect(nested.loss).toBe(typed.loss);
      expect(nested.grad).toEqual(typed.grad);
      const expectCode = async (call: () => Promise<unknown>, code: string, message: RegExp) => {
        const error = await call().then(
          () => undefined,
          (e: unknown) => e as { code?: string; message: string },
        );
        expect(error?.code, error?.message).toBe(code);
        expect(error?.message).toMatch(message);
      };
      const labelMap = nest(target, targetShape) as number[][][][];
      const ragged = structuredClone(nest(pred, c.shape)) as number[][][][];
      ragged[1][2][0] = [1, 2];
      await expectCode(
        () => loss.compute(ragged as never, labelMap as never),
        'SHAPE_MISMATCH',
        /pred\[1\]\[2\]\[0\].*ragged/,
      );
      await expectCode(() => loss.compute([1, 2, 3] as never, labelMap as never), 'SHAPE_MISMATCH', /needs 54/);
      const fractional = structuredClone(labelMap);
      fractional[1][0][2][1] = 0.5;
      await expectCode(
        () => loss.compute(pred, fractional as never),
        'LABEL_OUT_OF_RANGE',
        /target\[1\]\[0\]\[2\]\[1\] is 0.5/,
      );
      const text = structuredClone(nest(pred, c.shape)) as unknown[][][][];
      text[0][0][0][0] = '1';
      await expectCode(
        () => loss.compute(text as never, labelMap as never),
        'INVALID_INPUT',
        /pred\[0\]\[0\]\[0\]\[0\] is "1"/,
      );
    } finally {
      loss.destroy();
    }
  });
});
