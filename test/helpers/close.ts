// The tolerance check every numeric test uses, GPU-free so the unit tier (test/unit) can use it.

/**
 * Fails unless every `|actual[i] - expected[i]| <= atol + rtol * |expected[i]|`. NaN never
 * passes; equal infinities do. The message names the worst element and its bound.
 */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: { atol: number; rtol: number },
  what: string,
): void {
  if (actual.length !== expected.length) {
    throw new Error(`${what}: length ${actual.length}, expected ${expected.length}`);
  }
  let failures = 0;
  let worst = -1;
  let worstExcess = -Infinity;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const bound = tol.atol + tol.rtol * Math.abs(e);
    if (a === e || Math.abs(a - e) <= bound) continue;
    failures++;
    // NaN (in either) counts as infinitely far off.
    const excess = Number.isNaN(a - e) ? Infinity : Math.abs(a - e) - bound;
    if (excess > worstExcess) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (failures === 0) return;
  const a = actual[worst];
  const e = expected[worst];
  throw new Error(
    `${what}: ${failures} of ${actual.length} elements out of tolerance ` +
      `(atol ${tol.atol}, rtol ${tol.rtol}); worst at [${worst}]: actual ${a}, expected ${e}, ` +
      `|diff| ${Math.abs(a - e)} > bound ${tol.atol + tol.rtol * Math.abs(e)}`,
  );
}
