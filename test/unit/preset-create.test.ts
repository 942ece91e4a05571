// Preset create() plans a loss from the shape alone: it used to build a float64 host tensor of the
// full shape just to read its dimensions (+269 MB for [2, 4, 512, 512, 16]). Planning is pure, so
// here a stand-in engine records the options create() would compile, and no GPU is needed.
import { describe, expect, it } from 'vitest';
import type { LossFactory } from '../../src/losses/factory.js';
import type { LossOptions } from '../../src/spec/family.js';
import { createPresets } from '../../src/presets/index.js';

/** Returns the options instead of compiling them. */
const planOnly = async (options: unknown) => options;
const presets = createPresets({
  loss: planOnly,
  metric: planOnly,
  wassersteinDice: planOnly,
} as unknown as LossFactory);

// 2^42 elements: no host tensor of this shape can exist (a Float64Array holds at most 2^32 or so
// elements), so a create() that builds one throws a RangeError instead of planning.
const B = 2;
const C = 4;
const SIDE = 2 ** 20;
const SHAPE = [B, C, SIDE, SIDE];
const LABEL_MAP = [B, 1, SIDE, SIDE];

type Case = [
  string,
  () => { create(shape: readonly number[], extras?: object): Promise<unknown> },
  object | undefined,
  Partial<LossOptions>,
];

const cases: Case[] = [
  [
    'monai DiceLoss (to_onehot_y)',
    () => presets.monai.DiceLoss({ softmax: true, to_onehot_y: true }),
    { targetShape: LABEL_MAP },
    { shape: SHAPE, target: 'u32' },
  ],
  [
    'monai DiceLoss (dense target)',
    () => presets.monai.DiceLoss({ sigmoid: true }),
    undefined,
    { shape: SHAPE, target: 'dense' },
  ],
  [
    'monai MaskedDiceLoss',
    () => presets.monai.MaskedDiceLoss({ sigmoid: true }),
    { maskShape: [B, 1, SIDE, SIDE] },
    { shape: SHAPE, mask: 'logits' },
  ],
  [
    'monai DiceCELoss',
    () => presets.monai.DiceCELoss({ softmax: true, to_onehot_y: true }),
    { targetShape: LABEL_MAP },
    { shape: SHAPE, target: 'u32' },
  ],
  [
    'monai GeneralizedDiceFocalLoss',
    () => presets.monai.GeneralizedDiceFocalLoss({ sigmoid: true }),
    undefined,
    { shape: SHAPE, formula: 'generalized-dice' },
  ],
  [
    'smp DiceLoss (multiclass)',
    () => presets.smp.DiceLoss({ mode: 'multiclass' }),
    { targetShape: [B, SIDE, SIDE] },
    { shape: [B, C, SIDE * SIDE], target: 'u32' },
  ],
  [
    'smp TverskyLoss (multilabel)',
    () => presets.smp.TverskyLoss({ mode: 'multilabel' }),
    undefined,
    { shape: [B, C, SIDE * SIDE], target: 'dense' },
  ],
  [
    'nnU-Net SoftDiceLoss',
    () => presets.nnunet.SoftDiceLoss({ apply_nonlin: 'softmax(dim=1)' }),
    undefined,
    { shape: SHAPE, target: 'u32' },
  ],
  [
    'nnU-Net SoftDiceLoss with a mask',
    () => presets.nnunet.SoftDiceLoss({}),
    { maskShape: [B, 1, SIDE, SIDE] },
    { shape: SHAPE, mask: 'weight' },
  ],
  ['nnU-Net DC_and_CE_loss', () => presets.nnunet.DC_and_CE_loss({}), undefined, { shape: SHAPE, target: 'u32' }],
];

describe('preset create() plans from the shape alone', () => {
  it.each(cases)('%s', async (_, make, extras, expected) => {
    const options = (await make().create(SHAPE, extras)) as LossOptions;
    expect(options).toMatchObject(expected);
  });

  it('the shape of the issue, [2, 4, 512, 512, 16], allocates nothing of its size', async () => {
    const before = process.memoryUsage().arrayBuffers;
    const options = (await presets.monai
      .DiceLoss({ softmax: true })
      .create([2, 4, 512, 512, 16])) as unknown as LossOptions;
    // A float64 tensor of this shape is 268 MB; the planned options are a few hundred bytes.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 2 ** 20);
    expect(options.shape).toEqual([2, 4, 512, 512, 16]);
  });
});
