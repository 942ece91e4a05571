// Every case of test/fixtures/vectors-public.json through the GPU preset named by its `api`
// (engine.presets.<library>.<Api>(options).evaluate(input, target, extras)), on a real WebGPU
// device, under the tolerance policy of test/helpers/peer-vectors.ts (rtol 1e-4, or the source
// test's own looser absolute tolerance). Cases whose preset is not implemented FAIL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiceEngine } from '../src/index.js';
import type { Preset, PresetValue } from '../src/presets/index.js';
import { getTestDevice } from './helpers/gpu.js';
import { expectVectorResult, flat, loadVectors } from './helpers/peer-vectors.js';

const cases = loadVectors();

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
          expectVectorResult(c, applyPost(raw, c.post));
        });
      }
    });
  }
});
