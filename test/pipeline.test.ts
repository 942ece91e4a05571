// The one pipeline's guarantees, held by the shared machinery for every loss (seed, family,
// Wasserstein): input faults counted in the passes (non-finite pred, dense target, mask) with
// count and first index, thrown by compute() and readable on the encode path; the class limit
// checked in TypeScript; binding windows for Wasserstein Dice; recording into an open compute
// pass and with timestamps; describe().
import { describe, expect, it } from 'vitest';
import { DiceEngine, WgslDiceError, toFloat16Bits } from '../src/index.js';
import { createBufferFrom, mulberry32, withValidation } from './helpers/gpu.js';
import { useTestEngine } from './helpers/test-engine.js';

const gpu = useTestEngine();

async function rejection(work: Promise<unknown>): Promise<WgslDiceError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WgslDiceError);
  return error as WgslDiceError;
}

const clean = {
  badLabels: 0,
  firstBadLabelVoxel: null,
  nonFinite: 0,
  firstNonFiniteElement: null,
  nonFiniteTarget: 0,
  firstNonFiniteTargetElement: null,
  nonFiniteMask: 0,
  firstNonFiniteMaskIndex: null,
};

describe('non-finite inputs are reported on every path', () => {
  it.each([
    ['global, vec4 kernel', { shape: [2, 4, 4, 4], reduce: 'global' as const }],
    ['per-class, scalar kernel (odd sizes)', { shape: [1, 3, 5, 3], reduce: 'per-class' as const }],
  ])('seed losses (%s): pred and target', async (_name, options) => {
    await withValidation(gpu.device, async () => {
      const loss = await gpu.engine.dice(options);
      const n = options.shape.reduce((a, b) => a * b, 1);
      const pred = new Float32Array(n).fill(0.5);
      const target = new Float32Array(n).fill(1);
      pred[7] = NaN;
      pred[n - 1] = Infinity;
      target[3] = -Infinity;
      const error = await rejection(loss.compute(pred, target));
      expect(error.code).toBe('NON_FINITE_INPUT');
      expect(error.message).toMatch(
        /2 pred element\(s\) \(first at element 7\), 1 target element\(s\) \(first at element 3\)/,
      );
      expect(await loss.readStatus()).toEqual({
        ...clean,
        nonFinite: 2,
        firstNonFiniteElement: 7,
        nonFiniteTarget: 1,
        firstNonFiniteTargetElement: 3,
      });
      // Clean input afterwards: no stale fault.
      pred[7] = 0.5;
      pred[n - 1] = 0.5;
      target[3] = 1;
      expect((await loss.compute(pred, target)).loss).toBeCloseTo(1 - (2 * 0.5 * n) / (0.5 * n + n), 5);
      expect(await loss.readStatus()).toEqual(clean);
      loss.destroy();
    });
  });

  it('seed losses in f16: Inf bits and values beyond the f16 range', async () => {
    if (!gpu.device.features.has('shader-f16'))
      throw new Error('this test device must offer shader-f16 (lavapipe does)');
    await withValidation(gpu.device, async () => {
      const loss = await gpu.engine.dice({ shape: [1, 4, 4, 4], predType: 'f16' });
      const pred = new Float32Array(64).fill(0.25);
      pred[9] = 1e6; // rounds to f16 +Inf
      const error = await rejection(loss.compute(toFloat16Bits(pred), new Float32Array(64)));
      expect(error.code).toBe('NON_FINITE_INPUT');
      expect(error.message).toMatch(/1 pred element\(s\) \(first at element 9\)/);
      loss.destroy();
    });
  });

  it('family: dense target and mask', async () => {
    await withValidation(gpu.device, async () => {
      const loss = await gpu.engine.loss({ shape: [2, 8, 3], activation: 'sigmoid', mask: 'weight' });
      const pred = new Float32Array(48).fill(0.1);
      const target = new Float32Array(48);
      const mask = new Float32Array(16).fill(1);
      target[20] = NaN;
      mask[11] = Infinity;
      const error = await rejection(loss.compute(pred, target, { mask }));
      expect(error.code).toBe('NON_FINITE_INPUT');
      expect(error.message).toMatch(
        /1 target element\(s\) \(first at element 20\), 1 mask value\(s\) \(first at value 11\)/,
      );
      expect(await loss.readStatus()).toEqual({
        ...clean,
        nonFiniteTarget: 1,
        firstNonFiniteTargetElement: 20,
        nonFiniteMask: 1,
        firstNonFiniteMaskIndex: 11,
      });
      loss.destroy();
    });
  });

  // The forward only flags a thread that saw a fault; that thread re-reads its voxels to record
  // each one. Faults in several workgroups and threads, next to clean voxels of the same thread.
  it('family with logits in registers (C = 8, vec4 loads): every fault counted, with the first index', async () => {
    await withValidation(gpu.device, async () => {
      const C = 8;
      const voxels = 2 * 700;
      const loss = await gpu.engine.loss({ shape: [2, 700, C], activation: 'softmax', target: 'u8' });
      const pred = new Float32Array(voxels * C).fill(0.25);
      const labels = new Uint8Array(voxels).fill(1);
      for (const at of [C * 900 + 2, C * 5 + 3, C * 5 + 4, C * 1399 + 7]) pred[at] = NaN;
      pred[C * 260] = -Infinity;
      labels[1100] = C;
      labels[333] = 200;
      const error = await rejection(loss.compute(pred, labels));
      expect(['NON_FINITE_INPUT', 'LABEL_OUT_OF_RANGE']).toContain(error.code);
      expect(await loss.readStatus()).toEqual({
        ...clean,
        badLabels: 2,
        firstBadLabelVoxel: 333,
        nonFinite: 5,
        firstNonFiniteElement: C * 5 + 3,
      });
      pred.fill(0.25);
      labels.fill(1);
      await loss.compute(pred, labels);
      expect(await loss.readStatus()).toEqual(clean);
      loss.destroy();
    });
  });

  it('family with more than one class block: each logit counted once', async () => {
    await withValidation(gpu.device, async () => {
      const C = 20;
      const loss = await gpu.engine.loss({ shape: [1, 10, C], activation: 'softmax', target: 'u8' });
      const pred = new Float32Array(10 * C);
      pred[3] = NaN;
      pred[C * 5 + 18] = -Infinity;
      const error = await rejection(loss.compute(pred, new Uint8Array(10)));
      expect(error.message).toMatch(/2 pred element\(s\) \(first at element 3\)/);
      loss.destroy();
    });
  });
});

describe('limits checked in TypeScript', () => {
  it('more classes than a kernel takes: LIMIT_EXCEEDED, nothing created', async () => {
    const error = await rejection(
      gpu.engine.loss({ shape: [1, 2, 65537], activation: 'softmax', target: 'u32', weights: 'inverse-frequency' }),
    );
    expect(error.code).toBe('LIMIT_EXCEEDED');
    expect(error.message).toMatch(/C = 65537 classes is more than the 65536/);
  });
});

describe('Wasserstein Dice in binding windows', () => {
  it('bitwise equal to one window', async () => {
    // Same grid on both engines (chunks of at most half a window), different windows.
    const grid = { workgroupSize: 64, targetWorkgroups: 64 };
    const small = await DiceEngine.create(gpu.device, { ...grid, maxBindingBytes: 64 * 1024 });
    const large = await DiceEngine.create(gpu.device, grid);
    try {
      await withValidation(gpu.device, async () => {
        const options = {
          shape: [3, 64, 64, 3],
          distanceMatrix: [
            [0, 1, 1],
            [1, 0, 0.5],
            [1, 0.5, 0],
          ],
          target: 'u8' as const,
        };
        const split = await small.wassersteinDice(options);
        const single = await large.wassersteinDice(options);
        expect(split.plan.forward.windows.length).toBeGreaterThan(1);
        expect(single.plan.forward.windows).toHaveLength(1);
        expect(split.plan.forward.chunks).toBe(single.plan.forward.chunks);
        const random = mulberry32(7);
        const pred = Float32Array.from({ length: 3 * 4096 * 3 }, () => random() * 4 - 2);
        const labels = Uint8Array.from({ length: 3 * 4096 }, () => Math.floor(random() * 3));
        const a = await split.compute(pred, labels, { grad: true });
        const b = await single.compute(pred, labels, { grad: true });
        expect(a.loss).toBe(b.loss);
        expect(Buffer.from(a.grad!.buffer).equals(Buffer.from(b.grad!.buffer))).toBe(true);
      });
    } finally {
      small.destroy();
      large.destroy();
    }
  });
});

describe('recording', () => {
  it('into an open compute pass, and with timestamps: the same loss as into an encoder', async () => {
    await withValidation(gpu.device, async () => {
      const loss = await gpu.engine.loss({ shape: [2, 16, 4], activation: 'softmax', target: 'u8' });
      const random = mulberry32(3);
      const pred = createBufferFrom(
        gpu.device,
        Float32Array.from({ length: 128 }, () => random() * 2 - 1),
      );
      const target = createBufferFrom(
        gpu.device,
        Uint8Array.from({ length: 32 }, (_, i) => i % 4),
      );
      const out = gpu.device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
      const read = gpu.device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      const expected = (await loss.compute(pred, target)).loss;

      const encoder = gpu.device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      loss.encode(pass, { pred, target, loss: out });
      pass.end();
      encoder.copyBufferToBuffer(out, 0, read, 0, 16);
      gpu.device.queue.submit([encoder.finish()]);
      await read.mapAsync(GPUMapMode.READ);
      expect(new Float32Array(read.getMappedRange().slice(0))[0]).toBe(expected);
      read.unmap();

      if (!gpu.device.features.has('timestamp-query'))
        throw new Error('this test device must offer timestamp-query (lavapipe does)');
      const querySet = gpu.device.createQuerySet({ type: 'timestamp', count: 2 });
      const timed = gpu.device.createCommandEncoder();
      loss.encode(
        timed,
        { pred, target, loss: out },
        { timestampWrites: { querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } },
      );
      gpu.device.queue.submit([timed.finish()]);
      await gpu.device.queue.onSubmittedWorkDone();
      // A pass the caller began carries its own timestamps.
      const other = gpu.device.createCommandEncoder();
      const open = other.beginComputePass();
      expect(() =>
        loss.encode(open, { pred, target, loss: out }, { timestampWrites: { querySet, beginningOfPassWriteIndex: 0 } }),
      ).toThrow(/timestampWrites/);
      open.end();
      other.finish();
      for (const b of [pred, target, out, read]) b.destroy();
      querySet.destroy();
      loss.destroy();
    });
  });

  it('describe() prints the program: passes, kernels, modes, bindings', async () => {
    const loss = await gpu.engine.loss({ shape: [2, 16, 16, 4], activation: 'softmax', target: 'u8' });
    const text = loss.describe();
    expect(text).toMatch(/1\. forward: family_forward_quads \[ACTIVATION=2 TARGET_KIND=1/);
    expect(text).toMatch(/2\. finalize: family_finalize \[/);
    expect(text).toMatch(/3\. backward \(with grad\): family_backward_quads \[/);
    expect(text).toMatch(/pred<-pred truth<-target/);
    loss.destroy();
    const seed = await gpu.engine.dice({ shape: [2, 16, 16, 4] });
    expect(seed.describe()).toMatch(/1\. reduce: dice_reduce_vec4(_subgroups)?, /);
    seed.destroy();
  });
});
