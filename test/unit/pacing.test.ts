// compute()'s pacing (src/runtime/pacing.ts): how long the host sleeps through a run before
// awaiting it, learned from the loss's previous calls. Simulated runs: a run of D ms that the
// host awaits from time s on finishes at s + k (D - s) when s < D (the rest runs k times slower
// under dawn.node's poller: k = 2 on a software adapter sharing its cores, 1 on a GPU), else the
// await returns at once.
import { describe, expect, it } from 'vitest';
import { PACING_ENABLED, PACING_MIN_MS, RunPacing } from '../../src/runtime/pacing.js';

/** Runs `durations` one after another; per call, the time from submit to results. */
function simulate(durations: readonly number[], k: number, pacing = new RunPacing()): number[] {
  return durations.map((d) => {
    const slept = pacing.sleepMs;
    const awaited = slept < d ? k * (d - slept) : 0;
    pacing.record(slept, awaited);
    return slept + awaited;
  });
}

describe('RunPacing', () => {
  it('paces under Node (dawn.node polls while a promise is pending), where these tests run', () => {
    expect(PACING_ENABLED).toBe(true);
  });

  it('awaits at once until it has seen a run after the first (which may compile pipelines)', () => {
    const pacing = new RunPacing();
    expect(pacing.sleepMs).toBe(0);
    pacing.record(0, 1500);
    expect(pacing.sleepMs).toBe(0);
    pacing.record(0, 400);
    expect(pacing.sleepMs).toBeGreaterThan(0);
  });

  it('short runs are awaited at once', () => {
    const pacing = new RunPacing();
    simulate([50, PACING_MIN_MS, PACING_MIN_MS / 2, 3, 1], 2, pacing);
    expect(pacing.sleepMs).toBe(0);
  });

  it('settles under the run on a software adapter: most of the poller slowdown is gone, never an overshoot', () => {
    const totals = simulate([1500, ...new Array<number>(12).fill(200)], 2);
    expect(totals[1]).toBe(400); // awaited at once: twice the run
    const settled = totals.slice(4);
    for (const t of settled) expect(t).toBeGreaterThanOrEqual(200);
    for (const t of settled) expect(t).toBeLessThanOrEqual(260);
  });

  it('on a GPU (no slowdown) it sleeps less than the run: the results come no later than awaited at once', () => {
    for (const t of simulate([30, ...new Array<number>(10).fill(100)], 1).slice(1)) expect(t).toBe(100);
  });

  it('a run shorter than expected costs an overshoot once, then the sleep shrinks', () => {
    const pacing = new RunPacing();
    simulate([1500, 400, 400, 400, 400], 2, pacing);
    const before = pacing.sleepMs;
    const [first, ...rest] = simulate([100, 100, 100, 100, 100], 2, pacing);
    expect(first).toBe(before); // overslept: the whole sleep
    expect(pacing.sleepMs).toBeLessThan(before);
    for (const t of rest.slice(2)) expect(t).toBeLessThanOrEqual(140);
  });

  it('ignores times that are not durations', () => {
    const pacing = new RunPacing();
    pacing.record(0, 1000);
    pacing.record(Number.NaN, 100);
    pacing.record(-1, 100);
    pacing.record(0, Infinity);
    expect(pacing.sleepMs).toBe(0);
  });
});
