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

/**
 * f16 inputs (predType 'f16'). The float64 reference is computed on the f16-rounded values, the
 * very numbers the GPU reads, so the input's rounding never enters: loss, sums and an f32
 * gradient keep the f32 tolerances above.
 *
 * An f16 gradient (gradType 'f16') is the f32 gradient g32 rounded once to the nearest f16:
 * 11 significant bits, so |g16 - g32| <= 2^-11 |g32| for normal values, and at most half the
 * subnormal spacing, 2^-25, below 2^-14. With |g32 - e| <= atol + rtol |e| (the f32 tolerance)
 * and so |g32| <= |e| + atol + rtol |e|:
 *   |g16 - e| <= (atol + rtol |e|)(1 + 2^-11) + 2^-11 |e| + 2^-25.
 */
export const F16_ROUNDING = 2 ** -11;

export function f16GradTolerance(f32: { atol: number; rtol: number }): { atol: number; rtol: number } {
  return {
    atol: f32.atol * (1 + F16_ROUNDING) + 2 ** -25,
    rtol: f32.rtol * (1 + F16_ROUNDING) + F16_ROUNDING,
  };
}

/**
 * Gradients against central differences of a float64 reference (h = 1e-6: the differences carry
 * ~1e-8 of truncation and rounding): rtol 1e-4 and atol 1e-4 * max|fd| + 1e-7.
 */
export function centralDifferenceTolerance(fd: ArrayLike<number>): { atol: number; rtol: number } {
  let max = 0;
  for (let i = 0; i < fd.length; i++) max = Math.max(max, Math.abs(fd[i]));
  return { atol: 1e-4 * max + 1e-7, rtol: 1e-4 };
}
