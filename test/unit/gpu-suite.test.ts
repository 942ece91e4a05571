// The prepared GPU run's plan (bench/gpu-suite.ts): what `node dist/bench.js --gpu-suite` runs on
// a lent GPU machine, checked without one. The run itself is checked on lavapipe by hand with
// `--gpu-suite --quick` (bench/RESULTS.md, "The prepared GPU run").
import { describe, expect, it } from 'vitest';
import { elementsOf, LOSS_CASES } from '../../bench/cases.js';
import { gpuSuiteEntries } from '../../bench/gpu-suite.js';

const key = (e: { lossCase: { name: string }; shape: readonly number[] }) => `${e.lossCase.name} ${e.shape.join('x')}`;

describe('the GPU suite', () => {
  const entries = gpuSuiteEntries(false);

  it('runs every bench case, each case and shape once', () => {
    expect(new Set(entries.map((e) => e.lossCase.name))).toEqual(new Set(LOSS_CASES.map((c) => c.name)));
    expect(new Set(entries.map(key)).size).toBe(entries.length);
  });

  it("runs the issue's GPU targets, up to 8x1024x1024x16 (134M elements)", () => {
    const names = entries.map(key);
    for (const target of [
      'seed-global 8x1024x1024x16',
      'softmax-u8 8x1024x1024x16',
      'softmax-u8 2x512x512x8',
      'softmax-u8-3d 2x96x96x96x4',
    ]) {
      expect(names).toContain(target);
    }
    expect(Math.max(...entries.map((e) => elementsOf(e.shape)))).toBe(2 ** 27);
  });

  it('goes from the smallest shape to the largest, so each copy ceiling is measured once', () => {
    const sizes = entries.map((e) => elementsOf(e.benchShape));
    expect(sizes).toEqual([...sizes].sort((a, b) => a - b));
  });

  it('has a quick form: every case at a small shape, for a check on lavapipe', () => {
    const quick = gpuSuiteEntries(true);
    expect(quick.map((e) => e.lossCase.name).sort()).toEqual(LOSS_CASES.map((c) => c.name).sort());
    for (const e of quick) expect(elementsOf(e.shape)).toBeLessThanOrEqual(2 ** 18);
  });
});
