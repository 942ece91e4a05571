// Option normalisation without a device: the defaults every loss starts from, and each bad
// option rejected with its stable WgslDiceError code (the GPU tier checks the same through the
// engine's entry points).
import { describe, expect, it } from 'vitest';
import { WgslDiceError, type WgslDiceErrorCode } from '../../src/core/errors.js';
import { normalizeClDiceOptions } from '../../src/spec/cldice.js';
import { normalizeLossOptions } from '../../src/spec/family.js';
import { DEFAULT_EPSILON, groupWeights, normalizeDiceOptions } from '../../src/spec/seed.js';
import { normalizeWassersteinOptions } from '../../src/spec/wasserstein.js';

/** The code of the WgslDiceError `call` throws; fails if it returns or throws anything else. */
function errorCode(call: () => unknown): WgslDiceErrorCode {
  try {
    call();
  } catch (error) {
    if (error instanceof WgslDiceError) return error.code;
    throw new Error(`expected a WgslDiceError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected a WgslDiceError, but the call returned');
}

describe('normalizeDiceOptions', () => {
  it('fills the seed defaults', () => {
    const o = normalizeDiceOptions({ shape: [2, 4, 4, 3] });
    expect(o.shape).toEqual({ batch: 2, spatial: 16, classes: 3, elements: 96, dims: [2, 4, 4, 3] });
    expect(o.reduce).toBe('global');
    expect(o.weights).toBeUndefined();
    expect([o.smoothNumerator, o.smoothDenominator]).toEqual([DEFAULT_EPSILON, DEFAULT_EPSILON]);
    expect(o.predType).toBe('f32');
    expect(o.label).toBe('wgsl-dice');
  });

  it('takes one epsilon for both terms, or each separately', () => {
    const one = normalizeDiceOptions({ shape: [1, 2], epsilon: 0.5 });
    expect([one.smoothNumerator, one.smoothDenominator]).toEqual([0.5, 0.5]);
    const two = normalizeDiceOptions({ shape: [1, 2], epsilon: { numerator: 0, denominator: 2 } });
    expect([two.smoothNumerator, two.smoothDenominator]).toEqual([0, 2]);
  });

  it('gives each group its share of the loss: 1/B, w_c/B or 1/(B*C)', () => {
    expect(Array.from(groupWeights(normalizeDiceOptions({ shape: [4, 3, 2] })))).toEqual([0.25]);
    const weighted = normalizeDiceOptions({ shape: [4, 3, 2], reduce: 'per-class', weights: [1, 3] });
    expect(Array.from(groupWeights(weighted))).toEqual([0.25, 0.75]);
    expect(Array.from(groupWeights(normalizeDiceOptions({ shape: [4, 3, 2], reduce: 'per-class' })))).toEqual([
      0.125, 0.125,
    ]);
  });

  it.each<[string, unknown, WgslDiceErrorCode]>([
    ['no options', undefined, 'INVALID_OPTION'],
    ['a misspelt option', { shape: [1, 2], reduction: 'global' }, 'UNKNOWN_OPTION'],
    ['no shape', {}, 'INVALID_SHAPE'],
    ['a rank-1 shape', { shape: [64] }, 'INVALID_SHAPE'],
    ['a zero dimension', { shape: [2, 0, 3] }, 'INVALID_SHAPE'],
    ['a fractional dimension', { shape: [2, 1.5, 3] }, 'INVALID_SHAPE'],
    ['more than 2^32 - 1 elements', { shape: [2 ** 16, 2 ** 16, 2] }, 'INVALID_SHAPE'],
    ['an unknown reduce', { shape: [1, 2], reduce: 'mean' }, 'INVALID_OPTION'],
    ['a negative epsilon', { shape: [1, 2], epsilon: -1 }, 'INVALID_OPTION'],
    ['a NaN epsilon', { shape: [1, 2], epsilon: NaN }, 'INVALID_OPTION'],
    ['an epsilon field misspelt', { shape: [1, 2], epsilon: { numerator: 1, denom: 1 } }, 'UNKNOWN_OPTION'],
    ['an unknown predType', { shape: [1, 2], predType: 'f64' }, 'INVALID_OPTION'],
    ['weights with global Dice', { shape: [1, 2], weights: [1, 1] }, 'INVALID_WEIGHTS'],
    ['weights of the wrong length', { shape: [1, 2], reduce: 'per-class', weights: [1] }, 'INVALID_WEIGHTS'],
    ['a negative weight', { shape: [1, 2], reduce: 'per-class', weights: [1, -1] }, 'INVALID_WEIGHTS'],
    ['an infinite weight', { shape: [1, 2], reduce: 'per-class', weights: [1, Infinity] }, 'INVALID_WEIGHTS'],
  ])('rejects %s', (_, options, code) => {
    expect(errorCode(() => normalizeDiceOptions(options))).toBe(code);
  });

  it('suggests the option that was probably meant', () => {
    expect(() => normalizeDiceOptions({ shape: [1, 2], weigths: [1, 1] })).toThrow(/Did you mean "weights"\?/);
  });
});

describe('normalizeLossOptions', () => {
  it('fills the defaults: channels-last probabilities, dense target, per-class mean Dice', () => {
    const o = normalizeLossOptions({ shape: [2, 8, 8, 4] });
    expect([o.batch, o.spatial, o.classes, o.elements, o.channelsFirst]).toEqual([2, 64, 4, 512, false]);
    expect([o.activation, o.target, o.mask, o.value, o.reduction]).toEqual([
      'none',
      'dense',
      'none',
      'one-minus',
      'mean',
    ]);
    expect(o.ignoreIndex).toBeUndefined();
    expect([o.poolBatch, o.poolClasses, o.squared, o.softLabel, o.emptyZero, o.inverseFrequency]).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(o.included).toEqual([true, true, true, true]);
    expect(o.score).toEqual({ numTp: 2, denTp: 2, denFp: 1, denFn: 1 });
    expect([o.smoothNumerator, o.smoothDenominator, o.denominatorMin, o.logEps]).toEqual([1e-5, 1e-5, -Infinity, 1e-7]);
    expect([o.gamma, o.lambdaDice]).toEqual([1, 1]);
    expect(Array.from(o.groupWeights)).toEqual([1 / 8, 1 / 8, 1 / 8, 1 / 8]);
    expect(o.crossEntropy).toBeUndefined();
    expect(o.focal).toBeUndefined();
  });

  it('reads channels-first shapes as [B, C, ...spatial]', () => {
    const o = normalizeLossOptions({ shape: [2, 3, 5, 7], layout: 'channels-first' });
    expect([o.batch, o.classes, o.spatial, o.channelsFirst]).toEqual([2, 3, 35, true]);
  });

  it('maps formulas onto score coefficients', () => {
    const score = (options: object) => normalizeLossOptions({ shape: [1, 2], ...options }).score;
    expect(score({ formula: 'jaccard' })).toEqual({ numTp: 1, denTp: 1, denFp: 1, denFn: 1 });
    expect(score({ formula: 'tversky', alpha: 0.3, beta: 0.7 })).toEqual({
      numTp: 1,
      denTp: 1,
      denFp: 0.3,
      denFn: 0.7,
    });
    expect(score({ formula: 'f-beta', fBeta: 2 })).toEqual({ numTp: 5, denTp: 5, denFp: 1, denFn: 4 });
  });

  it('reads the peer-parity modes: dense ignore as f32 bits, absolute soft label, tpMin, CE form and divisor', () => {
    const dense = normalizeLossOptions({ shape: [2, 4, 4], ignoreIndex: -1, softLabel: 'absolute', tpMin: 1e-8 });
    expect(dense.ignoreIndex).toBe(new Uint32Array(Float32Array.of(-1).buffer)[0]);
    expect([dense.softLabel, dense.softAbs, dense.tpMin]).toEqual([true, true, 1e-8]);
    // torch's CE divisors: true-class weights (0) for labels, voxels for probabilities, elements for binary, 1 for 'sum'.
    const ce = (options: object) => normalizeLossOptions({ shape: [2, 4, 4], ...options }).crossEntropy;
    expect(ce({ activation: 'softmax', target: 'u8', crossEntropy: {} })).toMatchObject({
      form: 'softmax',
      divisor: 0,
    });
    expect(ce({ activation: 'softmax', crossEntropy: {} })).toMatchObject({ form: 'softmax', divisor: 8 });
    expect(ce({ activation: 'tanh', crossEntropy: { form: 'binary' } })).toMatchObject({ form: 'binary', divisor: 32 });
    expect(ce({ activation: 'sigmoid', crossEntropy: { reduction: 'sum' } })).toMatchObject({
      form: 'binary',
      divisor: 1,
    });
    // MONAI's MaskedDiceLoss masks the input whatever the activation.
    expect(normalizeLossOptions({ shape: [2, 4, 4], mask: 'logits' }).mask).toBe('logits');
  });

  it("reads target 'label-map' (wgsl-dice/tfjs's name) as 'u32', for engine.loss and engine.wassersteinDice", () => {
    expect(normalizeLossOptions({ shape: [2, 4, 3], target: 'label-map', ignoreIndex: 2 ** 32 - 1 }).target).toBe(
      'u32',
    );
    const distanceMatrix = [
      [0, 1],
      [1, 0],
    ];
    expect(normalizeWassersteinOptions({ shape: [2, 4, 2], target: 'label-map', distanceMatrix }).target).toBe('u32');
  });

  it('leaves excluded classes out of the group weights', () => {
    const o = normalizeLossOptions({ shape: [2, 4], classes: [1, 3] });
    expect(o.included).toEqual([false, true, false, true]);
    expect(Array.from(o.groupWeights)).toEqual([0, 1 / 4, 0, 1 / 4]);
  });

  it.each<[string, object, WgslDiceErrorCode]>([
    ['a misspelt option', { activaton: 'softmax' }, 'UNKNOWN_OPTION'],
    ['an unknown activation', { activation: 'relu' }, 'INVALID_OPTION'],
    ['an unknown layout', { layout: 'nhwc' }, 'INVALID_OPTION'],
    ['a non-finite ignoreIndex with a dense target', { ignoreIndex: NaN }, 'INVALID_OPTION'],
    ['ignoreIndex beyond u8', { target: 'u8', ignoreIndex: 256 }, 'INVALID_OPTION'],
    ['a class index out of range', { classes: [4] }, 'INVALID_OPTION'],
    ['weights of the wrong length', { weights: [1, 1] }, 'INVALID_WEIGHTS'],
    ['class weights with pooled classes', { groups: 'global', weights: [1, 1, 1, 1] }, 'INVALID_WEIGHTS'],
    ['squared with softLabel', { squared: true, softLabel: true }, 'INVALID_OPTION'],
    ['crossEntropy without a form or a logit activation', { crossEntropy: {} }, 'INVALID_OPTION'],
    ['an unknown crossEntropy form', { activation: 'tanh', crossEntropy: { form: 'focal' } }, 'INVALID_OPTION'],
    [
      'posWeight with the softmax form',
      { activation: 'sigmoid', crossEntropy: { form: 'softmax', posWeight: 2 } },
      'INVALID_OPTION',
    ],
    ['a non-finite tpMin', { tpMin: Infinity }, 'INVALID_OPTION'],
    ['posWeight with softmax', { activation: 'softmax', crossEntropy: { posWeight: 2 } }, 'INVALID_OPTION'],
    ['labelSmoothing with sigmoid', { activation: 'sigmoid', crossEntropy: { labelSmoothing: 0.1 } }, 'INVALID_OPTION'],
    ['labelSmoothing above 1', { activation: 'softmax', crossEntropy: { labelSmoothing: 1.5 } }, 'INVALID_OPTION'],
    ['gamma 0', { gamma: 0 }, 'INVALID_OPTION'],
    ['a non-boolean batch', { batch: 'yes' }, 'INVALID_OPTION'],
    [
      'a scalar softmax focal alpha without background',
      { includeBackground: false, focal: { useSoftmax: true, alpha: 0.25 } },
      'INVALID_OPTION',
    ],
    ['a focal alpha above 1', { focal: { alpha: 5 } }, 'INVALID_OPTION'],
    ['a negative focal alpha', { focal: { alpha: -1 } }, 'INVALID_OPTION'],
    ['a per-class focal alpha outside [0, 1]', { focal: { alpha: [0.5, 0.5, 1.5, 0.5] } }, 'INVALID_OPTION'],
    ['a score with a missing coefficient', { score: { numTp: 2, denTp: 2, denFp: 1 } }, 'INVALID_OPTION'],
    ['a NaN score coefficient', { score: { numTp: NaN, denTp: 2, denFp: 1, denFn: 1 } }, 'INVALID_OPTION'],
  ])('rejects %s', (_, options, code) => {
    expect(errorCode(() => normalizeLossOptions({ shape: [2, 4, 4], ...options }))).toBe(code);
  });

  it.each<[string, unknown, WgslDiceErrorCode]>([
    ['no options', null, 'INVALID_OPTION'],
    ['a shape of one entry', { shape: [4] }, 'INVALID_SHAPE'],
    ['includeBackground: false with one class', { shape: [2, 1], includeBackground: false }, 'INVALID_OPTION'],
  ])('rejects %s', (_, options, code) => {
    expect(errorCode(() => normalizeLossOptions(options))).toBe(code);
  });
});

describe('normalizeClDiceOptions (issue 21 findings)', () => {
  const base = { formula: 'cl-dice', shape: [1, 8, 8, 2] } as const;

  it('fills the defaults: MONAI iter_ 3, alpha 1, smooth 1', () => {
    const o = normalizeClDiceOptions(base);
    expect([o.skeletonIterations, o.alpha, o.smooth, o.rank, o.channelsFirst]).toEqual([3, 1, 1, 2, false]);
  });

  it('skeletonIterations: null is an error naming the default, not the default', () => {
    expect(() => normalizeClDiceOptions({ ...base, skeletonIterations: null as never })).toThrow(
      /skeletonIterations must be an integer in \[0, 64\].*omit it for 3\), got null/,
    );
    expect(normalizeClDiceOptions({ ...base, skeletonIterations: undefined }).skeletonIterations).toBe(3);
  });

  it.each([
    [1e-46, /below f32's smallest normal number/],
    [1e-39, /below f32's smallest normal number/],
    [1e39, /overflow f32/],
    [3e38, /overflow f32/],
    [0, /dividing 0 by 0/],
    [-1, /dividing 0 by 0/],
    [Number.NaN, /dividing 0 by 0/],
  ])('smooth %s is INVALID_OPTION with its reason', (smooth, reason) => {
    expect(errorCode(() => normalizeClDiceOptions({ ...base, smooth }))).toBe('INVALID_OPTION');
    expect(() => normalizeClDiceOptions({ ...base, smooth })).toThrow(reason);
  });

  it('smooth at the edges of f32 is taken as given', () => {
    expect(normalizeClDiceOptions({ ...base, smooth: 1.2e-38 }).smooth).toBe(1.2e-38);
    expect(normalizeClDiceOptions({ ...base, smooth: 8e37 }).smooth).toBe(8e37);
  });

  it('reads each option once (a getter cannot pass validation and change afterwards)', () => {
    let reads = 0;
    const options = {
      formula: 'cl-dice' as const,
      shape: [1, 8, 8, 2],
      get skeletonIterations() {
        return reads++ === 0 ? 2 : -2;
      },
    };
    expect(normalizeClDiceOptions(options).skeletonIterations).toBe(2);
    expect(reads).toBe(1);
  });
});
