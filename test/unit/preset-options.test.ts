// The presets' option and input checks that need no device (issue 21, round 2): values a peer
// library would misread are typed errors naming the option and the fix, and a misspelt option
// gets a "did you mean". The presets run on a stand-in factory that records what they would
// compile; every check here throws before that.
import { describe, expect, it } from 'vitest';
import { WgslDiceError, type WgslDiceErrorCode } from '../../src/core/errors.js';
import type { LossFactory } from '../../src/losses/factory.js';
import { createPresets } from '../../src/presets/index.js';

const planned: unknown[] = [];
const record = async (options: unknown) => planned.push(options);
const presets = createPresets({ loss: record, metric: record, wassersteinDice: record } as unknown as LossFactory);

async function rejection(call: () => unknown): Promise<WgslDiceError> {
  try {
    await call();
  } catch (error) {
    if (error instanceof WgslDiceError) return error;
    throw new Error(`expected a WgslDiceError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected a WgslDiceError, but the call returned');
}

async function expectError(call: () => unknown, code: WgslDiceErrorCode, message: RegExp) {
  const error = await rejection(call);
  expect(error.code, error.message).toBe(code);
  expect(error.message).toMatch(message);
}

const x = [[[0.2, 0.7, 0.1, 0.9]]]; // [1, 1, 4]
const y = [[[0, 1, 0, 1]]];

describe('preset options: did you mean', () => {
  it.each([
    ['monai DiceLoss', () => presets.monai.DiceLoss({ softmx: true }), /'softmx'\. Did you mean 'softmax'\?/],
    ['monai DiceLoss', () => presets.monai.DiceLoss({ include_backround: false }), /Did you mean 'include_background'/],
    ['smp DiceLoss', () => presets.smp.DiceLoss({ mode: 'binary', from_logit: true }), /Did you mean 'from_logits'/],
    ['keras Dice', () => presets.keras.Dice({ axes: [1, 2] }), /Did you mean 'axis'/],
    ['qsm DiceLoss', () => presets.qsm.DiceLoss({ class_weight: [1] }), /Did you mean 'class_weights'/],
    ['nnU-Net SoftDiceLoss', () => presets.nnunet.SoftDiceLoss({ batchdice: true }), /Did you mean 'batch_dice'/],
    [
      'nnU-Net ce_kwargs',
      () => presets.nnunet.DC_and_CE_loss({ ce_kwargs: { ignore_idx: 3 } }),
      /ce_kwargs: unknown option 'ignore_idx'\. Did you mean 'ignore_index'/,
    ],
  ])('%s: a misspelt option names the one meant', async (_, make, message) => {
    await expectError(make, 'UNKNOWN_OPTION', message);
  });
});

describe('preset options: bad values are typed errors naming the option', () => {
  it('a NaN, infinite or non-numeric entry of a distance matrix', async () => {
    const gwdl = presets.monai.GeneralizedWassersteinDiceLoss;
    await expectError(
      () =>
        gwdl({
          dist_matrix: [
            [0, Number.NaN],
            [1, 0],
          ],
        }),
      'INVALID_OPTION',
      /'dist_matrix'.*dist_matrix\[0\]\[1\] is NaN/,
    );
    await expectError(
      () =>
        gwdl({
          dist_matrix: [
            [0, Infinity],
            [1, 0],
          ],
        }),
      'INVALID_OPTION',
      /dist_matrix\[0\]\[1\] is Infinity/,
    );
    await expectError(
      () =>
        gwdl({
          dist_matrix: [
            ['0', '1'],
            ['1', '0'],
          ],
        }),
      'INVALID_OPTION',
      /dist_matrix\[0\]\[0\] is "0"/,
    );
  });

  it('nested lists of strings, and lists nested too deep', async () => {
    await expectError(
      () => presets.monai.DiceLoss({ weight: [['1'], ['2']] }),
      'INVALID_OPTION',
      /weight\[0\]\[0\] is "1"/,
    );
    await expectError(() => presets.monai.DiceLoss({ weight: [[[1]]] }), 'INVALID_OPTION', /nested too deep/);
    await expectError(
      () => presets.monai.DiceLoss({ weight: [1, Number.NaN] }),
      'INVALID_OPTION',
      /weight\[1\] is NaN/,
    );
  });

  it.each([
    ['FocalLoss', 5],
    ['FocalLoss', -1],
    ['DiceFocalLoss', 1.5],
    ['DiceFocalLoss', [0.5, -0.1]],
  ] as const)('monai %s alpha %j: outside [0, 1]', async (api, alpha) => {
    await expectError(
      () => presets.monai[api]({ alpha } as never),
      'INVALID_OPTION',
      /alpha(\[1\])? must be in \[0, 1\]/,
    );
  });

  it('a layout with too few or too many axes, or without C where the API reads channels', async () => {
    const dice = presets.monai.DiceLoss({});
    await expectError(
      () => dice.evaluate(x, y, { layout: 'NHW' }),
      'INVALID_OPTION',
      /"NHW" has 3 axes but the input has 3|names no channel axis C/,
    );
    const rank4 = [[[[0.5, 0.5]]]];
    await expectError(
      () => dice.evaluate(rank4, rank4, { layout: 'NHW' }),
      'INVALID_OPTION',
      /"NHW" has 3 axes but the input has 4/,
    );
    await expectError(() => dice.create([2, 3, 4, 4], { layout: 'NHW' }), 'INVALID_OPTION', /"NHW" has 3 axes/);
    await expectError(() => dice.evaluate(x, y, { layout: 'NLW' }), 'INVALID_OPTION', /names no channel axis C/);
    // Keras and smp's functional scores know no channel axis: only the rank is checked.
    await expectError(
      () => presets.keras.Dice().evaluate(rank4, rank4, { layout: 'NHW' }),
      'INVALID_OPTION',
      /has 3 axes/,
    );
    // qsm reads C last or at axis 1, nowhere else.
    await expectError(
      () => presets.qsm.DiceLoss().evaluate(rank4, rank4, { layout: 'NHCW' }),
      'INVALID_OPTION',
      /channels at axis 2/,
    );
  });

  it('nested input arrays holding strings or objects (they were read as numbers)', async () => {
    await expectError(
      () => presets.monai.DiceLoss({}).evaluate([[['0.5', 1]]] as never, [[[1, 0]]]),
      'INVALID_INPUT',
      /pred\[0\]\[0\]\[0\] is "0.5"/,
    );
    await expectError(
      () => presets.keras.Dice().evaluate([[0.5, 1]], [[1, {}]] as never),
      'INVALID_INPUT',
      /y_true\[0\]\[1\] is an object/,
    );
  });
});

describe('preset create(): shapes a torch preset plans in the layout of the data', () => {
  it("a channels-last layout plans the engine's channels-last layout, with the same channel count", async () => {
    planned.length = 0;
    await presets.monai.DiceLoss({ softmax: true, to_onehot_y: true }).create([2, 5, 6, 3], {
      layout: 'NHWC',
      targetShape: [2, 5, 6, 1],
    });
    expect(planned[0]).toMatchObject({ shape: [2, 5, 6, 3], layout: 'channels-last', target: 'u32' });
    planned.length = 0;
    await presets.smp.DiceLoss({ mode: 'multilabel' }).create([2, 5, 6, 3], { layout: 'NHWC' });
    expect(planned[0]).toMatchObject({ shape: [2, 30, 3], layout: 'channels-last' });
  });

  it('C neither at axis 1 nor last is NOT_SUPPORTED, naming evaluate()', async () => {
    await expectError(
      () => presets.nnunet.SoftDiceLoss({}).create([2, 5, 3, 6], { layout: 'NHCW' }),
      'NOT_SUPPORTED',
      /axis 1.*or last.*evaluate\(\)/,
    );
  });

  it('keras axes that the GPU cannot group where the data lies: NOT_SUPPORTED naming the way out', async () => {
    await expectError(
      () => presets.keras.Dice({ axis: [0, 2] }).create([2, 3, 4, 5]),
      'NOT_SUPPORTED',
      /keeps axes \[1,3\].*evaluate\(\)/,
    );
  });

  it('qsm class_weights whose mean is not 1: NOT_SUPPORTED (the GPU value would be off by a constant)', async () => {
    await expectError(
      () => presets.qsm.DiceLoss({ class_weights: [0.2, 0.3] }).create([1, 4, 4, 2]),
      'NOT_SUPPORTED',
      /constant -0\.75.*sum to 2/,
    );
    planned.length = 0;
    await presets.qsm.DiceLoss({ class_weights: [0.5, 1.5] }).create([1, 4, 4, 2]);
    expect(planned[0]).toMatchObject({ weights: [0.25, 0.75], reduction: 'sum' });
  });
});
