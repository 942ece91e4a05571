// A training loop calls a loss millions of times: it must not grow GPU memory or the JS heap.
//
// GPU side: a counting spy (helpers/buffer-spy.ts) wraps the device's createBuffer / createBindGroup
// and each created buffer's destroy(), and the test checks that
// 10,000 compute() calls and 10,000 encode() calls create no buffer and no bind group after
// the first call, and that destroying a loss gives back every buffer it made.
//
// JS side: heapUsed is compared after 1,000 and after 10,000 calls. `global.gc` exists only
// when node runs with --expose-gc (vitest's forks are not started so, and the config is not
// ours to change); `v8.setFlagsFromString('--expose-gc')` turns the flag on at run time and
// `vm.runInNewContext('gc')` then hands out the collector, so each sample is taken after full
// collections (with a turn of the event loop between them, so dawn.node's finalizers run) and
// the bound can be tight. The noise measured here is a few hundred KiB either way, whatever
// the number of calls, so the bound is 1 MiB plus 32 bytes per call: a leak of a few hundred
// bytes per call (what one `Promise.race` against the never-settling `device.lost` cost, 480
// bytes) is over 4 MiB between the samples. Should the collector be unavailable, a generous
// 32 MiB bound still catches anything that keeps per-call buffers or results alive.
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiceEngine, type DiceLoss } from '../src/index.js';
import { diceReference } from '../src/reference/index.js';
import { createBufferFrom, expectClose, getTestDevice, mulberry32, readBuffer, withValidation } from './helpers/gpu.js';
import { spyOnBuffers, type BufferSpy } from './helpers/buffer-spy.js';
import { gradTolerance, LOSS_TOL } from './tolerance.js';

const CALLS = 10_000;
const SAMPLE_AT = 1_000;
const ENCODES_PER_SUBMIT = 1_000;
const HEAP_NOISE = 2 ** 20;
const LEAK_BYTES_PER_CALL = 32;
const BOUND_WITHOUT_GC = 32 * 2 ** 20;
const STORAGE_IO = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

function collector(): (() => void) | undefined {
  try {
    v8.setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}
const gc = collector();

async function heapUsed(): Promise<number> {
  for (let pass = 0; gc && pass < 3; pass++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
}

function expectHeapBounded(atSample: number, atEnd: number, calls: number, what: string) {
  const growth = atEnd - atSample;
  const bound = gc ? HEAP_NOISE + LEAK_BYTES_PER_CALL * calls : BOUND_WITHOUT_GC;
  if (process.env.WGSL_DICE_VERBOSE) console.info(`${what}: heap grew ${growth} bytes over ${calls} calls`);
  expect(
    growth,
    `${what}: heap grew ${growth} bytes over ${calls} calls (bound ${bound}, gc ${gc ? 'forced' : 'unavailable'})`,
  ).toBeLessThan(bound);
}

let device: GPUDevice;
let engine: DiceEngine;
let spy: BufferSpy;
const liveBuffers = () => spy.live().length;

beforeAll(async () => {
  device = await getTestDevice();
  spy = spyOnBuffers(device);
  engine = await DiceEngine.create(device);
});
afterAll(() => {
  engine?.destroy();
  spy?.restore();
});

const SHAPE = [2, 8, 8, 3];
const OPTIONS = { shape: SHAPE, reduce: 'per-class' as const };
const N = SHAPE.reduce((a, b) => a * b, 1);
const random = mulberry32(99);
const pred = Float32Array.from({ length: N }, () => random());
const target = Float32Array.from({ length: N }, () => (random() < 0.3 ? 1 : 0));
const want = diceReference(pred, target, OPTIONS);

describe('no leaks over 10,000 calls', () => {
  it('the spy counts what a loss creates and destroys', async () => {
    const before = spy.counts();
    const loss = await engine.dice(OPTIONS);
    await loss.compute(pred, target, { grad: true });
    expect(spy.buffersCreated).toBeGreaterThan(before.buffersCreated);
    expect(spy.bindGroupsCreated).toBeGreaterThan(before.bindGroupsCreated);
    loss.destroy();
    expect(liveBuffers()).toBe(before.buffersCreated - before.buffersDestroyed);
  });

  it(`${CALLS} compute() calls: no buffer or bind group after the first, bounded heap`, async () => {
    await withValidation(device, async () => {
      const loss = await engine.dice(OPTIONS);
      try {
        // Each path makes its own buffers on first use (a forward-only call has no gradient to read back).
        await loss.compute(pred, target);
        let result = await loss.compute(pred, target, { grad: true });
        const warm = spy.counts();
        let heapAtSample = 0;
        for (let call = 1; call < CALLS; call++) {
          // Alternate forward-only and forward+backward: both paths stay allocation-free.
          result = await loss.compute(pred, target, { grad: call % 2 === 1 });
          if (call === SAMPLE_AT) heapAtSample = await heapUsed();
        }
        const heapAtEnd = await heapUsed();
        expect(spy.counts()).toEqual(warm);
        expectHeapBounded(heapAtSample, heapAtEnd, CALLS - SAMPLE_AT, 'compute()');
        expectClose([result.loss], [want.loss], LOSS_TOL, 'loss after 10,000 calls');
        expectClose(result.grad!, want.grad, gradTolerance(want.grad), 'grad after 10,000 calls');
      } finally {
        loss.destroy();
      }
    });
  });

  it(`${CALLS} encode() calls in ${CALLS / ENCODES_PER_SUBMIT} submits: nothing created after the first, bounded heap`, async () => {
    await withValidation(device, async () => {
      const loss = await engine.dice(OPTIONS);
      const buffers = {
        pred: createBufferFrom(device, pred, STORAGE_IO(), 'pred'),
        target: createBufferFrom(device, target, STORAGE_IO(), 'target'),
        loss: device.createBuffer({ label: 'loss', size: 16, usage: STORAGE_IO() }),
        stats: device.createBuffer({ label: 'stats', size: loss.groupCount * 16, usage: STORAGE_IO() }),
        grad: device.createBuffer({ label: 'grad', size: N * 4, usage: STORAGE_IO() }),
      };
      const liveBefore = liveBuffers();
      try {
        let heapAtSample = 0;
        let warm: ReturnType<BufferSpy['counts']> | undefined;
        for (let call = 0; call < CALLS; call += ENCODES_PER_SUBMIT) {
          const encoder = device.createCommandEncoder({ label: 'batch' });
          for (let k = 0; k < ENCODES_PER_SUBMIT; k++) {
            loss.encode(encoder, buffers);
            warm ??= spy.counts();
          }
          device.queue.submit([encoder.finish()]);
          await device.queue.onSubmittedWorkDone();
          if (call + ENCODES_PER_SUBMIT === SAMPLE_AT) heapAtSample = await heapUsed();
        }
        const heapAtEnd = await heapUsed();
        expect(spy.counts()).toEqual(warm);
        expect(liveBuffers()).toBe(liveBefore);
        expectHeapBounded(heapAtSample, heapAtEnd, CALLS - SAMPLE_AT, 'encode()');
        const got = new Float32Array(await readBuffer(device, buffers.loss, 4))[0];
        expectClose([got], [want.loss], LOSS_TOL, 'loss after 10,000 encodes');
        expectClose(
          new Float32Array(await readBuffer(device, buffers.grad)),
          want.grad,
          gradTolerance(want.grad),
          'grad',
        );
      } finally {
        for (const buffer of Object.values(buffers)) buffer.destroy();
        loss.destroy();
      }
    });
  });

  it('encode() with rotating caller buffers keeps at most a few bind groups alive', async () => {
    await withValidation(device, async () => {
      const loss = await engine.dice(OPTIONS);
      const inputs = Array.from({ length: 20 }, (_, i) => createBufferFrom(device, pred, STORAGE_IO(), `pred ${i}`));
      const targetBuffer = createBufferFrom(device, target, STORAGE_IO(), 'target');
      const lossBuffer = device.createBuffer({ size: 16, usage: STORAGE_IO() });
      try {
        // 20 distinct pred buffers, 1,000 calls: the bind-group cache is bounded, so the live
        // buffer count stays flat and the heap does not keep one bind group per call.
        const liveBefore = liveBuffers();
        const heapBefore = await heapUsed();
        const encoder = device.createCommandEncoder();
        for (let call = 0; call < 1_000; call++) {
          loss.encode(encoder, { pred: inputs[call % inputs.length], target: targetBuffer, loss: lossBuffer });
        }
        device.queue.submit([encoder.finish()]);
        await device.queue.onSubmittedWorkDone();
        expect(liveBuffers()).toBe(liveBefore);
        expectHeapBounded(heapBefore, await heapUsed(), 1_000, 'encode() with rotating buffers');
      } finally {
        for (const buffer of [...inputs, targetBuffer, lossBuffer]) buffer.destroy();
        loss.destroy();
      }
    });
  });

  it('1,000 losses created, used and destroyed give back every buffer they made', async () => {
    await withValidation(device, async () => {
      const cycle = async (i: number) => {
        const shape = [1 + (i % 3), 4 + (i % 5), 3];
        const loss = await engine.dice({ shape, reduce: i % 2 ? 'global' : 'per-class' });
        const n = shape.reduce((a, b) => a * b, 1);
        await loss.compute(pred.subarray(0, n), target.subarray(0, n), { grad: i % 4 === 0 });
        loss.destroy();
      };
      const liveBefore = liveBuffers();
      for (let i = 0; i < 100; i++) await cycle(i); // warm-up: JIT and caches settle
      expect(liveBuffers()).toBe(liveBefore);
      const heapBefore = await heapUsed();
      for (let i = 0; i < 1_000; i++) await cycle(i);
      expect(liveBuffers()).toBe(liveBefore);
      expectHeapBounded(heapBefore, await heapUsed(), 1_000, 'dice() + compute() + destroy()');
    });
  });

  it('100 engines created and destroyed give back every buffer, and losses left alive are freed too', async () => {
    const liveBefore = liveBuffers();
    for (let i = 0; i < 100; i++) {
      const other = await DiceEngine.create(device);
      const loss: DiceLoss = await other.dice(OPTIONS);
      await loss.compute(pred, target);
      other.destroy(); // destroys the loss as well
    }
    expect(liveBuffers()).toBe(liveBefore);
  });
});
