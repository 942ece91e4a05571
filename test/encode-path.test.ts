// The encode path is how a WebGPU app chains the loss into its own training step: it must only
// record passes into the caller's encoder. These tests count every GPU object creation and
// every submit or map the library could make (counting spies that call through to the real
// device: the numerics stay real) and check the result of the recorded passes.
import { describe, expect, it } from 'vitest';
import { DiceEngine, type LossWarmUpProgress } from '../src/index.js';
import { diceReference, familyReference } from '../src/reference/index.js';
import {
  createBufferFrom,
  createEmptyBuffer,
  expectClose,
  mulberry32,
  readBuffer,
  withValidation,
} from './helpers/gpu.js';
import { spyOnBuffers } from './helpers/buffer-spy.js';
import { gradTolerance, LOSS_TOL } from './tolerance.js';
import { useTestEngine } from './helpers/test-engine.js';

const gpu = useTestEngine();

/** Counts calls to the device's creation methods, submits and buffer maps while `fn` runs. */
function countGpuCalls(fn: () => void): Record<string, number> {
  const counts: Record<string, number> = {};
  const restore: (() => void)[] = [];
  const spy = (target: object, name: string) => {
    const original = (target as Record<string, unknown>)[name] as (...args: unknown[]) => unknown;
    (target as Record<string, unknown>)[name] = function (this: unknown, ...args: unknown[]) {
      counts[name] = (counts[name] ?? 0) + 1;
      return original.apply(this, args);
    };
    restore.push(() => ((target as Record<string, unknown>)[name] = original));
  };
  for (const name of [
    'createBuffer',
    'createBindGroup',
    'createShaderModule',
    'createComputePipeline',
    'createComputePipelineAsync',
    'createCommandEncoder',
  ]) {
    spy(gpu.device, name);
  }
  spy(gpu.device.queue, 'submit');
  spy(gpu.device.queue, 'writeBuffer');
  spy(GPUBuffer.prototype, 'mapAsync');
  try {
    fn();
  } finally {
    restore.forEach((undo) => undo());
  }
  return counts;
}

describe('encode: records only, allocates nothing in steady state', () => {
  it('seed loss: second and later encodes create no GPU object, submit nothing, map nothing', async () => {
    const shape = [2, 16, 16, 4];
    const n = 2048;
    const random = mulberry32(3);
    const predData = Float32Array.from({ length: n }, () => random());
    const targetData = Float32Array.from({ length: n }, () => (random() < 0.3 ? 1 : 0));
    await withValidation(gpu.device, async () => {
      const loss = await gpu.engine.dice({ shape, reduce: 'per-class', weights: [1, 2, 3, 4] });
      const pred = createBufferFrom(gpu.device, predData);
      const target = createBufferFrom(gpu.device, targetData);
      const lossOut = createEmptyBuffer(gpu.device, 4);
      const grad = createEmptyBuffer(gpu.device, n * 4);
      const first = gpu.device.createCommandEncoder();
      loss.encode(first, { pred, target, loss: lossOut, grad });
      gpu.device.queue.submit([first.finish()]);

      const encoder = gpu.device.createCommandEncoder();
      const counts = countGpuCalls(() => {
        for (let step = 0; step < 5; step++) loss.encode(encoder, { pred, target, loss: lossOut, grad });
      });
      expect(counts).toEqual({});
      gpu.device.queue.submit([encoder.finish()]);

      const want = diceReference(predData, targetData, { shape, reduce: 'per-class', weights: [1, 2, 3, 4] });
      expectClose(new Float32Array(await readBuffer(gpu.device, lossOut, 4)), [want.loss], LOSS_TOL, 'loss');
      expectClose(new Float32Array(await readBuffer(gpu.device, grad)), want.grad, gradTolerance(want.grad), 'grad');
      loss.destroy();
      for (const b of [pred, target, lossOut, grad]) b.destroy();
    });
  });

  it('a loss cut into many binding windows still creates nothing in steady state', async () => {
    const windowed = await DiceEngine.create(gpu.device, {
      maxBindingBytes: 16 * 1024,
      workgroupSize: 64,
      targetWorkgroups: 64,
    });
    const options = { shape: [2, 64, 64, 4], reduce: 'per-class' } as const;
    const n = 2 * 64 * 64 * 4;
    const random = mulberry32(8);
    await withValidation(gpu.device, async () => {
      const loss = await windowed.dice(options);
      expect(loss.plan.reduce.windows.length + loss.plan.backward.windows.length).toBeGreaterThan(12);
      const pred = createBufferFrom(
        gpu.device,
        Float32Array.from({ length: n }, () => random()),
      );
      const target = createBufferFrom(
        gpu.device,
        Float32Array.from({ length: n }, () => (random() < 0.3 ? 1 : 0)),
      );
      const lossOut = createEmptyBuffer(gpu.device, 4);
      const grad = createEmptyBuffer(gpu.device, n * 4);
      const first = gpu.device.createCommandEncoder();
      loss.encode(first, { pred, target, loss: lossOut, grad });
      gpu.device.queue.submit([first.finish()]);
      const encoder = gpu.device.createCommandEncoder();
      expect(countGpuCalls(() => loss.encode(encoder, { pred, target, loss: lossOut, grad }))).toEqual({});
      gpu.device.queue.submit([encoder.finish()]);
      loss.destroy();
      for (const b of [pred, target, lossOut, grad]) b.destroy();
    });
    windowed.destroy();
  });

  it('family loss (softmax + u8 labels): steady-state encodes create nothing', async () => {
    const options = { shape: [2, 8, 8, 3], activation: 'softmax', target: 'u8' } as const;
    const random = mulberry32(4);
    const logits = Float32Array.from({ length: 384 }, () => random() * 4 - 2);
    const labels = Uint8Array.from({ length: 128 }, () => Math.floor(random() * 3));
    await withValidation(gpu.device, async () => {
      const loss = await gpu.engine.loss(options);
      const pred = createBufferFrom(gpu.device, logits);
      const target = createBufferFrom(gpu.device, labels);
      const lossOut = createEmptyBuffer(gpu.device, 4);
      const grad = createEmptyBuffer(gpu.device, 384 * 4);
      const first = gpu.device.createCommandEncoder();
      loss.encode(first, { pred, target, loss: lossOut, grad });
      gpu.device.queue.submit([first.finish()]);
      const encoder = gpu.device.createCommandEncoder();
      const counts = countGpuCalls(() => loss.encode(encoder, { pred, target, loss: lossOut, grad }));
      expect(counts).toEqual({});
      gpu.device.queue.submit([encoder.finish()]);
      const want = familyReference(logits, labels, options);
      expectClose(new Float32Array(await readBuffer(gpu.device, lossOut, 4)), [want.loss], LOSS_TOL, 'loss');
      loss.destroy();
      for (const b of [pred, target, lossOut, grad]) b.destroy();
    });
  });
});

// wgsl-dice/tfjs's custom gradient records the forward, and later only the backward passes
// from the coefficients the forward left (ProgramLoss._encodeBackward).
describe('backward-only recording', () => {
  it.each([
    ['seed per-class loss', { kind: 'dice' as const }],
    ['softmax + u8 label map', { kind: 'loss' as const }],
  ])('%s: forward, then the backward alone, gives the gradient of a whole encode bit for bit', async (_name, c) => {
    const shape = [2, 12, 8, 4];
    const n = 2 * 12 * 8 * 4;
    const random = mulberry32(21);
    await withValidation(gpu.device, async () => {
      const loss =
        c.kind === 'dice'
          ? await gpu.engine.dice({ shape, reduce: 'per-class' })
          : await gpu.engine.loss({ shape, activation: 'softmax', target: 'u8' });
      const pred = createBufferFrom(
        gpu.device,
        Float32Array.from({ length: n }, () => random() * 4 - 2),
      );
      const targetData =
        c.kind === 'dice'
          ? Float32Array.from({ length: n }, () => (random() < 0.3 ? 1 : 0))
          : Uint8Array.from({ length: 2 * 12 * 8 + 3 }, () => Math.floor(random() * 4));
      const target = createBufferFrom(gpu.device, targetData);
      const lossOut = createEmptyBuffer(gpu.device, 4);
      const whole = createEmptyBuffer(gpu.device, n * 4);
      const split = createEmptyBuffer(gpu.device, n * 4);
      const encoder = gpu.device.createCommandEncoder();
      loss.encode(encoder, { pred, target, loss: lossOut, grad: whole });
      loss.encode(encoder, { pred, target, loss: lossOut });
      loss._encodeBackward(encoder, { pred, target, grad: split });
      gpu.device.queue.submit([encoder.finish()]);
      const [a, b] = [await readBuffer(gpu.device, whole), await readBuffer(gpu.device, split)];
      expect(new Uint32Array(b)).toEqual(new Uint32Array(a));
      expect(new Float32Array(a).some((g) => g !== 0)).toBe(true);
      loss.destroy();
      for (const buffer of [pred, target, lossOut, whole, split]) buffer.destroy();
    });
  });

  it('a metric has no backward pass: recording its gradient is INVALID_INPUT, not an unwritten buffer', async () => {
    const metric = await gpu.engine.metric({ shape: [1, 8, 3], target: 'u8' });
    const grad = createEmptyBuffer(gpu.device, 24 * 4);
    const pred = createEmptyBuffer(gpu.device, 24 * 4);
    const target = createEmptyBuffer(gpu.device, 16);
    expect(() => metric._encodeBackward(gpu.device.createCommandEncoder(), { pred, target, grad })).toThrow(
      /has no gradient/,
    );
    metric.destroy();
    for (const buffer of [grad, pred, target]) buffer.destroy();
  });
});

// Software adapters compile a pipeline at its first dispatch: warmUp() runs each pass once so that
// the first training step does not pay for it, reporting after each pass (issue 21).
describe('warmUp', () => {
  it.each([
    ['seed per-class loss', () => gpu.engine.dice({ shape: [2, 12, 8, 4], reduce: 'per-class' })],
    ['softmax + u8 label map', () => gpu.engine.loss({ shape: [2, 12, 8, 4], activation: 'softmax', target: 'u8' })],
    ['metric (forward passes only)', () => gpu.engine.metric({ shape: [1, 8, 3], target: 'u8' })],
  ])('%s: runs every pass once, reports each, leaves no buffer and the loss as it was', async (_name, make) => {
    await withValidation(gpu.device, async () => {
      const loss = await make();
      const spy = spyOnBuffers(gpu.device);
      const events: LossWarmUpProgress[] = [];
      try {
        await loss.warmUp((event) => events.push(event));
        expect(spy.live()).toEqual([]); // the zero inputs it made are destroyed
      } finally {
        spy.restore();
      }
      expect(events.map((e) => [e.done, e.total, e.pass])).toEqual(
        loss.program.passes.map((p, i) => [i + 1, loss.program.passes.length, p.name]),
      );
      expect(events.every((e) => e.ms >= 0)).toBe(true);
      await expect(loss.warmUp('quiet' as never)).rejects.toMatchObject({ code: 'INVALID_OPTION' });
      await expect(loss.warmUp({} as never)).rejects.toThrow(/warmUp\(progress\) takes a function/);
      await loss.warmUp(); // no progress callback
      loss.destroy();
      await expect(loss.warmUp()).rejects.toMatchObject({ code: 'ENGINE_DESTROYED' });
    });
  });

  it('a loss computes the same after a warm-up', async () => {
    const options = { shape: [2, 8, 8, 3], activation: 'softmax', target: 'u8' } as const;
    const random = mulberry32(8);
    const logits = Float32Array.from({ length: 384 }, () => random() * 4 - 2);
    const labels = Uint8Array.from({ length: 128 }, () => Math.floor(random() * 3));
    await withValidation(gpu.device, async () => {
      const loss = await gpu.engine.loss(options);
      await loss.warmUp();
      const got = await loss.compute(logits, labels, { grad: true });
      expectClose([got.loss], [familyReference(logits, labels, options).loss], LOSS_TOL, 'loss after warm-up');
      loss.destroy();
    });
  });
});
