/**
 * Float64 reference of the benchmark's loss-family cases, with an ANALYTIC gradient (the
 * library's familyReferenceGradient is a central difference: far too slow at benchmark sizes).
 * Covers exactly what the cases use: per-class Dice per sample (groups (b, c), sample-major),
 * reduction 'mean', smoothing 1e-5 on numerator and denominator, a softmax or sigmoid on the
 * logits, a dense f32 target or a label map, channels-last or channels-first.
 *
 *   p = softmax(z) over classes, or sigmoid(z)
 *   per (b, c): I = sum p g, P = sum p, G = sum g over the voxels
 *   dice = (2I + s) / (P + G + s),  L = mean over (b, c) of (1 - dice)
 *   dL/dp = -(2 g den - num) / den^2 / (B C)
 *   softmax: dL/dz_c = p_c (dL/dp_c - sum_k p_k dL/dp_k);  sigmoid: dL/dz = dL/dp p (1 - p)
 */
import type { ReferenceResult } from './cases.js';

export interface FamilyBenchOptions {
  /** Shape of pred in its layout: [B, ...spatial, C] or [B, C, ...spatial]. */
  shape: readonly number[];
  layout: 'channels-last' | 'channels-first';
  activation: 'softmax' | 'sigmoid';
  /** Dense f32 targets of pred's shape, or a label map [B, ...spatial]. */
  target: 'dense' | 'labels';
}

const SMOOTH = 1e-5;

export function familyBenchReference(
  pred: ArrayLike<number>,
  target: ArrayLike<number>,
  options: FamilyBenchOptions,
): ReferenceResult {
  const { shape, layout, activation } = options;
  const channelsFirst = layout === 'channels-first';
  const labels = options.target === 'labels';
  const B = shape[0];
  const C = channelsFirst ? shape[1] : shape[shape.length - 1];
  const S = (channelsFirst ? shape.slice(2) : shape.slice(1, -1)).reduce((a, b) => a * b, 1);
  // Element (b, s, c) is at base(b, s) + c * stride in either layout.
  const stride = channelsFirst ? S : 1;
  const base = (b: number, s: number) => (channelsFirst ? b * C * S + s : (b * S + s) * C);

  const p = new Float64Array(B * C * S); // activated pred, in pred's layout
  const I = new Float64Array(B * C),
    P = new Float64Array(B * C),
    G = new Float64Array(B * C);
  for (let b = 0; b < B; b++) {
    for (let s = 0; s < S; s++) {
      const o = base(b, s);
      if (activation === 'softmax') {
        let top = -Infinity;
        for (let c = 0; c < C; c++) top = Math.max(top, pred[o + c * stride]);
        let sum = 0;
        for (let c = 0; c < C; c++) sum += p[o + c * stride] = Math.exp(pred[o + c * stride] - top);
        for (let c = 0; c < C; c++) p[o + c * stride] /= sum;
      } else {
        for (let c = 0; c < C; c++) p[o + c * stride] = 1 / (1 + Math.exp(-pred[o + c * stride]));
      }
      const label = labels ? target[b * S + s] : -1;
      for (let c = 0; c < C; c++) {
        const pc = p[o + c * stride];
        const g = labels ? (label === c ? 1 : 0) : target[o + c * stride];
        I[b * C + c] += pc * g;
        P[b * C + c] += pc;
        G[b * C + c] += g;
      }
    }
  }

  // Per (b, c): dice, and dL/dp = a g + k with a = -2 / (den B C), k = num / (den^2 B C).
  const groups = B * C;
  const dice = new Float64Array(groups),
    a = new Float64Array(groups),
    k = new Float64Array(groups);
  let loss = 0;
  for (let g = 0; g < groups; g++) {
    const num = 2 * I[g] + SMOOTH;
    const den = P[g] + G[g] + SMOOTH;
    dice[g] = num / den;
    loss += (1 - dice[g]) / groups;
    a[g] = -2 / den / groups;
    k[g] = num / (den * den) / groups;
  }

  const grad = new Float64Array(B * C * S);
  const dp = new Float64Array(C);
  for (let b = 0; b < B; b++) {
    for (let s = 0; s < S; s++) {
      const o = base(b, s);
      const label = labels ? target[b * S + s] : -1;
      let dot = 0;
      for (let c = 0; c < C; c++) {
        const g = labels ? (label === c ? 1 : 0) : target[o + c * stride];
        dp[c] = a[b * C + c] * g + k[b * C + c];
        dot += p[o + c * stride] * dp[c];
      }
      for (let c = 0; c < C; c++) {
        const pc = p[o + c * stride];
        grad[o + c * stride] = activation === 'softmax' ? pc * (dp[c] - dot) : dp[c] * pc * (1 - pc);
      }
    }
  }
  return { loss, dice, grad };
}
