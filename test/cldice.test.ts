// engine.loss({ formula: 'cl-dice' }) on a real WebGPU device against the float64 reference
// (src/reference/cldice.ts, itself checked against MONAI in cldice-reference.test.ts): seeded
// fuzz over 2D/3D, both layouts, iterations, alpha and smooth, with inputs quantised to a few
// levels so that pooling ties, halved minima and relu(0) kinks are frequent; binding windows;
// thin and empty structures; the precomputed target skeleton; determinism; bad options.
// Tolerances: value |a - e| <= 1e-6 + 1e-4|e|, gradient element |a - e| <= 1e-4 max|e| + 1e-7
// (those of the MONAI data set; f32 passes of a few thousand elements stay well inside).
import { describe, expect, it } from 'vitest';
import { DiceEngine, WgslDiceError } from '../src/index.js';
import type { ClDiceOptions } from '../src/spec/cldice.js';
import { clDiceReference, softSkeleton } from '../src/reference/index.js';
import { expectGradClose, expectValueClose, moveChannels } from './helpers/cldice-cases.js';
import { createBufferFrom, createEmptyBuffer, mulberry32, readBuffer, withValidation } from './helpers/gpu.js';
import { useTestEngine } from './helpers/test-engine.js';

const gpu = useTestEngine();

interface Drawn {
  options: ClDiceOptions;
  /** Channels-first copies for the reference. */
  shape: number[];
  pred: Float32Array;
  target: Float32Array;
}

/**
 * A random case: probabilities over C classes (optionally quantised to eighths, so ties are
 * everywhere) and a one-hot target of random thin curves, in the requested layout.
 */
function draw(seed: number): Drawn {
  const random = mulberry32(seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)];
  const rank = pick([2, 3]);
  const spatial =
    rank === 2
      ? [3 + Math.floor(random() * 14), 3 + Math.floor(random() * 14)]
      : [2 + Math.floor(random() * 5), 3 + Math.floor(random() * 5), 3 + Math.floor(random() * 6)];
  const B = 1 + Math.floor(random() * 2);
  const C = pick([1, 2, 3, 2, 3]); // C = 1 has no foreground class: loss 0, gradient 0
  const channelsFirst = random() < 0.5;
  const quantised = random() < 0.5;
  const S = spatial.reduce((a, b) => a * b, 1);
  const shape = [B, C, ...spatial];
  const pred = new Float64Array(B * C * S);
  const target = new Float64Array(B * C * S);
  const [W, H] = [spatial[spatial.length - 1], spatial[spatial.length - 2]];
  for (let b = 0; b < B; b++) {
    const labels = new Int32Array(S);
    // A few random walks of foreground classes: thin curves.
    for (let curve = 0; curve < 2; curve++) {
      let [w, h] = [Math.floor(random() * W), Math.floor(random() * H)];
      const label = C > 1 ? 1 + Math.floor(random() * (C - 1)) : 0;
      for (let step = 0; step < W + H; step++) {
        const plane = rank === 3 ? Math.floor(random() * spatial[0]) : 0;
        labels[(plane * H + h) * W + w] = label;
        if (random() < 0.5) w = Math.min(W - 1, Math.max(0, w + (random() < 0.5 ? -1 : 1)));
        else h = Math.min(H - 1, Math.max(0, h + (random() < 0.5 ? -1 : 1)));
      }
    }
    for (let s = 0; s < S; s++) {
      const logits = Array.from({ length: C }, (_, c) => 2 * random() + (c === labels[s] ? 1.5 : 0));
      const max = Math.max(...logits);
      const exp = logits.map((z) => Math.exp(z - max));
      const total = exp.reduce((a, e) => a + e, 0);
      for (let c = 0; c < C; c++) {
        const p = exp[c] / total;
        pred[(b * C + c) * S + s] = quantised ? Math.round(p * 8) / 8 : p;
        target[(b * C + c) * S + s] = c === labels[s] ? 1 : 0;
      }
    }
  }
  const layoutShape = channelsFirst ? shape : [B, ...spatial, C];
  const options: ClDiceOptions = {
    formula: 'cl-dice',
    shape: layoutShape,
    layout: channelsFirst ? 'channels-first' : 'channels-last',
    skeletonIterations: Math.floor(random() * 5),
    alpha: pick([0, 0.3, 0.5, 1, 1]),
    smooth: pick([0.001, 0.5, 1, 2]),
  };
  const toLayout = (x: Float64Array) => Float32Array.from(channelsFirst ? x : moveChannels(x, B, C, S));
  return { options, shape, pred: toLayout(pred), target: toLayout(target) };
}

/** The reference on a drawn case, gradient in the case's layout. */
function referenceOf(d: Drawn) {
  const [B, C, ...spatial] = d.shape;
  const S = spatial.reduce((a, b) => a * b, 1);
  const channelsFirst = d.options.layout === 'channels-first';
  const first = (x: Float32Array) => (channelsFirst ? x : moveChannels(x, B, C, S, true));
  const r = clDiceReference(first(d.pred), first(d.target), {
    shape: d.shape,
    iterations: d.options.skeletonIterations,
    smooth: d.options.smooth,
    alpha: d.options.alpha,
  });
  return { ...r, grad: channelsFirst ? r.grad : moveChannels(r.grad, B, C, S) };
}

describe('cl-dice GPU vs float64 reference (seeded fuzz)', () => {
  for (let seed = 1; seed <= 32; seed++) {
    const d = draw(seed * 7919);
    it(`seed ${seed}: ${d.options.layout} [${d.options.shape}] K=${d.options.skeletonIterations} alpha=${d.options.alpha} smooth=${d.options.smooth}`, async () => {
      await withValidation(gpu.device, async () => {
        const loss = await gpu.engine.loss(d.options);
        const r = await loss.compute(d.pred, d.target, { grad: true });
        const e = referenceOf(d);
        expectValueClose(r.loss, e.loss, 'loss');
        expectValueClose(r.tprec, e.tprec, 'tprec');
        expectValueClose(r.tsens, e.tsens, 'tsens');
        expectGradClose(r.grad!, e.grad, 'gradient');
        loss.destroy();
      });
    });
  }
});

describe('cl-dice binding windows', () => {
  // maxBindingBytes 4096 = 1024 f32: every pass runs in many windows of whole volumes (samples).
  const cases: ClDiceOptions[] = [
    { formula: 'cl-dice', shape: [4, 3, 12, 16], layout: 'channels-first', skeletonIterations: 3, alpha: 0.5 },
    { formula: 'cl-dice', shape: [4, 2, 4, 5, 9], layout: 'channels-first', skeletonIterations: 2 },
    { formula: 'cl-dice', shape: [8, 7, 9, 3], layout: 'channels-last', skeletonIterations: 1, alpha: 0.3 },
  ];
  for (const options of cases) {
    it(`${options.layout} [${options.shape}]: bitwise the same as one window`, async () => {
      const small = await DiceEngine.create(gpu.device, { maxBindingBytes: 4096 });
      try {
        await withValidation(gpu.device, async () => {
          const random = mulberry32(options.shape.length * 101 + options.shape[1]);
          const n = options.shape.reduce((a, b) => a * b, 1);
          const pred = Float32Array.from({ length: n }, () => Math.round(random() * 16) / 16);
          const target = Float32Array.from({ length: n }, () => (random() < 0.3 ? 1 : 0));
          const one = await (await gpu.engine.loss(options)).compute(pred, target, { grad: true });
          const windowed = await (await small.loss(options)).compute(pred, target, { grad: true });
          expect(windowed.loss).toBe(one.loss);
          expect(Buffer.from(windowed.grad!.buffer).equals(Buffer.from(one.grad!.buffer))).toBe(true);
          expect(one.grad!.some((g) => g !== 0)).toBe(true);
        });
      } finally {
        small.destroy();
      }
    });
  }

  it('encode() on caller buffers at 256-byte offsets, windowed, writes what compute() returns', async () => {
    const options = cases[0];
    const small = await DiceEngine.create(gpu.device, { maxBindingBytes: 4096 });
    try {
      await withValidation(gpu.device, async () => {
        const n = options.shape.reduce((a, b) => a * b, 1);
        const random = mulberry32(99);
        const pred = Float32Array.from({ length: n }, () => random());
        const target = Float32Array.from({ length: n }, () => (random() < 0.2 ? 1 : 0));
        const atOffset = (data: Float32Array) => {
          const padded = new Float32Array(64 + n);
          padded.set(data, 64);
          return { buffer: createBufferFrom(gpu.device, padded), offset: 256 };
        };
        const loss = await small.loss(options);
        const grad = { buffer: createEmptyBuffer(gpu.device, 256 + n * 4), offset: 256 };
        const lossOut = { buffer: createEmptyBuffer(gpu.device, 512), offset: 256 };
        const encoder = gpu.device.createCommandEncoder();
        loss.encode(encoder, { pred: atOffset(pred), target: atOffset(target), loss: lossOut, grad });
        gpu.device.queue.submit([encoder.finish()]);
        const gotGrad = new Float32Array(await readBuffer(gpu.device, grad.buffer), 256, n);
        const gotLoss = new Float32Array(await readBuffer(gpu.device, lossOut.buffer), 256, 1)[0];
        const expected = await loss.compute(pred, target, { grad: true });
        expect(gotLoss).toBe(expected.loss);
        expect(Array.from(gotGrad)).toEqual(Array.from(expected.grad!));
      });
    } finally {
      small.destroy();
    }
  });

  it('a volume larger than one binding is BINDING_TOO_LARGE, naming the fix', async () => {
    const small = await DiceEngine.create(gpu.device, { maxBindingBytes: 4096 });
    try {
      await expect(
        small.loss({ formula: 'cl-dice', shape: [1, 2, 40, 40], layout: 'channels-first' }),
      ).rejects.toMatchObject({
        code: 'BINDING_TOO_LARGE',
        message: expect.stringContaining('(sample, class) volumes'),
      });
      await expect(small.loss({ formula: 'cl-dice', shape: [1, 24, 24, 2] })).rejects.toMatchObject({
        code: 'BINDING_TOO_LARGE',
        message: expect.stringContaining("layout 'channels-first'"),
      });
    } finally {
      small.destroy();
    }
  });
});

describe('cl-dice on thin and empty structures', () => {
  const [H, W] = [9, 11];
  const line = new Float32Array(2 * H * W);
  for (let w = 1; w < W - 1; w++) line[H * W + 4 * W + w] = 1; // class 1, row 4
  for (let i = 0; i < H * W; i++) line[i] = 1 - line[H * W + i];
  const options: ClDiceOptions = {
    formula: 'cl-dice',
    shape: [1, 2, H, W],
    layout: 'channels-first',
    skeletonIterations: 3,
  };

  it('a 1-voxel-thin line predicted exactly: skeletons are the line, loss 0', async () => {
    await withValidation(gpu.device, async () => {
      const loss = await gpu.engine.loss(options);
      const skeleton = await loss.targetSkeleton(line);
      expect(Array.from(skeleton.subarray(H * W))).toEqual(Array.from(line.subarray(H * W)));
      const r = await loss.compute(line, line, { grad: true });
      expect(r.loss).toBe(0);
      expectGradClose(r.grad!, clDiceReference(line, line, { shape: [1, 2, H, W], iterations: 3 }).grad, 'gradient');
    });
  });

  it('an empty target and a thin prediction, and the reverse, match the reference', async () => {
    const empty = new Float32Array(2 * H * W).fill(0);
    for (let i = 0; i < H * W; i++) empty[i] = 1;
    const soft = line.map((v) => 0.1 + 0.8 * v);
    await withValidation(gpu.device, async () => {
      const loss = await gpu.engine.loss({ ...options, alpha: 0.5 });
      for (const [pred, target] of [
        [soft, empty],
        [empty, soft],
        [empty, empty],
      ]) {
        const r = await loss.compute(pred, target, { grad: true });
        const e = clDiceReference(pred, target, { shape: [1, 2, H, W], iterations: 3, alpha: 0.5 });
        expectValueClose(r.loss, e.loss, 'loss');
        expectGradClose(r.grad!, e.grad, 'gradient');
      }
    });
  });
});

describe('cl-dice target skeleton and determinism', () => {
  const d = draw(4242);
  it('targetSkeleton() is the reference soft skeleton (the background class, in no sum, 0); passing it gives bitwise the same result', async () => {
    await withValidation(gpu.device, async () => {
      const loss = await gpu.engine.loss({ ...d.options, layout: 'channels-first', shape: d.shape });
      const first =
        d.options.layout === 'channels-first'
          ? d.target
          : moveChannels(d.target, d.shape[0], d.shape[1], d.target.length / (d.shape[0] * d.shape[1]), true);
      const target = Float32Array.from(first);
      const skeleton = await loss.targetSkeleton(target);
      const expected = softSkeleton(target, d.shape, d.options.skeletonIterations);
      // Channels-first: class 0 is the first S elements of each sample.
      const [B, C] = d.shape;
      const S = target.length / (B * C);
      const foreground = (i: number) => Math.floor(i / S) % C !== 0;
      expect(Array.from(skeleton)).toEqual(Array.from(expected, (v, i) => (foreground(i) ? Math.fround(v) : 0)));
      const pred = Float32Array.from(target, (t) => 0.2 + 0.6 * t);
      const plain = await loss.compute(pred, target, { grad: true });
      const given = await loss.compute(pred, target, { grad: true, targetSkeleton: skeleton });
      expect(given.loss).toBe(plain.loss);
      expect(Array.from(given.grad!)).toEqual(Array.from(plain.grad!));
    });
  });

  it('repeated runs are bitwise identical', async () => {
    await withValidation(gpu.device, async () => {
      const loss = await gpu.engine.loss(d.options);
      const runs = [];
      for (let i = 0; i < 3; i++) runs.push(await loss.compute(d.pred, d.target, { grad: true }));
      for (const r of runs.slice(1)) {
        expect(r.loss).toBe(runs[0].loss);
        expect(Buffer.from(r.grad!.buffer).equals(Buffer.from(runs[0].grad!.buffer))).toBe(true);
      }
    });
  });
});

describe('cl-dice options and inputs', () => {
  const base: ClDiceOptions = { formula: 'cl-dice', shape: [1, 8, 8, 2] };
  it.each([
    [{ skeletonIterations: -1 }, 'INVALID_OPTION'],
    [{ skeletonIterations: 1.5 }, 'INVALID_OPTION'],
    [{ alpha: 1.5 }, 'INVALID_OPTION'],
    [{ smooth: 0 }, 'INVALID_OPTION'],
    [{ shape: [1, 8, 2] }, 'INVALID_SHAPE'],
    [{ shape: [1, 2, 2, 2, 2, 2] }, 'INVALID_SHAPE'],
    [{ skeletonIterationz: 2 }, 'UNKNOWN_OPTION'],
  ])('%j is %s', async (extra, code) => {
    await expect(gpu.engine.loss({ ...base, ...(extra as object) } as ClDiceOptions)).rejects.toMatchObject({ code });
  });

  it('NaN in pred is NON_FINITE_INPUT, not a NaN loss', async () => {
    const loss = await gpu.engine.loss(base);
    const pred = new Float32Array(128).fill(0.5);
    pred[3] = Number.NaN;
    await expect(loss.compute(pred, new Float32Array(128))).rejects.toBeInstanceOf(WgslDiceError);
    await expect(loss.compute(pred, new Float32Array(128))).rejects.toMatchObject({ code: 'NON_FINITE_INPUT' });
  });
});

describe('cl-dice on the one runtime', () => {
  const options: ClDiceOptions = { formula: 'cl-dice', shape: [2, 9, 11, 2], skeletonIterations: 2, alpha: 0.5 };
  const n = 2 * 9 * 11 * 2;
  const random = mulberry32(5);
  const pred = Float32Array.from({ length: n }, () => Math.round(random() * 8) / 8);
  const target = Float32Array.from({ length: n }, (_, i) => (i % 2 === 1 && random() < 0.3 ? 1 : 0));

  it('describe() prints the target-skeleton group, the forward and the backward passes', async () => {
    const loss = await gpu.engine.loss(options);
    const text = loss.describe();
    // Lavapipe's software plan: barrier-free steps; a GPU plan: one tiled pass a level.
    expect(text).toMatch(/target erode 0 \(target-skeleton, without targetSkeleton\): cldice_erode /);
    const onGpu = await DiceEngine.create(gpu.device, { deviceClass: 'gpu' });
    const tiled = (await onGpu.loss(options)).describe();
    expect(tiled).toMatch(/target level 0 \(target-skeleton, without targetSkeleton\): cldice_level /);
    expect(tiled).toMatch(/backward level 3 \(with grad\): cldice_level_backward \[.*TOP=1/);
    onGpu.destroy();
    expect(text).toMatch(/finalize: cldice_finalize, .*status<-status faults<-faults/);
    expect(text).toMatch(/\(with grad\): cldice_/);
    loss.destroy();
  });

  it('into an open compute pass, and with timestamps: what compute() returns; encodeTargetSkeleton too', async () => {
    await withValidation(gpu.device, async () => {
      const loss = await gpu.engine.loss(options);
      const expected = await loss.compute(pred, target, { grad: true });
      const skeleton = await loss.targetSkeleton(target);
      const [p, t] = [createBufferFrom(gpu.device, pred), createBufferFrom(gpu.device, target)];
      const [out, grad, skel] = [
        createEmptyBuffer(gpu.device, 16),
        createEmptyBuffer(gpu.device, n * 4),
        createEmptyBuffer(gpu.device, n * 4),
      ];
      const encoder = gpu.device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      loss.encodeTargetSkeleton(pass, { target: t, skeleton: skel });
      loss.encode(pass, { pred: p, target: t, loss: out, grad, targetSkeleton: skel });
      pass.end();
      gpu.device.queue.submit([encoder.finish()]);
      expect(new Float32Array(await readBuffer(gpu.device, out))[0]).toBe(expected.loss);
      expect(Array.from(new Float32Array(await readBuffer(gpu.device, grad)))).toEqual(Array.from(expected.grad!));
      expect(Array.from(new Float32Array(await readBuffer(gpu.device, skel)))).toEqual(Array.from(skeleton));

      if (!gpu.device.features.has('timestamp-query'))
        throw new Error('this test device must offer timestamp-query (lavapipe does)');
      const querySet = gpu.device.createQuerySet({ type: 'timestamp', count: 2 });
      const timed = gpu.device.createCommandEncoder();
      const timestampWrites = { querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 };
      loss.encode(timed, { pred: p, target: t, loss: out }, { timestampWrites });
      gpu.device.queue.submit([timed.finish()]);
      expect(new Float32Array(await readBuffer(gpu.device, out))[0]).toBe(expected.loss);
      for (const b of [p, t, out, grad, skel]) b.destroy();
      querySet.destroy();
      loss.destroy();
    });
  });
});

describe('cl-dice bad input (issue 21)', () => {
  // Channels-last [1, 8, 8, 2]: even elements are the background class, odd the foreground.
  const options: ClDiceOptions = { formula: 'cl-dice', shape: [1, 8, 8, 2], skeletonIterations: 1 };
  const n = 128;
  const pred = () => Float32Array.from({ length: n }, (_, i) => (i % 2 ? 0.25 : 0.75));
  const target = () => Float32Array.from({ length: n }, (_, i) => (i % 2 ? +(i % 7 === 0) : 1 - +(i % 7 === 0)));

  it('NaN or infinity in the background channel of pred or target is NON_FINITE_INPUT naming the input, count and first element', async () => {
    const loss = await gpu.engine.loss(options);
    const p = pred();
    p[4] = Number.NaN;
    await expect(loss.compute(p, target(), { grad: true })).rejects.toMatchObject({
      code: 'NON_FINITE_INPUT',
      message: expect.stringContaining('1 pred element(s) (first at element 4)'),
    });
    const t = target();
    t[10] = Number.NEGATIVE_INFINITY;
    t[6] = Number.POSITIVE_INFINITY;
    await expect(loss.compute(pred(), t)).rejects.toMatchObject({
      code: 'NON_FINITE_INPUT',
      message: expect.stringContaining('2 target element(s) (first at element 6)'),
    });
    // The foreground check names its input and element too.
    const q = pred();
    q[9] = Number.POSITIVE_INFINITY;
    await expect(loss.compute(q, target())).rejects.toMatchObject({
      message: expect.stringContaining('1 pred element(s) (first at element 9)'),
    });
    loss.destroy();
  });

  it('encode() reports them in statusBuffer, read with readStatus()', async () => {
    await withValidation(gpu.device, async () => {
      const loss = await gpu.engine.loss(options);
      const p = pred();
      p[2] = Number.NaN;
      const t = target();
      t[0] = Number.NaN;
      const buffers = {
        pred: createBufferFrom(gpu.device, p),
        target: createBufferFrom(gpu.device, t),
        loss: createEmptyBuffer(gpu.device, 16),
      };
      const encoder = gpu.device.createCommandEncoder();
      loss.encode(encoder, buffers);
      gpu.device.queue.submit([encoder.finish()]);
      expect(await loss.readStatus()).toMatchObject({
        nonFinite: 1,
        firstNonFiniteElement: 2,
        nonFiniteTarget: 1,
        firstNonFiniteTargetElement: 0,
      });
      expect(loss.statusBuffer.size).toBeGreaterThanOrEqual(48);
      // A clean run clears it.
      gpu.device.queue.writeBuffer(buffers.pred, 0, pred());
      gpu.device.queue.writeBuffer(buffers.target, 0, target());
      const again = gpu.device.createCommandEncoder();
      loss.encode(again, buffers);
      gpu.device.queue.submit([again.finish()]);
      expect(await loss.readStatus()).toMatchObject({ nonFinite: 0, nonFiniteTarget: 0 });
      for (const b of Object.values(buffers)) b.destroy();
      loss.destroy();
    });
  });

  it('compute() copies host arrays at the call: refilling them afterwards changes nothing', async () => {
    const loss = await gpu.engine.loss(options);
    const expected = await loss.compute(pred(), target(), { grad: true });
    const [p, t] = [pred(), target()];
    const pending = loss.compute(p, t, { grad: true });
    p.fill(0);
    t.fill(Number.NaN);
    const r = await pending;
    expect(r.loss).toBe(expected.loss);
    expect(Array.from(r.grad!)).toEqual(Array.from(expected.grad!));
    loss.destroy();
  });

  it.each([[1], ['yes'], [null]])('grad: %j is INVALID_OPTION, not ignored', async (grad) => {
    const loss = await gpu.engine.loss(options);
    await expect(loss.compute(pred(), target(), { grad } as never)).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringMatching(/grad must be true or false/),
    });
    loss.destroy();
  });

  it.each([
    [{ skeletonIterations: null }, /skeletonIterations must be an integer/],
    [{ smooth: 1e-46 }, /smallest normal/],
    [{ smooth: 1e39 }, /overflow/],
  ])('%j is INVALID_OPTION with its reason', async (extra, reason) => {
    await expect(gpu.engine.loss({ ...options, ...(extra as object) } as ClDiceOptions)).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringMatching(reason),
    });
  });

  it("the loss's own statsBuffer or statusBuffer as an output is BUFFER_OVERLAP, before anything is recorded", async () => {
    await withValidation(gpu.device, async () => {
      const loss = await gpu.engine.loss(options);
      const [p, t] = [createBufferFrom(gpu.device, pred()), createBufferFrom(gpu.device, target())];
      const encoder = gpu.device.createCommandEncoder();
      expect(() => loss.encode(encoder, { pred: p, target: t, loss: loss.statsBuffer })).toThrow(
        expect.objectContaining({ code: 'BUFFER_OVERLAP' }),
      );
      expect(() => loss.encode(encoder, { pred: p, target: t, loss: loss.statusBuffer })).toThrow(
        expect.objectContaining({ code: 'BUFFER_OVERLAP' }),
      );
      expect(() => loss.encodeTargetSkeleton(encoder, { target: t, skeleton: loss.statsBuffer })).toThrow(
        expect.objectContaining({ code: 'BUFFER_OVERLAP' }),
      );
      expect(() => loss.encodeTargetSkeleton(encoder, { target: t, skeleton: t })).toThrow(
        expect.objectContaining({ code: 'BUFFER_OVERLAP' }),
      );
      gpu.device.queue.submit([encoder.finish()]);
      for (const b of [p, t]) b.destroy();
      loss.destroy();
    });
  });

  it('thousands of tiny volumes: the reference, and bitwise the same in binding windows', async () => {
    // Planned by elements: runs of volumes to a workgroup (see the unit tier), not one each.
    const tiny: ClDiceOptions = { formula: 'cl-dice', shape: [1024, 4, 4, 2], skeletonIterations: 2, alpha: 0.5 };
    const d = { options: tiny, shape: [1024, 2, 4, 4], pred: new Float32Array(0), target: new Float32Array(0) };
    const random = mulberry32(21);
    d.pred = Float32Array.from({ length: 1024 * 32 }, () => Math.round(random() * 8) / 8);
    d.target = Float32Array.from({ length: 1024 * 32 }, (_, i) => (i % 2 ? +(random() < 0.4) : 0));
    const small = await DiceEngine.create(gpu.device, { maxBindingBytes: 4096 });
    try {
      await withValidation(gpu.device, async () => {
        const one = await (await gpu.engine.loss(tiny)).compute(d.pred, d.target, { grad: true });
        const e = referenceOf(d);
        expectValueClose(one.loss, e.loss, 'loss');
        expectGradClose(one.grad!, e.grad, 'gradient');
        const windowed = await (await small.loss(tiny)).compute(d.pred, d.target, { grad: true });
        expect(windowed.loss).toBe(one.loss);
        expect(Buffer.from(windowed.grad!.buffer).equals(Buffer.from(one.grad!.buffer))).toBe(true);
      });
    } finally {
      small.destroy();
    }
  });
});

describe('cl-dice GPU plans (tiles: one pass a level) against software plans (steps)', () => {
  // Lavapipe runs the software plans by default; deviceClass 'gpu' plans the tiled passes a GPU
  // runs. Both add the same terms in the same order: bitwise the same loss and gradient, so the
  // fuzz, MONAI and window checks above carry over to the tiled passes.
  const tiled = useTestEngine({ deviceClass: 'gpu' });
  const cases: { name: string; d: Drawn }[] = Array.from({ length: 12 }, (_, i) => {
    const d = draw((i + 1) * 104729);
    return { name: `${d.options.layout} [${d.options.shape}] K=${d.options.skeletonIterations}`, d };
  });
  const random = mulberry32(77);
  const tiny = (shape: number[], layout: ClDiceOptions['layout'], skeletonIterations: number) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const options: ClDiceOptions = { formula: 'cl-dice', shape, layout, skeletonIterations, alpha: 0.5 };
    return {
      name: `${layout} [${shape}] K=${skeletonIterations}`,
      d: {
        options,
        shape,
        pred: Float32Array.from({ length: n }, () => Math.round(random() * 8) / 8),
        target: Float32Array.from({ length: n }, () => +(random() < 0.4)),
      },
    };
  };
  cases.push(
    tiny([300, 3, 5, 2], 'channels-last', 2),
    tiny([64, 3, 2, 3, 4], 'channels-first', 1),
    tiny([2, 1, 37, 19], 'channels-first', 3),
    tiny([1, 9, 40, 21, 2], 'channels-last', 2),
  );
  for (const { name, d } of cases) {
    it(`${name}: bitwise the same`, async () => {
      await withValidation(gpu.device, async () => {
        const software = await (await gpu.engine.loss(d.options)).compute(d.pred, d.target, { grad: true });
        const loss = await tiled.engine.loss(d.options);
        expect(loss.describe()).toMatch(/cldice_level_backward/);
        const r = await loss.compute(d.pred, d.target, { grad: true });
        expect(r.loss).toBe(software.loss);
        expect(Buffer.from(r.grad!.buffer).equals(Buffer.from(software.grad!.buffer))).toBe(true);
        loss.destroy();
      });
    });
  }

  it('in 4 KiB binding windows, and its target skeleton, bitwise the same too', async () => {
    const small = await DiceEngine.create(gpu.device, { maxBindingBytes: 4096, deviceClass: 'gpu' });
    try {
      await withValidation(gpu.device, async () => {
        for (const options of [
          { formula: 'cl-dice', shape: [4, 3, 12, 16], layout: 'channels-first', skeletonIterations: 3 },
          { formula: 'cl-dice', shape: [8, 7, 9, 3], skeletonIterations: 1, alpha: 0.3 },
        ] as ClDiceOptions[]) {
          const n = options.shape.reduce((a, b) => a * b, 1);
          const pred = Float32Array.from({ length: n }, () => Math.round(random() * 16) / 16);
          const target = Float32Array.from({ length: n }, () => +(random() < 0.3));
          const software = await gpu.engine.loss(options);
          const windowed = await small.loss(options);
          const [a, b] = [
            await software.compute(pred, target, { grad: true }),
            await windowed.compute(pred, target, { grad: true }),
          ];
          expect(b.loss).toBe(a.loss);
          expect(Buffer.from(b.grad!.buffer).equals(Buffer.from(a.grad!.buffer))).toBe(true);
          expect(Array.from(await windowed.targetSkeleton(target))).toEqual(
            Array.from(await software.targetSkeleton(target)),
          );
        }
      });
    } finally {
      small.destroy();
    }
  });
});
