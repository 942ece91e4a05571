// The 150 MONAI 1.5.0 surface cases (test/fixtures/surface-public.jsonl.gz; provenance in
// test/fixtures/README.md) and the tolerances they are published with:
//   metrics  |a - e| <= 1e-5 * max(1, |e|), NaN and +-Infinity equal exactly;
//   losses   value |a - e| <= 1e-6 + 1e-4 |e|, gradient element |a - e| <= 1e-4 max|e| + 1e-7.
// GPU-free, so the unit tier (the float64 reference) and the GPU tier share it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { expect } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));

export type SurfaceApi =
  | 'compute_hausdorff_distance'
  | 'compute_average_surface_distance'
  | 'compute_surface_dice'
  | 'HausdorffDTLoss'
  | 'LogHausdorffDTLoss';

export interface SurfaceCase {
  id: string;
  api: SurfaceApi;
  options: Record<string, unknown>;
  note: string;
  x: { shape: number[]; data: number[] };
  y: { shape: number[]; data: number[] };
  expected: {
    value?: number;
    grad?: number[];
    valueShape?: number[] | null;
    valueData?: (number | string)[] | null;
  };
}

export function loadSurfaceCases(): SurfaceCase[] {
  const text = gunzipSync(readFileSync(path.resolve(here, '../fixtures/surface-public.jsonl.gz'))).toString('utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as SurfaceCase);
}

export const fromJson = (v: number | string): number =>
  v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : (v as number);

export function expectMetricClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const ok = Number.isFinite(e)
      ? Math.abs(a - e) <= 1e-5 * Math.max(1, Math.abs(e))
      : Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e));
    expect(ok, `${what}: element ${i} is ${a}, MONAI ${e}`).toBe(true);
  }
}

export interface LossOutcome {
  value: number;
  grad: ArrayLike<number>;
  valueShape: number[] | null;
  valueData: ArrayLike<number> | null;
}

export function expectLossClose(actual: LossOutcome, c: SurfaceCase): void {
  const e = c.expected;
  expect(actual.valueShape).toEqual(e.valueShape ?? null);
  const limit = 1e-6 + 1e-4 * Math.abs(e.value!);
  expect(Math.abs(actual.value - e.value!) <= limit, `value ${actual.value}, MONAI ${e.value} (limit ${limit})`).toBe(
    true,
  );
  if (e.valueData) {
    const values = actual.valueData!;
    e.valueData.forEach((v, i) =>
      expect(Math.abs(values[i] - fromJson(v)) <= 1e-6 + 1e-4 * Math.abs(fromJson(v)), `value element ${i}`).toBe(true),
    );
  }
  const grad = e.grad!;
  expect(actual.grad.length).toBe(grad.length);
  const max = grad.reduce((m, g) => Math.max(m, Math.abs(g)), 0);
  const gradLimit = 1e-4 * max + 1e-7;
  let worst = 0;
  let worstAt = -1;
  for (let i = 0; i < grad.length; i++) {
    const err = Math.abs(actual.grad[i] - grad[i]);
    if (!(err <= worst)) {
      worst = err;
      worstAt = i;
    }
  }
  expect(
    worst <= gradLimit,
    `gradient element ${worstAt}: ${actual.grad[worstAt]}, MONAI ${grad[worstAt]} (limit ${gradLimit})`,
  ).toBe(true);
}
