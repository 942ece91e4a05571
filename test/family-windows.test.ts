// Binding windows for the loss family (engine.loss): tensors larger than one storage binding
// are processed in several dispatches, each binding an aligned voxel range of every windowed
// tensor (channels-last), or whole samples (channels-first). The reduction's workgroups and
// their order do not depend on the windows, so a narrow-window engine must give results bitwise
// identical to the default one; a real channels-last tensor over lavapipe's 128 MiB binding
// limit must match the float64 reference.
//
// Both engines use workgroupSize 64: at 256 threads the smallest reduction chunk lavapipe's
// profile allows (256 threads x 64 rows of 4 bytes) already fills a 64 KiB window, so the
// windowed plan would need smaller chunks, a different summation order.
import { describe, expect, it } from 'vitest';
import { DiceEngine, WgslDiceError, type LossOptions } from '../src/index.js';
import type { FamilyLoss, LossResult } from '../src/losses/family.js';
import { familyReference } from '../src/reference/index.js';
import {
  createBufferFrom,
  createEmptyBuffer,
  expectClose,
  mulberry32,
  readBuffer,
  withValidation,
} from './helpers/gpu.js';
import { useTestEngine } from './helpers/test-engine.js';
import { LOSS_TOL, RTOL } from './tolerance.js';

const WINDOW_BYTES = 64 * 1024;
const GRID = { workgroupSize: 64, targetWorkgroups: 64 };

const whole = useTestEngine(GRID);
const windowed = useTestEngine({ ...GRID, maxBindingBytes: WINDOW_BYTES });

function dimsOf(o: LossOptions) {
  const channelsFirst = o.layout === 'channels-first';
  const d = o.shape;
  const B = d[0];
  const C = channelsFirst ? d[1] : d[d.length - 1];
  const S = (channelsFirst ? d.slice(2) : d.slice(1, -1)).reduce((a, b) => a * b, 1);
  return { B, C, S, channelsFirst };
}

function makeInputs(o: LossOptions, seed: number, withMask: boolean) {
  const random = mulberry32(seed);
  const { B, C, S, channelsFirst } = dimsOf(o);
  const n = B * C * S;
  const pred = Float32Array.from({ length: n }, () =>
    (o.activation ?? 'none') === 'none' ? random() : random() * 6 - 3,
  );
  const kind = o.target ?? 'dense';
  let target: Float32Array | Uint8Array | Uint16Array | Uint32Array;
  if (kind === 'dense') {
    target = new Float32Array(n);
    for (let b = 0; b < B; b++) {
      for (let s = 0; s < S; s++) {
        const label = Math.floor(random() * C);
        target[channelsFirst ? (b * C + label) * S + s : (b * S + s) * C + label] = 1;
      }
    }
  } else {
    const Type = kind === 'u8' ? Uint8Array : kind === 'u16' ? Uint16Array : Uint32Array;
    target = new Type(B * S);
    for (let v = 0; v < B * S; v++) {
      target[v] = o.ignoreIndex !== undefined && random() < 0.15 ? o.ignoreIndex : Math.floor(random() * C);
    }
  }
  const maskLength = o.maskShape === 'shared' ? S : B * S;
  const mask = withMask
    ? Float32Array.from({ length: maskLength }, () => (random() < 0.3 ? 0 : random() < 0.5 ? 1 : random()))
    : undefined;
  return { pred, target, mask };
}

const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

function expectBitwiseEqual(a: LossResult, b: LossResult): void {
  expect(Object.is(a.loss, b.loss)).toBe(true);
  for (const key of ['diceLoss', 'crossEntropy', 'focal'] as const) expect(Object.is(a[key], b[key]), key).toBe(true);
  for (const key of Object.keys(a.groups) as (keyof LossResult['groups'])[]) {
    expect(bits(a.groups[key]).equals(bits(b.groups[key])), `groups.${key}`).toBe(true);
  }
  expect(a.pairFocal === undefined).toBe(b.pairFocal === undefined);
  if (a.pairFocal) expect(bits(a.pairFocal).equals(bits(b.pairFocal!)), 'pairFocal').toBe(true);
  expect(bits(a.grad!).equals(bits(b.grad!)), 'grad').toBe(true);
}

function expectWindowsFit(loss: FamilyLoss): void {
  const { bytesPerVoxel, forward, backward } = loss.plan;
  for (const w of [...forward.windows, ...backward.windows]) {
    expect(w.elementCount * bytesPerVoxel).toBeLessThanOrEqual(WINDOW_BYTES);
    expect(w.elementBase % 256).toBe(0);
  }
}

describe('loss family binding windows: bitwise equal to one window', () => {
  const cases: [string, LossOptions, boolean][] = [
    [
      'softmax + u8 labels + ignoreIndex, channels-last',
      { shape: [2, 24, 32, 32, 4], activation: 'softmax', target: 'u8', ignoreIndex: 255 },
      false,
    ],
    [
      'sigmoid, dense, channels-first, B = 3 in whole-sample windows',
      { shape: [3, 6, 10, 10, 10], layout: 'channels-first', activation: 'sigmoid' },
      false,
    ],
    [
      "mask 'weight' per sample, sigmoid, odd class count",
      { shape: [2, 20, 20, 20, 3], activation: 'sigmoid', mask: 'weight' },
      true,
    ],
    [
      'softmax focal + weighted cross-entropy, u16 labels',
      {
        shape: [2, 16, 16, 16, 5],
        activation: 'softmax',
        target: 'u16',
        crossEntropy: { lambda: 0.5, weights: [1, 2, 1, 0.5, 1] },
        focal: { useSoftmax: true, gamma: 1.5, alpha: 0.25 },
      },
      false,
    ],
    [
      'sigmoid focal + binary cross-entropy, channels-first, mask on logits per sample',
      {
        shape: [3, 2, 15, 20, 20],
        layout: 'channels-first',
        activation: 'sigmoid',
        mask: 'logits',
        crossEntropy: { posWeight: 2 },
        focal: { gamma: 2, alpha: 0.3 },
      },
      true,
    ],
    [
      'generalized dice, softmax, u32 labels',
      { shape: [2, 30, 30, 30, 3], activation: 'softmax', target: 'u32', formula: 'generalized-dice' },
      false,
    ],
  ];

  it.each(cases)('%s', async (_name, options, withMask) => {
    const { pred, target, mask } = makeInputs(
      options,
      options.shape.reduce((a, b) => a * b, 1),
      withMask,
    );
    await withValidation(whole.device, async () => {
      const split = await windowed.engine.loss(options);
      const single = await whole.engine.loss(options);
      try {
        // Same reduction grid, different windows: only then is bitwise equality the claim.
        expect(split.plan.forward.chunks).toBe(single.plan.forward.chunks);
        expect(split.plan.forward.voxelsPerChunk).toBe(single.plan.forward.voxelsPerChunk);
        expect(single.plan.forward.windows).toHaveLength(1);
        expect(single.plan.backward.windows).toHaveLength(1);
        expect(split.plan.forward.windows.length).toBeGreaterThan(1);
        expect(split.plan.backward.windows.length).toBeGreaterThan(1);
        expectWindowsFit(split);
        const a = await split.compute(pred, target, { grad: true, mask });
        const b = await single.compute(pred, target, { grad: true, mask });
        expectBitwiseEqual(a, b);
        const want = familyReference(pred, target, options, mask);
        expectClose([a.loss], [want.loss], LOSS_TOL, 'loss');
      } finally {
        split.destroy();
        single.destroy();
      }
    });
  });

  it('bad labels and non-finite inputs in a late window are reported at their global index', async () => {
    const options: LossOptions = { shape: [2, 24, 32, 32, 4], activation: 'softmax', target: 'u8' };
    const { pred, target } = makeInputs(options, 5, false);
    target[40_000] = 9;
    target[45_001] = 7;
    pred[4 * 30_000 + 2] = NaN;
    const errors = await withValidation(whole.device, async () => {
      const losses = [await windowed.engine.loss(options), await whole.engine.loss(options)];
      try {
        const labelErrors = await Promise.all(
          losses.map((l) =>
            l
              .compute(
                pred.map((x) => (Number.isNaN(x) ? 0 : x)),
                target,
              )
              .catch((e: unknown) => e),
          ),
        );
        const nanErrors = await Promise.all(
          losses.map((l) =>
            l
              .compute(
                pred,
                target.map((x) => (x > 3 ? 0 : x)),
              )
              .catch((e: unknown) => e),
          ),
        );
        expect(losses[0].plan.forward.windows.length).toBeGreaterThan(1);
        return [labelErrors, nanErrors];
      } finally {
        for (const l of losses) l.destroy();
      }
    });
    const [labelErrors, nanErrors] = errors as [WgslDiceError[], WgslDiceError[]];
    for (const e of labelErrors) {
      expect(e).toBeInstanceOf(WgslDiceError);
      expect(e.code).toBe('LABEL_OUT_OF_RANGE');
      expect(e.message).toMatch(/2 label-map voxel\(s\).*first at voxel 40000/);
    }
    for (const e of nanErrors) {
      expect(e).toBeInstanceOf(WgslDiceError);
      expect(e.code).toBe('NON_FINITE_INPUT');
      expect(e.message).toContain(String(4 * 30_000 + 2));
    }
    expect(labelErrors[0].message).toBe(labelErrors[1].message);
    expect(nanErrors[0].message).toBe(nanErrors[1].message);
  });

  it('encode: bind groups are cached per window, so a steady-state encode creates no GPU object', async () => {
    // Two windows per voxel-major pass and two for the reduction: 7 bind groups in all.
    const options: LossOptions = { shape: [1, 16, 16, 24, 4], activation: 'softmax', target: 'u8' };
    const { pred, target } = makeInputs(options, 11, false);
    await withValidation(whole.device, async () => {
      const loss = await windowed.engine.loss(options);
      expect(loss.plan.forward.windows).toHaveLength(2);
      expect(loss.plan.backward.windows).toHaveLength(2);
      const buffers = {
        pred: createBufferFrom(whole.device, pred),
        target: createBufferFrom(whole.device, target),
        loss: createEmptyBuffer(whole.device, 4),
        grad: createEmptyBuffer(whole.device, pred.byteLength),
      };
      try {
        const first = whole.device.createCommandEncoder();
        loss.encode(first, buffers);
        whole.device.queue.submit([first.finish()]);
        const encoder = whole.device.createCommandEncoder();
        const original = whole.device.createBindGroup;
        let created = 0;
        whole.device.createBindGroup = function (this: GPUDevice, descriptor: GPUBindGroupDescriptor) {
          created++;
          return original.call(this, descriptor);
        };
        try {
          loss.encode(encoder, buffers);
        } finally {
          whole.device.createBindGroup = original;
        }
        expect(created).toBe(0);
        whole.device.queue.submit([encoder.finish()]);
        const want = await whole.engine.loss(options);
        try {
          const b = await want.compute(pred, target, { grad: true });
          expect(Object.is(new Float32Array(await readBuffer(whole.device, buffers.loss, 4))[0], b.loss)).toBe(true);
          expect(bits(new Float32Array(await readBuffer(whole.device, buffers.grad))).equals(bits(b.grad!))).toBe(true);
        } finally {
          want.destroy();
        }
      } finally {
        loss.destroy();
        for (const b of Object.values(buffers)) b.destroy();
      }
    });
  });

  it('a channels-first sample larger than a window is BINDING_TOO_LARGE, pointing to channels-last', async () => {
    const error = await windowed.engine
      .loss({ shape: [1, 4, 64, 64, 4], layout: 'channels-first', activation: 'softmax' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WgslDiceError);
    expect((error as WgslDiceError).code).toBe('BINDING_TOO_LARGE');
    expect((error as WgslDiceError).message).toMatch(
      /channels-first sample.*65536-byte binding window.*channels-last.*maxStorageBufferBindingSize/,
    );
    // The same volume channels-last is windowed by voxel ranges.
    const loss = await windowed.engine.loss({ shape: [1, 64, 64, 4, 4], activation: 'softmax' });
    expect(loss.plan.forward.windows.length).toBeGreaterThan(1);
    loss.destroy();
  });
});

describe('a real tensor over the 128 MiB binding limit', () => {
  it('softmax logits [1, 160, 256, 256, 4] with u8 labels match the float64 reference', async () => {
    const engine = await DiceEngine.create(whole.device);
    const options: LossOptions = { shape: [1, 160, 256, 256, 4], activation: 'softmax', target: 'u8' };
    const C = 4;
    const voxels = 160 * 256 * 256;
    const n = voxels * C;
    expect(n * 4).toBeGreaterThan(whole.device.limits.maxStorageBufferBindingSize);
    const random = mulberry32(1234);
    const pred = new Float32Array(n);
    for (let i = 0; i < n; i++) pred[i] = random() * 6 - 3;
    const labels = new Uint8Array(voxels);
    for (let v = 0; v < voxels; v++) labels[v] = Math.floor(random() * C);
    try {
      const { got, smooth } = await withValidation(whole.device, async () => {
        const loss = await engine.loss(options);
        try {
          expect(loss.plan.forward.windows.length).toBeGreaterThan(1);
          expect(loss.plan.backward.windows.length).toBeGreaterThan(1);
          const smooth = { n: loss.options.smoothNumerator, d: loss.options.smoothDenominator };
          return { got: await loss.compute(pred, labels, { grad: true }), smooth };
        } finally {
          loss.destroy();
        }
      });
      const want = familyReference(pred, labels, options);
      expectClose([got.loss], [want.loss], LOSS_TOL, 'loss');
      expectClose(got.groups.tp, want.tp, { atol: 1e-6, rtol: RTOL }, 'tp');

      // Gradient spot check, in float64 from the reference's sums: mean over the C groups of
      // 1 - (2 tp + sn) / (P + G + sd), through the softmax.
      const numer = Array.from({ length: C }, (_, c) => 2 * want.tp[c] + smooth.n);
      const denom = Array.from({ length: C }, (_, c) => want.predSum[c] + want.targetSum[c] + smooth.d);
      const expected: number[] = [];
      const actual: number[] = [];
      const pick = mulberry32(7);
      // Voxels in every window, near both ends of the volume and at random.
      const sample = [
        0,
        1,
        255,
        256,
        voxels - 1,
        voxels - 257,
        ...Array.from({ length: 250 }, () => Math.floor(pick() * voxels)),
      ];
      for (const v of sample) {
        const z = Array.from({ length: C }, (_, c) => pred[v * C + c]);
        const top = Math.max(...z);
        const e = z.map((x) => Math.exp(x - top));
        const total = e.reduce((a, b) => a + b, 0);
        const p = e.map((x) => x / total);
        const dp = p.map((_, c) => -((2 * (labels[v] === c ? 1 : 0)) / denom[c] - numer[c] / denom[c] ** 2) / C);
        const dot = p.reduce((acc, pc, c) => acc + pc * dp[c], 0);
        for (let c = 0; c < C; c++) {
          expected.push(p[c] * (dp[c] - dot));
          actual.push(got.grad![v * C + c]);
        }
      }
      const max = expected.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      expectClose(actual, expected, { atol: 1e-4 * max, rtol: 1e-4 }, 'gradient spot check');
    } finally {
      engine.destroy();
    }
  }, 300_000);
});
