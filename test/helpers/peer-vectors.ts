// The peer test vectors (test/fixtures/vectors-public.json, provenance in test/fixtures/README.md) and how a result is judged
// against them, shared by the float64 reference test and the GPU preset test.
//
// Tolerance policy: |actual − expected| ≤ atol + rtol·|expected| with
//   rtol = 1e-4 always (every source rtol is ≤ 1e-4, and several sources print 4–5 digits only);
//   atol = the source's absolute tolerance when it states one — "atol=…" (numpy), "abs=…"
//          (pytest.approx), "places=N" (unittest: the difference rounded to N places is 0, i.e.
//          atol = 0.5·10^−N), keras' "atol=1e-6" — otherwise 1e-12, a float64 round-off floor so
//          that an exact-zero expectation (e.g. DiceLoss(x, x) with soft labels) is not failed by
//          1e-16 noise. Relative-only sources ("rtol=1e-5", "rel=1e-05") get only that floor.
// NaN expectations (`expected_isnan`) are compared as NaN patterns, element-wise, and the other
// elements of such a case within the tolerance.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { Nested, PeerCase, PeerValue } from '../../src/reference/peers/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const VECTORS_PATH = path.resolve(here, '../fixtures/vectors-public.json');

export interface VectorCase extends PeerCase {
  id: string;
  library: string;
  source_tolerance: string;
  expected: Nested;
  expected_isnan?: Nested | null;
}

export function loadVectors(): VectorCase[] {
  return JSON.parse(readFileSync(VECTORS_PATH, 'utf8')) as VectorCase[];
}

export interface Tolerance {
  rtol: number;
  atol: number;
}

export function toleranceOf(source: string): Tolerance {
  const tol: Tolerance = { rtol: 1e-4, atol: 1e-12 };
  const num = String.raw`([0-9.]+(?:e-?[0-9]+)?)`;
  const atol = new RegExp(String.raw`\b(?:atol|abs)\s*=\s*` + num).exec(source);
  if (atol) tol.atol = Math.max(tol.atol, Number(atol[1]));
  const places = /places\s*=\s*(\d+)/.exec(source);
  if (places) tol.atol = Math.max(tol.atol, 0.5 * 10 ** -Number(places[1]));
  return tol;
}

export function shapeOf(x: unknown): number[] {
  const s: number[] = [];
  let v = x;
  while (Array.isArray(v)) {
    s.push(v.length);
    v = v[0];
  }
  return s;
}

export function flat(x: unknown): number[] {
  if (Array.isArray(x)) return x.flatMap(flat);
  if (typeof x === 'boolean') return [x ? 1 : 0];
  return [x as number];
}

function expectClose(actual: PeerValue, expected: Nested, tol: Tolerance): void {
  const a = flat(actual);
  const e = flat(expected);
  // GeneralizedDiceScore(reduction="mean") returns a 0-d value that MONAI's test compares against a
  // 1-element list through numpy broadcasting; accept exactly that case, otherwise shapes must agree.
  const scalarVsSingleton = typeof actual === 'number' && e.length === 1;
  if (!scalarVsSingleton) expect(shapeOf(actual)).toEqual(shapeOf(expected));
  expect(a.length).toBe(e.length);
  a.forEach((x, i) => {
    const bound = tol.atol + tol.rtol * Math.abs(e[i]);
    if (!(Math.abs(x - e[i]) <= bound)) {
      throw new Error(`element ${i}: got ${x}, expected ${e[i]} (|diff| ${Math.abs(x - e[i])} > ${bound})`);
    }
  });
}

/** Fails unless `actual` is what case `c` expects, under the policy above. */
export function expectVectorResult(c: VectorCase, actual: PeerValue): void {
  const tol = toleranceOf(c.source_tolerance);
  if (c.expected_isnan !== undefined && c.expected_isnan !== null) {
    expect(shapeOf(actual)).toEqual(shapeOf(c.expected_isnan));
    const nanPattern = flat(c.expected_isnan).map(Boolean);
    expect(flat(actual).map((v) => Number.isNaN(v))).toEqual(nanPattern);
    const e = flat(c.expected);
    flat(actual).forEach((v, i) => {
      if (!nanPattern[i] && e[i] !== undefined && e[i] !== null && !Number.isNaN(e[i])) {
        expect(Math.abs(v - e[i])).toBeLessThanOrEqual(tol.atol + tol.rtol * Math.abs(e[i]));
      }
    });
    return;
  }
  expectClose(actual, c.expected, tol);
}
