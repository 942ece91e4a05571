// The layout rule (src/spec/layout-hint.ts; docs/options.md, "The layout rule"): a
// shape is read channels-last unless `layout: 'channels-first'` is given, and wgsl-dice never
// guesses from the shape alone ([2, 3, 3, 3] and [2, 4, 64, 64] are valid channels-last shapes).
// Where the options show that the data is channels-first (an option sized by the class count
// matches shape[1], not the last axis) and no layout was given, the error says so and how to fix
// it (issue 21: an NCHW shape without layout silently computed another loss).
import { describe, expect, it } from 'vitest';
import { WgslDiceError } from '../../src/core/errors.js';
import { normalizeLossOptions } from '../../src/spec/family.js';
import { normalizeDiceOptions } from '../../src/spec/seed.js';
import { normalizeWassersteinOptions } from '../../src/spec/wasserstein.js';

function thrown(call: () => unknown): WgslDiceError {
  try {
    call();
  } catch (error) {
    if (error instanceof WgslDiceError) return error;
    throw error;
  }
  throw new Error('expected a WgslDiceError');
}

const NCHW = [2, 4, 16, 16];

describe('an NCHW shape without layout', () => {
  it.each([
    ['weights', { weights: [1, 2, 3, 4] }, 'INVALID_WEIGHTS'],
    ['crossEntropy.weights', { activation: 'softmax', crossEntropy: { weights: [1, 2, 3, 4] } }, 'INVALID_WEIGHTS'],
    ['focal.weights', { focal: { weights: [1, 1, 1, 1] } }, 'INVALID_WEIGHTS'],
    ['focal.alpha', { includeBackground: false, focal: { alpha: [0.2, 0.3, 0.5] } }, 'INVALID_WEIGHTS'],
  ] as const)('sized by %s: the error names layout: channels-first', (name, options, code) => {
    const error = thrown(() => normalizeLossOptions({ shape: NCHW, ...options }));
    expect(error.code).toBe(code);
    expect(error.message).toContain(`${name} has`);
    expect(error.message).toContain("pass layout: 'channels-first'");
    expect(error.message).toContain('C = 16 classes');
    // With the layout given, the same options are valid.
    expect(normalizeLossOptions({ shape: NCHW, layout: 'channels-first', ...options }).classes).toBe(4);
  });

  it('engine.wassersteinDice: a distance matrix of shape[1] classes', () => {
    const distanceMatrix = Array.from({ length: 4 }, (_, i) => Array.from({ length: 4 }, (_, j) => (i === j ? 0 : 1)));
    expect(thrown(() => normalizeWassersteinOptions({ shape: NCHW, distanceMatrix })).message).toContain(
      "pass layout: 'channels-first'",
    );
  });

  it('engine.dice (channels-last only) says to transpose or use engine.loss', () => {
    const error = thrown(() => normalizeDiceOptions({ shape: NCHW, reduce: 'per-class', weights: [1, 2, 3, 4] }));
    expect(error.code).toBe('INVALID_WEIGHTS');
    expect(error.message).toMatch(/channels-last data only.*transpose/);
  });

  it('never fires on channels-last shapes, whatever they look like', () => {
    for (const shape of [
      [2, 3, 3, 3],
      [2, 64, 64, 4],
      [1, 8, 8, 8],
      [2, 4, 64, 64],
    ]) {
      const C = shape[shape.length - 1];
      const weights = Array.from({ length: C }, () => 1);
      expect(normalizeLossOptions({ shape, weights }).classes).toBe(C);
      expect(normalizeLossOptions({ shape, focal: { weights } }).classes).toBe(C);
      expect(normalizeDiceOptions({ shape, reduce: 'per-class', weights }).shape.classes).toBe(C);
    }
  });
});
