// Every case of test/fixtures/vectors-public.json through the GPU preset named by its `api`
// (engine.presets.<library>.<Api>(options).evaluate(input, target, extras)), on a real WebGPU
// device, under the tolerance policy of test/helpers/peer-judge.ts (rtol 1e-4, or the source
// test's own looser absolute tolerance). Cases whose preset is not implemented FAIL.
import { describe, expect, it } from 'vitest';
import type { PresetValue } from '../src/presets/index.js';
import { useTestEngine } from './helpers/test-engine.js';
import { expectVectorResult, loadVectors, runVectorCase } from './helpers/peer-vectors.js';

const cases = loadVectors();

const gpu = useTestEngine();

describe('GPU presets against the peer vectors (vectors-public.json)', () => {
  it('holds the 92 public cases', () => {
    expect(cases.length).toBe(92);
  });

  for (const library of [...new Set(cases.map((c) => c.library))]) {
    describe(library, () => {
      for (const c of cases.filter((x) => x.library === library)) {
        it(c.id, async () => {
          expectVectorResult(c, (await runVectorCase(gpu.engine.presets, c as never)) as PresetValue);
        });
      }
    });
  }
});
