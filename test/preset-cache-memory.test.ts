// What the presets' evaluate() caches keep on the GPU between calls (issue 21: 13 MB after 4
// calls of ~1.6 MB inputs, and buffers left behind by evicted losses). A spy (helpers/buffer-spy.ts)
// counts every buffer the device creates and destroys: after evaluate() calls at distinct shapes
// no buffer of the input's size is alive, what a cached loss keeps is small, and a loss the cache
// evicts gives back every buffer it made. One preset, one set of pipelines, small shapes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRESET_CACHE_SIZE } from '../src/index.js';
import { spyOnBuffers, type BufferSpy } from './helpers/buffer-spy.js';
import { mulberry32, withValidation } from './helpers/gpu.js';
import { useTestEngine } from './helpers/test-engine.js';

const gpu = useTestEngine();
let spy: BufferSpy;
beforeAll(() => {
  spy = spyOnBuffers(gpu.device);
});
afterAll(() => spy?.restore());

/** [1, 2, side, side] logits (2 classes) and a [1, 1, side, side] label map, as nested arrays. */
function input(side: number, seed: number) {
  const random = mulberry32(seed);
  const plane = () => Array.from({ length: side }, () => Array.from({ length: side }, () => random() * 4 - 2));
  const labels = Array.from({ length: side }, () => Array.from({ length: side }, () => (random() < 0.5 ? 1 : 0)));
  return { x: [[plane(), plane()]], y: [[labels]], bytes: 2 * side * side * 4 };
}

/** The buffers alive now that were not alive at `before` (labels and sizes). */
function grownSince(before: Set<string>, live: { label: string; size: number }[]) {
  return live.filter((b, i) => !before.has(`${i}:${b.label}`));
}

describe('preset evaluate() caches and GPU memory', () => {
  it(`keep no input-sized buffer between calls, and an evicted loss frees every buffer (cache size ${PRESET_CACHE_SIZE})`, async () => {
    const dice = gpu.engine.presets.monai.DiceLoss({ softmax: true, to_onehot_y: true });
    await withValidation(gpu.device, async () => {
      const liveAtStart = spy.live();
      const sides = Array.from({ length: PRESET_CACHE_SIZE }, (_, k) => 48 + k);
      let smallest = Infinity;
      for (const [k, side] of sides.entries()) {
        const { x, y, bytes } = input(side, k);
        smallest = Math.min(smallest, bytes);
        expect(Number.isFinite(await dice.evaluate(x, y))).toBe(true);
      }
      await gpu.device.queue.onSubmittedWorkDone();
      const cached = spy.live();
      const kept = grownSince(new Set(liveAtStart.map((b, i) => `${i}:${b.label}`)), cached);
      // Each cached loss keeps its uniforms and group-sized scratch only: no upload, gradient or
      // readback of the input's size (those were 2 x the input per loss, and never freed).
      const big = kept.filter((b) => b.size >= smallest / 4);
      expect(big, `buffers of a quarter of an input or more still alive: ${JSON.stringify(big)}`).toEqual([]);
      const keptBytes = kept.reduce((n, b) => n + b.size, 0);
      expect(keptBytes).toBeLessThan((PRESET_CACHE_SIZE * smallest) / 4);

      // PRESET_CACHE_SIZE more shapes evict every loss above: the live buffers are those of as many
      // cached losses again, not one more (an evicted loss keeps nothing).
      for (const [k, side] of sides.entries()) {
        const { x, y } = input(side + PRESET_CACHE_SIZE, 100 + k);
        await dice.evaluate(x, y);
      }
      await gpu.device.queue.onSubmittedWorkDone();
      await new Promise((resolve) => setImmediate(resolve)); // destroyWhenIdle runs after the queued calls
      expect(spy.live().length).toBe(cached.length);
    });
  });
});
