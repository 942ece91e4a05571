// Every case of ../shared/peers/vectors-public.json through the GPU preset named by its `api`
// (engine.presets.<library>.<Api>(options).evaluate(input, target, extras)), on a real WebGPU
// device. Tolerance policy copied from test/reference-peers.test.ts: |a − e| ≤ atol + rtol·|e| with
// rtol 1e-4 and atol the source test's own absolute tolerance when it states one (else 1e-12; the
// f32 GPU then has to be within 1e-4 relative). Cases whose preset is not implemented FAIL.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiceEngine } from '../src/index.js';
import type { Preset, PresetValue } from '../src/presets/index.js';
import type { Nested } from '../src/reference/peers/index.js';
import { getTestDevice } from './helpers/gpu.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const VECTORS = path.resolve(here, '../../shared/peers/vectors-public.json');

interface VectorCase {
  id: string;
  library: string;
  api: string;
  options?: Record<string, unknown> | null;
  layout?: string | null;
  input_shape?: number[] | null;
  input: Nested;
  target_shape?: number[] | null;
  target: Nested;
  target_dtype?: string | null;
  mask_shape?: number[] | null;
  mask?: Nested | null;
  post?: string | null;
  source_tolerance: string;
  expected: Nested;
  expected_isnan?: Nested;
}

const cases = JSON.parse(readFileSync(VECTORS, 'utf8')) as VectorCase[];

interface Tolerance {
  rtol: number;
  atol: number;
}

function toleranceOf(source: string): Tolerance {
  const tol: Tolerance = { rtol: 1e-4, atol: 1e-12 };
  const num = String.raw`([0-9.]+(?:e-?[0-9]+)?)`;
  const atol = new RegExp(String.raw`\b(?:atol|abs)\s*=\s*` + num).exec(source);
  if (atol) tol.atol = Math.max(tol.atol, Number(atol[1]));
  const places = /places\s*=\s*(\d+)/.exec(source);
  if (places) tol.atol = Math.max(tol.atol, 0.5 * 10 ** -Number(places[1]));
  return tol;
}

function shapeOf(x: unknown): number[] {
  const s: number[] = [];
  let v = x;
  while (Array.isArray(v)) {
    s.push(v.length);
    v = v[0];
  }
  return s;
}

function flat(x: unknown): number[] {
  if (Array.isArray(x)) return x.flatMap(flat);
  if (typeof x === 'boolean') return [x ? 1 : 0];
  return [x as number];
}

function expectClose(actual: PresetValue, expected: Nested, tol: Tolerance): void {
  const a = flat(actual);
  const e = flat(expected);
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

/** The source test's post-processing of the returned tensor ("mean()" / "sum()"), on the host. */
function applyPost(value: PresetValue, post: string | null | undefined): PresetValue {
  if (!post) return value;
  const v = flat(value);
  const p = post.replace(/\s+/g, '');
  if (p === 'mean()') return v.reduce((s, x) => s + x, 0) / v.length;
  if (p === 'sum()') return v.reduce((s, x) => s + x, 0);
  throw new Error(`unsupported post-processing '${post}'`);
}

// api "monai.losses.DiceLoss" → engine.presets.monai.DiceLoss
const LIBRARY_OF_PREFIX: [string, string][] = [
  ['monai.', 'monai'],
  ['segmentation_models_pytorch.', 'smp'],
  ['segmentation_models.', 'qsm'],
  ['keras.', 'keras'],
  ['nnunetv2.', 'nnunet'],
];

function presetFor(engine: DiceEngine, api: string): (options: Record<string, unknown>) => Preset {
  const lib = LIBRARY_OF_PREFIX.find(([p]) => api.startsWith(p))?.[1];
  const name = api.split('.').pop() as string;
  const table = lib ? (engine.presets as unknown as Record<string, Record<string, unknown>>)[lib] : undefined;
  const fn = table?.[name];
  if (typeof fn !== 'function') throw new Error(`no GPU preset engine.presets.${lib}.${name} for api '${api}'`);
  return fn as (options: Record<string, unknown>) => Preset;
}

let engine: DiceEngine;

beforeAll(async () => {
  engine = await DiceEngine.create(await getTestDevice());
});
afterAll(() => engine?.destroy());

describe('GPU presets against the peer vectors (vectors-public.json)', () => {
  it('holds the 92 public cases', () => {
    expect(cases.length).toBe(92);
  });

  for (const library of [...new Set(cases.map((c) => c.library))]) {
    describe(library, () => {
      for (const c of cases.filter((x) => x.library === library)) {
        it(c.id, async () => {
          const preset = presetFor(engine, c.api)(c.options ?? {});
          const raw = await preset.evaluate(c.input, c.target, {
            mask: c.mask ?? null,
            layout: c.layout ?? null,
            inputShape: c.input_shape ?? null,
            targetShape: c.target_shape ?? null,
            maskShape: c.mask_shape ?? null,
            targetDtype: c.target_dtype ?? null,
          });
          const actual = applyPost(raw, c.post);
          if (c.expected_isnan !== undefined && c.expected_isnan !== null) {
            expect(shapeOf(actual)).toEqual(shapeOf(c.expected_isnan));
            const nanPattern = flat(c.expected_isnan).map(Boolean);
            expect(flat(actual).map((v) => Number.isNaN(v))).toEqual(nanPattern);
            const e = flat(c.expected);
            const tol = toleranceOf(c.source_tolerance);
            flat(actual).forEach((v, i) => {
              if (!nanPattern[i] && e[i] !== undefined && e[i] !== null && !Number.isNaN(e[i])) {
                expect(Math.abs(v - e[i])).toBeLessThanOrEqual(tol.atol + tol.rtol * Math.abs(e[i]));
              }
            });
            return;
          }
          expectClose(actual, c.expected, toleranceOf(c.source_tolerance));
        });
      }
    });
  }
});
