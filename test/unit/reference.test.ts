// The float64 reference is the judge of every GPU test, so it is checked on its own: analytic
// gradients against central finite differences, and the values against hand-worked sums.
import { describe, expect, it } from 'vitest';
import { diceReference, type DiceReferenceOptions } from '../../src/reference/index.js';
import { mulberry32 } from '../../src/reference/random.js';
import { expectClose } from '../helpers/close.js';

function finiteDifference(
  pred: Float64Array,
  target: Float64Array,
  options: DiceReferenceOptions,
  h = 1e-6,
): Float64Array {
  const grad = new Float64Array(pred.length);
  for (let i = 0; i < pred.length; i++) {
    const saved = pred[i];
    pred[i] = saved + h;
    const up = diceReference(pred, target, options).loss;
    pred[i] = saved - h;
    const down = diceReference(pred, target, options).loss;
    pred[i] = saved;
    grad[i] = (up - down) / (2 * h);
  }
  return grad;
}

const cases: [string, DiceReferenceOptions][] = [
  ['global', { shape: [2, 3, 2, 3], reduce: 'global' }],
  ['per-class weighted', { shape: [2, 2, 3, 4], reduce: 'per-class', weights: [0.1, 2, 0.5, 1] }],
  ['per-class mean', { shape: [3, 5, 2], reduce: 'per-class' }],
  ['separate smoothing', { shape: [1, 4, 4, 2], reduce: 'per-class', epsilon: { numerator: 0, denominator: 0.5 } }],
];

describe('float64 reference', () => {
  it.each(cases)('%s: analytic gradient matches central differences', (_name, options) => {
    const random = mulberry32(17);
    const n = options.shape.reduce((a, b) => a * b, 1);
    const pred = Float64Array.from({ length: n }, () => random());
    const target = Float64Array.from({ length: n }, () => (random() < 0.4 ? 1 : random() * 0.3));
    const analytic = diceReference(pred, target, options).grad;
    // Central differences of a smooth rational function with h = 1e-6: truncation ~1e-12,
    // rounding ~1e-10 relative to the loss, so 1e-7 absolute is a strict but safe bound.
    expectClose(analytic, finiteDifference(pred, target, options), { atol: 1e-7, rtol: 1e-6 }, 'grad');
  });

  it('matches hand-worked sums on a 1x1x2x2 case', () => {
    // pixel 0: p = (0.8, 0.2), t = (1, 0); pixel 1: p = (0.4, 0.6), t = (0, 1)
    const pred = [0.8, 0.2, 0.4, 0.6];
    const target = [1, 0, 0, 1];
    const e = 1e-6;
    const global = diceReference(pred, target, { shape: [1, 1, 2, 2], reduce: 'global' });
    // I = 0.8 + 0.6, P = 2, G = 2
    expect(global.loss).toBeCloseTo(1 - (2.8 + e) / (4 + e), 14);
    const perClass = diceReference(pred, target, { shape: [1, 1, 2, 2], reduce: 'per-class' });
    // class 0: I = 0.8, P = 1.2, G = 1; class 1: I = 0.6, P = 0.8, G = 1
    expect(perClass.dice[0]).toBeCloseTo((1.6 + e) / (2.2 + e), 14);
    expect(perClass.dice[1]).toBeCloseTo((1.2 + e) / (1.8 + e), 14);
  });
});
