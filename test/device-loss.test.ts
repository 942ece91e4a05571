// Losing the device (here: device.destroy() on a device of its own, never the shared test
// device) must never leave a caller waiting: every call pending at that moment either
// completes with the right result (it finished first) or rejects with DEVICE_LOST, and every
// later call rejects with DEVICE_LOST at once. An engine on a new device then works.
// Each await has a timeout, so a hang fails the test instead of stalling the run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiceEngine, WgslDiceError, type DiceResult } from '../src/index.js';
import { requestNodeDevice } from '../src/node/index.js';
import { diceReference } from '../src/reference/index.js';
import { createBufferFrom, expectClose, getTestDevice, mulberry32, withValidation } from './helpers/gpu.js';
import { gradTolerance, LOSS_TOL, SUM_TOL } from './tolerance.js';

const HANG_MS = 10_000;
const SHAPE = [2, 128, 128, 4];
const OPTIONS = { shape: SHAPE, reduce: 'per-class' as const };
const N = SHAPE.reduce((a, b) => a * b, 1);
const random = mulberry32(5);
const pred = Float32Array.from({ length: N }, () => random());
const target = Float32Array.from({ length: N }, () => (random() < 0.25 ? 1 : 0));
const want = diceReference(pred, target, OPTIONS);

function withTimeout<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`HANG: ${what} neither settled nor rejected within ${HANG_MS} ms`)),
      HANG_MS,
    );
  });
  return Promise.race([work, hang]).finally(() => clearTimeout(timer));
}

function expectReference(got: DiceResult, withGrad: boolean) {
  expectClose([got.loss], [want.loss], LOSS_TOL, 'loss');
  expectClose(got.perClass.dice, want.dice, SUM_TOL, 'dice');
  if (withGrad) expectClose(got.grad!, want.grad, gradTolerance(want.grad), 'grad');
}

async function expectDeviceLost(call: () => unknown, what: string): Promise<void> {
  let caught: unknown;
  try {
    await withTimeout(Promise.resolve().then(call), what);
  } catch (error) {
    caught = error;
  }
  expect(caught, `${what} must reject`).toBeInstanceOf(WgslDiceError);
  expect((caught as WgslDiceError).code, `${what}: ${(caught as Error).message}`).toBe('DEVICE_LOST');
  expect((caught as Error).message).toMatch(/device was lost.*create a new device and a new DiceEngine/);
}

type Outcome = 'completed' | 'DEVICE_LOST';

/**
 * The same settlement, with a handler attached now: Node reports a promise that rejects before
 * anyone handles it as an unhandled rejection, even when the test awaits it a moment later.
 */
function observe<T>(work: Promise<T>): Promise<T> {
  work.catch(() => undefined);
  return work;
}

/** Settles a call that was pending when the device went: a right result, or DEVICE_LOST. */
async function settlePending(work: Promise<DiceResult>, withGrad: boolean, what: string): Promise<Outcome> {
  try {
    expectReference(await withTimeout(work, what), withGrad);
    return 'completed';
  } catch (error) {
    if (error instanceof WgslDiceError && error.code === 'DEVICE_LOST') return 'DEVICE_LOST';
    throw new Error(`${what}: expected the result or DEVICE_LOST, got ${String(error)}`, { cause: error });
  }
}

const TIMINGS: Record<string, () => Promise<unknown>> = {
  'in the same tick (calls still queued)': async () => undefined,
  'after a microtask': () => Promise.resolve(),
  'after a macrotask': () => new Promise((resolve) => setTimeout(resolve, 0)),
  'after 1 ms': () => new Promise((resolve) => setTimeout(resolve, 1)),
  'after 5 ms': () => new Promise((resolve) => setTimeout(resolve, 5)),
};

const outcomes: Outcome[] = [];

describe('device.destroy() while compute() calls are pending, and after', () => {
  it.each(Object.keys(TIMINGS))('destroyed %s', async (timing) => {
    const device = await requestNodeDevice({ label: `doomed device (${timing})` });
    const engine = await DiceEngine.create(device);
    const loss = await engine.dice(OPTIONS);
    const predBuffer = createBufferFrom(device, pred);
    const targetBuffer = createBufferFrom(device, target);
    // Warm once, so the pending calls below are plain steady-state calls.
    expectReference(await loss.compute(pred, target, { grad: true }), true);

    const other = await engine.dice({ shape: [1, 64, 64, 2], reduce: 'global' });
    const pending = [
      { work: observe(loss.compute(pred, target, { grad: true })), grad: true, what: 'compute(Float32Array, grad)' },
      { work: observe(loss.compute(predBuffer, targetBuffer)), grad: false, what: 'compute(GPUBuffer)' },
      { work: observe(loss.compute(pred, target)), grad: false, what: 'third queued compute()' },
    ];
    // Handlers are attached at once: a call that rejects while the test awaits another one is
    // an observed DEVICE_LOST, not an unhandled rejection.
    const otherPending = observe(other.compute(new Float32Array(8192), new Float32Array(8192)));
    const diceWhileLost = observe(engine.dice({ shape: [3, 17, 5], reduce: 'per-class' }));

    await TIMINGS[timing]();
    device.destroy();

    for (const { work, grad, what } of pending) outcomes.push(await settlePending(work, grad, what));
    await withTimeout(otherPending, 'other loss').then(
      () => undefined,
      (error: unknown) => expect((error as WgslDiceError).code).toBe('DEVICE_LOST'),
    );
    await withTimeout(diceWhileLost, 'dice() on a lost device').then(
      (created) => created.destroy(), // it may have finished compiling before the loss
      (error: unknown) => expect((error as WgslDiceError).code).toBe('DEVICE_LOST'),
    );

    // Everything after the loss rejects at once.
    await expectDeviceLost(() => loss.compute(pred, target, { grad: true }), 'compute() after the loss');
    await expectDeviceLost(() => loss.compute(predBuffer, targetBuffer), 'compute(GPUBuffer) after the loss');
    await expectDeviceLost(() => engine.dice(OPTIONS), 'dice() after the loss');
    await expectDeviceLost(() => {
      const encoder = device.createCommandEncoder();
      const out = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE });
      loss.encode(encoder, { pred: predBuffer, target: targetBuffer, loss: out });
    }, 'encode() after the loss');
    await expectDeviceLost(async () => {
      const late = await DiceEngine.create(device);
      await late.dice(OPTIONS);
    }, 'a new engine on the lost device');

    // Tearing down after a loss is quiet.
    expect(() => {
      loss.destroy();
      other.destroy();
      engine.destroy();
    }).not.toThrow();
  });

  it('some pending calls were really cut off (the test exercised the pending path)', () => {
    if (process.env.WGSL_DICE_VERBOSE) console.info('pending outcomes:', outcomes.join(' '));
    expect(outcomes.length).toBe(3 * Object.keys(TIMINGS).length);
    expect(outcomes.filter((o) => o === 'DEVICE_LOST').length).toBeGreaterThan(0);
  });
});

describe('after a device loss', () => {
  let shared: GPUDevice;
  beforeAll(async () => {
    shared = await getTestDevice();
  });
  afterAll(() => undefined);

  it('an engine on a new device works', async () => {
    const lost = await requestNodeDevice({ label: 'lost before use' });
    const before = await DiceEngine.create(lost);
    lost.destroy();
    await expectDeviceLost(() => before.dice(OPTIONS), 'dice() on the lost device');

    const fresh = await requestNodeDevice({ label: 'replacement device' });
    try {
      const engine = await DiceEngine.create(fresh);
      const loss = await engine.dice(OPTIONS);
      await withValidation(fresh, async () => expectReference(await loss.compute(pred, target, { grad: true }), true));
      engine.destroy();
    } finally {
      await fresh.queue.onSubmittedWorkDone();
      fresh.destroy();
    }
  });

  it('other devices never notice: the shared test device still computes', async () => {
    const engine = await DiceEngine.create(shared);
    try {
      const loss = await engine.dice(OPTIONS);
      await withValidation(shared, async () => expectReference(await loss.compute(pred, target, { grad: true }), true));
    } finally {
      engine.destroy();
    }
  });
});
