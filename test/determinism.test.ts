// The kernels sum in a fixed order (no atomics, fixed trees), so the same input must give
// bitwise the same loss, per-group stats and gradient: run after run, on two engines with the
// same configuration, and when interleaved with other losses in one command encoder or
// spread over several submits.
import { describe, expect, it } from 'vitest';
import { DiceEngine, type DiceLoss, type DiceLossOptions } from '../src/index.js';
import { diceReference } from '../src/reference/index.js';
import { createBufferFrom, expectClose, mulberry32, readBuffer, withValidation } from './helpers/gpu.js';
import { useTestEngine } from './helpers/test-engine.js';
import { gradTolerance, LOSS_TOL, SUM_TOL } from './tolerance.js';

const RUNS = 100;
const STORAGE_IO = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

const gpuA = useTestEngine();
const gpuB = useTestEngine();

/** Everything a run produces, as raw bits, so that -0 vs 0 or a NaN payload would count. */
interface Bits {
  loss: Uint32Array;
  stats: Uint32Array;
  grad: Uint32Array;
}

const CASES: { name: string; options: DiceLossOptions; soft: boolean; vecWidth: 1 | 4 }[] = [
  {
    name: 'per-class weighted, vec4 path',
    options: { shape: [2, 64, 64, 4], reduce: 'per-class', weights: [0.1, 1, 2, 0.5] },
    soft: false,
    vecWidth: 4,
  },
  {
    name: 'per-class mean, scalar path',
    options: { shape: [2, 33, 17, 5], reduce: 'per-class' },
    soft: true,
    vecWidth: 1,
  },
  {
    name: 'global, several chunks per sample',
    options: { shape: [1, 256, 256, 3], reduce: 'global', epsilon: { numerator: 0, denominator: 1e-5 } },
    soft: false,
    vecWidth: 4,
  },
  { name: 'global, odd sizes', options: { shape: [3, 101, 7], reduce: 'global' }, soft: true, vecWidth: 1 },
];

function makeData(options: DiceLossOptions, soft: boolean, seed: number) {
  const random = mulberry32(seed);
  const n = options.shape.reduce((a, b) => a * b, 1);
  const pred = Float32Array.from({ length: n }, () => random());
  const target = Float32Array.from({ length: n }, () => (soft ? random() : random() < 0.3 ? 1 : 0));
  return { pred, target };
}

function bitsOf(result: {
  loss: number;
  perClass: { dice: Float32Array; intersection: Float32Array; predSum: Float32Array; targetSum: Float32Array };
  grad?: Float32Array;
}): Bits {
  const { dice, intersection, predSum, targetSum } = result.perClass;
  const stats = new Float32Array(dice.length * 4);
  dice.forEach((d, g) => stats.set([d, intersection[g], predSum[g], targetSum[g]], g * 4));
  return {
    loss: new Uint32Array(new Float32Array([result.loss]).buffer),
    stats: new Uint32Array(stats.buffer),
    grad: new Uint32Array(result.grad!.buffer.slice(0)),
  };
}

function expectSameBits(got: Bits, want: Bits, what: string) {
  for (const key of ['loss', 'stats', 'grad'] as const) {
    const a = got[key];
    const b = want[key];
    expect(a.length, `${what}: ${key} length`).toBe(b.length);
    const first = a.findIndex((v, i) => v !== b[i]);
    if (first >= 0) {
      const f = (u: number) => new Float32Array(new Uint32Array([u]).buffer)[0];
      throw new Error(`${what}: ${key}[${first}] is ${f(a[first])}, first run gave ${f(b[first])} (not bitwise equal)`);
    }
  }
}

/** Caller-side buffers for one encoded run: outputs land in their own slot. */
function outputSlot(loss: DiceLoss) {
  return {
    loss: gpuA.device.createBuffer({ label: 'slot loss', size: 16, usage: STORAGE_IO() }),
    stats: gpuA.device.createBuffer({ label: 'slot stats', size: loss.groupCount * 16, usage: STORAGE_IO() }),
    grad: gpuA.device.createBuffer({ label: 'slot grad', size: loss.elementCount * 4, usage: STORAGE_IO() }),
  };
}

async function readSlot(slot: ReturnType<typeof outputSlot>): Promise<Bits> {
  return {
    loss: new Uint32Array(await readBuffer(gpuA.device, slot.loss, 4)),
    stats: new Uint32Array(await readBuffer(gpuA.device, slot.stats)),
    grad: new Uint32Array(await readBuffer(gpuA.device, slot.grad)),
  };
}

describe.each(CASES)('$name', ({ options, soft, vecWidth }) => {
  const { pred, target } = makeData(options, soft, 7 + options.shape.length * 31 + options.shape[1]);

  it(`${RUNS} runs on two engines give bitwise the same loss, stats and gradient`, async () => {
    await withValidation(gpuA.device, async () => {
      const lossA = await gpuA.engine.dice(options);
      const lossB = await gpuB.engine.dice(options);
      try {
        expect(lossB.plan).toEqual(lossA.plan);
        expect([lossA.plan.reduce.vecWidth, lossA.plan.backward.vecWidth]).toEqual([vecWidth, vecWidth]);
        const first = await lossA.compute(pred, target, { grad: true });
        // Sanity: the repeated value is also the right one.
        const want = diceReference(pred, target, options);
        expectClose([first.loss], [want.loss], LOSS_TOL, 'loss');
        expectClose(first.perClass.intersection, want.intersection, SUM_TOL, 'intersection');
        expectClose(first.grad!, want.grad, gradTolerance(want.grad), 'grad');
        const reference = bitsOf(first);
        for (let run = 1; run < RUNS; run++) {
          const on = run % 2 === 0 ? lossA : lossB;
          expectSameBits(
            bitsOf(await on.compute(pred, target, { grad: true })),
            reference,
            `run ${run} on engine ${run % 2 === 0 ? 'A' : 'B'}`,
          );
        }
      } finally {
        lossA.destroy();
        lossB.destroy();
      }
    });
  });

  it('interleaved with other losses in one encoder and across submits: bitwise the same', async () => {
    await withValidation(gpuA.device, async () => {
      const lossA = await gpuA.engine.dice(options);
      const lossB = await gpuB.engine.dice(options);
      // Other losses on the same engines: other shapes, other options, other data.
      const otherOptions: DiceLossOptions[] = [
        { shape: [2, 40, 40, 3], reduce: 'per-class', weights: [1, 2, 3] },
        { shape: [1, 999, 2], reduce: 'global', epsilon: 1e-3 },
      ];
      const others = [await gpuA.engine.dice(otherOptions[0]), await gpuB.engine.dice(otherOptions[1])];
      const owned: GPUBuffer[] = [];
      try {
        const reference = bitsOf(await lossA.compute(pred, target, { grad: true }));
        const predBuffer = createBufferFrom(gpuA.device, pred, STORAGE_IO(), 'pred');
        const targetBuffer = createBufferFrom(gpuA.device, target, STORAGE_IO(), 'target');
        const otherInputs = otherOptions.map((o, i) => {
          const data = makeData(o, i === 1, 1000 + i);
          return { pred: createBufferFrom(gpuA.device, data.pred), target: createBufferFrom(gpuA.device, data.target) };
        });
        owned.push(predBuffer, targetBuffer, ...otherInputs.flatMap((b) => [b.pred, b.target]));

        const slots: ReturnType<typeof outputSlot>[] = [];
        const SUBMITS = 5;
        const PER_SUBMIT = 4;
        for (let s = 0; s < SUBMITS; s++) {
          const encoder = gpuA.device.createCommandEncoder({ label: `interleaved ${s}` });
          for (let k = 0; k < PER_SUBMIT; k++) {
            // other, A, other, B: the losses' scratch is reused between the runs in one encoder.
            const other = others[k % 2];
            const otherSlot = outputSlot(other);
            owned.push(...Object.values(otherSlot));
            other.encode(encoder, { ...otherInputs[k % 2], ...otherSlot });
            const on = k % 2 === 0 ? lossA : lossB;
            const slot = outputSlot(on);
            owned.push(...Object.values(slot));
            slots.push(slot);
            on.encode(encoder, { pred: predBuffer, target: targetBuffer, ...slot });
          }
          gpuA.device.queue.submit([encoder.finish()]);
        }
        for (const [i, slot] of slots.entries()) expectSameBits(await readSlot(slot), reference, `encoded run ${i}`);
        // And compute() after all that still agrees.
        expectSameBits(bitsOf(await lossB.compute(pred, target, { grad: true })), reference, 'compute after');
      } finally {
        for (const buffer of owned) buffer.destroy();
        for (const loss of [lossA, lossB, ...others]) loss.destroy();
      }
    });
  });
});

describe('binding windows', () => {
  it('two engines with 64 KiB binding windows: bitwise the same over 40 runs, and close to the reference', async () => {
    const options: DiceLossOptions = { shape: [2, 96, 96, 3], reduce: 'per-class', weights: [1, 0.5, 2] };
    const { pred, target } = makeData(options, false, 77);
    const windowed = [
      await DiceEngine.create(gpuA.device, { maxBindingBytes: 65536 }),
      await DiceEngine.create(gpuA.device, { maxBindingBytes: 65536 }),
    ];
    try {
      await withValidation(gpuA.device, async () => {
        const losses = await Promise.all(windowed.map((e) => e.dice(options)));
        expect(losses[0].plan.reduce.windows.length).toBeGreaterThan(1);
        expect(losses[0].plan.backward.windows.length).toBeGreaterThan(1);
        const first = await losses[0].compute(pred, target, { grad: true });
        const want = diceReference(pred, target, options);
        expectClose([first.loss], [want.loss], LOSS_TOL, 'loss');
        expectClose(first.grad!, want.grad, gradTolerance(want.grad), 'grad');
        const reference = bitsOf(first);
        for (let run = 1; run < 40; run++) {
          expectSameBits(
            bitsOf(await losses[run % 2].compute(pred, target, { grad: true })),
            reference,
            `windowed run ${run}`,
          );
        }
      });
    } finally {
      for (const engine of windowed) engine.destroy();
    }
  });
});
