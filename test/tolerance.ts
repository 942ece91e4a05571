/**
 * The tolerance policy for f32 GPU results against the float64 reference, one place for every
 * test: a result passes when |a - e| <= atol + rtol * |e|.
 *
 * - rtol 1e-5 everywhere: f32 has 24 bits (6e-8). A reduction lane adds at most 2^16 terms in
 *   sequence (src/program/grids.ts MAX_SEQUENTIAL_ADDS; tens to thousands in the tested shapes) before
 *   pairwise trees and a compensated finalize take over; the terms are non-negative, so the
 *   relative error stays far below 1e-5 at every size the tests use.
 * - Sums and Dice values are sums of non-negative terms (well conditioned): atol 1e-6.
 * - The loss is 1 - dice (cancels when dice is near 1): atol 1e-6 absolute.
 * - A gradient element is a_g * t_i + b_g, a difference of two terms each bounded by the
 *   largest gradient magnitude, so it gets atol = 1e-5 * max|expected gradient|.
 */
export const RTOL = 1e-5;
export const SUM_TOL = { atol: 1e-6, rtol: RTOL };
export const LOSS_TOL = { atol: 1e-6, rtol: RTOL };

export function gradTolerance(expected: ArrayLike<number>): { atol: number; rtol: number } {
  let max = 0;
  for (let i = 0; i < expected.length; i++) max = Math.max(max, Math.abs(expected[i]));
  return { atol: 1e-5 * max, rtol: RTOL };
}
