// Options are read once (issue 21: a shape getter that returned 6 while the options were checked
// and -6 afterwards reached the kernels as dims [2, -6, 3]). Every entry point snapshots its
// options (core/validate.ts snapshotOptions) and checks and uses only the copy: here each option
// object is built from getters that answer differently on every read (and count the reads), and
// what the entry point planned must be what it checked. No device: the presets run on a stand-in
// factory that records the engine options create() asks for.
import { describe, expect, it } from 'vitest';
import { snapshotOptions } from '../../src/core/validate.js';
import type { LossFactory } from '../../src/losses/factory.js';
import { createPresets } from '../../src/presets/index.js';
import { normalizeLossOptions, normalizeMetricOptions } from '../../src/spec/family.js';
import { normalizeDiceOptions } from '../../src/spec/seed.js';
import { normalizeWassersteinOptions } from '../../src/spec/wasserstein.js';

/**
 * `values` as an array whose element `index` is a getter: it returns `good` on the first read and
 * `bad` on every later one; `reads()` counts them.
 */
function shifting<T>(values: T[], index: number, good: T, bad: T) {
  let count = 0;
  const array = [...values];
  Object.defineProperty(array, index, { enumerable: true, get: () => (count++ === 0 ? good : bad) });
  return { array, reads: () => count };
}

/** An object whose `key` is a getter returning `good` first, then `bad`. */
function shiftingKey<T>(base: object, key: string, good: T, bad: T) {
  let count = 0;
  const object = { ...base };
  Object.defineProperty(object, key, { enumerable: true, get: () => (count++ === 0 ? good : bad) });
  return { object, reads: () => count };
}

describe('snapshotOptions', () => {
  it('copies plain objects, arrays (holes kept) and typed arrays, reading each entry once', () => {
    const shape = shifting([2, 0, 3], 1, 6, -6);
    const weights = new Float32Array([1, 2]);
    const sparse = [1, , 3];
    const given = { shape: shape.array, nested: { weights, sparse }, label: 'x', fn: Math.max };
    const copy = snapshotOptions(given);
    expect(copy.shape).toEqual([2, 6, 3]);
    expect(copy.shape).toEqual([2, 6, 3]); // the copy answers the same on every read
    expect(shape.reads()).toBe(1);
    expect(copy.nested.weights).not.toBe(weights);
    expect(Array.from(copy.nested.weights)).toEqual([1, 2]);
    expect(1 in copy.nested.sparse).toBe(false);
    expect(copy.fn).toBe(Math.max);
    weights[0] = 9;
    expect(copy.nested.weights[0]).toBe(1); // later edits by the caller do not reach the copy
  });

  it('keeps an own "__proto__" key a key, and cycles a cycle', () => {
    const parsed = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;
    const copy = snapshotOptions(parsed);
    expect(Object.keys(copy)).toEqual(['__proto__', 'a']);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const c = snapshotOptions(cyclic);
    expect(c.self).toBe(c);
  });
});

describe('every entry point uses the options as first read', () => {
  it('engine.loss (normalizeLossOptions): shape, classes, weights, crossEntropy and focal', () => {
    const shape = shifting([2, 0, 3], 1, 6, -6);
    const classes = shifting([0, 0], 1, 2, 7);
    const weights = shifting([1, 1, 1], 2, 0.5, -1);
    const ce = shiftingKey({}, 'lambda', 2, -3);
    const focal = shiftingKey({}, 'gamma', 1, -1);
    const o = normalizeLossOptions({
      shape: shape.array,
      classes: classes.array,
      weights: weights.array,
      crossEntropy: ce.object,
      focal: focal.object,
      activation: 'softmax',
    });
    expect(o.dims).toEqual([2, 6, 3]);
    expect(o.included).toEqual([true, false, true]);
    expect(o.groupWeights[2] * 2 * 2).toBeCloseTo(0.5); // mean over the 2 x 2 included groups
    expect(o.crossEntropy?.lambda).toBe(2);
    expect(o.focal?.gamma).toBe(1);
    for (const reads of [shape.reads, classes.reads, weights.reads, ce.reads, focal.reads]) expect(reads()).toBe(1);
  });

  it('engine.loss: a top-level getter is read once too', () => {
    const given = shiftingKey({ shape: [2, 4, 3] }, 'layout', 'channels-first', 'channels-last');
    expect(normalizeLossOptions(given.object).channelsFirst).toBe(true);
    expect(given.reads()).toBe(1);
  });

  it('engine.metric, engine.dice (epsilon, weights) and engine.wassersteinDice (distanceMatrix)', () => {
    const metricShape = shifting([2, 0, 3], 1, 5, -5);
    expect(normalizeMetricOptions({ shape: metricShape.array }).dims).toEqual([2, 5, 3]);
    expect(metricShape.reads()).toBe(1);

    const diceShape = shifting([2, 0, 2], 1, 4, -4);
    const epsilon = shiftingKey({ numerator: 0 }, 'denominator', 1e-3, -1);
    const diceWeights = shifting([1, 0], 1, 2, -2);
    const d = normalizeDiceOptions({
      shape: diceShape.array,
      epsilon: epsilon.object,
      reduce: 'per-class',
      weights: diceWeights.array,
    });
    expect(d.shape.dims).toEqual([2, 4, 2]);
    expect(d.smoothDenominator).toBe(1e-3);
    expect(Array.from(d.weights!)).toEqual([1, 2]);
    for (const reads of [diceShape.reads, epsilon.reads, diceWeights.reads]) expect(reads()).toBe(1);

    const row = shifting([0, 0], 1, 1, Number.NaN);
    const w = normalizeWassersteinOptions({ shape: [1, 4, 2], distanceMatrix: [row.array, [1, 0]] });
    expect(Array.from(w.distances)).toEqual([0, 1, 1, 0]);
    expect(row.reads()).toBe(1);
  });

  it("presets: the options, create()'s shape and its extras", async () => {
    const planned: unknown[] = [];
    const presets = createPresets({
      loss: async (options: unknown) => planned.push(options),
      metric: async (options: unknown) => planned.push(options),
      wassersteinDice: async (options: unknown) => planned.push(options),
    } as unknown as LossFactory);
    const weight = shifting([1, 1], 1, 2, -2);
    const shape = shifting([2, 3, 4, 4], 2, 5, -5);
    const targetShape = shifting([2, 1, 4, 4], 2, 5, -5);
    await presets.monai
      .DiceLoss({ softmax: true, to_onehot_y: true, weight: [1, ...weight.array] })
      .create(shape.array, { targetShape: targetShape.array });
    const options = planned[0] as { shape: number[]; weights: number[] };
    expect(options.shape).toEqual([2, 3, 5, 4]);
    expect(options.weights).toEqual([1, 1, 2]);
    for (const reads of [weight.reads, shape.reads, targetShape.reads]) expect(reads()).toBe(1);
  });
});
