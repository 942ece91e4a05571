// The vendored MONAI clDice cases (test/fixtures/cldice-public.jsonl.gz, see test/fixtures/README.md)
// and the tolerances they are judged with: value |a - e| <= 1e-6 + 1e-4|e|, gradient element
// |a - e| <= 1e-4 max|e| + 1e-7 (the tolerances the data set is published with).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { expect } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
const CASES_PATH = path.resolve(here, '../fixtures/cldice-public.jsonl.gz');

export interface ClDiceCase {
  id: string;
  api: 'SoftclDiceLoss' | 'SoftDiceclDiceLoss';
  options: { iter_: number; smooth: number; alpha?: number };
  /** y_pred, channels-first. */
  x: { shape: number[]; data: number[] };
  /** y_true (one-hot), channels-first. */
  y: { shape: number[]; data: number[] };
  expected: { value: number; grad: number[] };
}

export function loadClDiceCases(): ClDiceCase[] {
  const text = gunzipSync(readFileSync(CASES_PATH)).toString('utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as ClDiceCase);
}

export function expectValueClose(actual: number, expected: number, what: string): void {
  const limit = 1e-6 + 1e-4 * Math.abs(expected);
  expect(Math.abs(actual - expected) <= limit, `${what}: ${actual} vs ${expected} (limit ${limit})`).toBe(true);
}

export function expectGradClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length, `${what}: gradient length`).toBe(expected.length);
  let max = 0;
  for (let i = 0; i < expected.length; i++) max = Math.max(max, Math.abs(expected[i]));
  const limit = 1e-4 * max + 1e-7;
  let worst = 0;
  let worstAt = -1;
  for (let i = 0; i < expected.length; i++) {
    const error = Math.abs(actual[i] - expected[i]);
    if (!(error <= worst)) {
      worst = error;
      worstAt = i;
    }
  }
  expect(
    worst <= limit,
    `${what}: gradient element ${worstAt} is ${actual[worstAt]}, expected ${expected[worstAt]} (limit ${limit})`,
  ).toBe(true);
}

/** Moves C between axis 1 (channels-first) and the last axis, or back (`inverse`). */
export function moveChannels(data: ArrayLike<number>, B: number, C: number, S: number, inverse = false): Float64Array {
  const out = new Float64Array(data.length);
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      for (let s = 0; s < S; s++) {
        const first = (b * C + c) * S + s;
        const last = (b * S + s) * C + c;
        if (inverse) out[first] = data[last];
        else out[last] = data[first];
      }
    }
  }
  return out;
}
