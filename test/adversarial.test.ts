// Regression tests for the adversarial findings of issue 13 that live outside the kernels: each
// case failed (a silently wrong number, a raw TypeError/DOMException, or a call that was accepted)
// before the fix, and now gives the right number or a WgslDiceError with a stable code.
// Numbers are checked against the float64 references under test/tolerance.ts (LOSS_TOL:
// |a - e| <= 1e-6 + 1e-5·|e|). No case may leave a WebGPU error behind (useTestEngine checks after each).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  ClDiceLoss,
  DiceEngine,
  FamilyLoss,
  MAX_CLASSES,
  PRESET_CACHE_SIZE,
  WassersteinDiceLoss,
  type LossOptions,
  type WgslDiceErrorCode,
} from '../src/index.js';
import { requestNodeDevice, takeUncapturedErrors } from '../src/node/index.js';
import { diceReference, familyReference } from '../src/reference/index.js';
import { peerReference } from '../src/reference/peers/index.js';
import { createBufferFrom, createEmptyBuffer, expectClose, mulberry32, readBuffer } from './helpers/gpu.js';
import { LOSS_TOL } from './tolerance.js';
import { useTestEngine } from './helpers/test-engine.js';

const SHAPE = [2, 4, 4, 3];
const N = SHAPE.reduce((a, b) => a * b, 1);
const random = mulberry32(1313);
const pred = Float32Array.from({ length: N }, () => random());
const target = Float32Array.from({ length: N }, () => (random() < 0.4 ? 1 : 0));
const labels = Uint8Array.from({ length: N / 3 }, () => Math.floor(random() * 3));

const gpu = useTestEngine();

/** Awaits `call` and fails unless it rejects (or throws) a WgslDiceError with `code` and a message matching `message`. */
async function expectCode(call: () => unknown, code: WgslDiceErrorCode, message: RegExp): Promise<void> {
  let caught: unknown;
  try {
    await call();
  } catch (error) {
    caught = error;
  }
  expect(caught, 'the call should have failed').toBeDefined();
  expect((caught as Error).name, String(caught)).toBe('WgslDiceError');
  expect((caught as { code: string }).code, (caught as Error).message).toBe(code);
  expect((caught as Error).message).toMatch(message);
}

describe('options are read as own properties only', () => {
  it('inherited option values (a prototype, a polluted Object.prototype) do not change a loss', async () => {
    const options: LossOptions = { shape: SHAPE, formula: 'tversky' };
    const inherited = Object.assign(Object.create({ smoothNumerator: 1000, alpha: 5 }) as LossOptions, options);
    const proto = Object.prototype as Record<string, unknown>;
    proto.smoothDenominator = 1000;
    let pending: Promise<FamilyLoss>;
    try {
      pending = gpu.engine.loss(inherited); // options are read synchronously, before the first await
    } finally {
      delete proto.smoothDenominator;
    }
    const loss = await pending;
    try {
      const got = await loss.compute(pred, target);
      expectClose([got.loss], [familyReference(pred, target, options).loss], LOSS_TOL, 'loss with defaults');
    } finally {
      loss.destroy();
    }
  });

  it('an inherited epsilon does not change the seed loss', async () => {
    const options = { shape: SHAPE, reduce: 'per-class' as const };
    const dice = await gpu.engine.dice(Object.assign(Object.create({ epsilon: 1000 }), options));
    try {
      const got = await dice.compute(pred, target);
      expectClose(
        [got.loss],
        [diceReference(pred, target, options).loss],
        LOSS_TOL,
        'seed loss with the default epsilon',
      );
    } finally {
      dice.destroy();
    }
  });
});

describe('option values the kernels cannot hold in f32 are rejected up front', () => {
  const f32Cases: [string, () => unknown, WgslDiceErrorCode, RegExp][] = [
    [
      'smoothNumerator 1e-46 (f32 subnormal, flushed to 0)',
      () => gpu.engine.loss({ shape: SHAPE, smoothNumerator: 1e-46 }),
      'INVALID_OPTION',
      /smoothNumerator.*f32.*1e-46/,
    ],
    [
      'smoothDenominator 1e39 (above f32 max)',
      () => gpu.engine.loss({ shape: SHAPE, smoothDenominator: 1e39 }),
      'INVALID_OPTION',
      /smoothDenominator.*f32.*1e\+39/,
    ],
    [
      'logEps 1e-50',
      () => gpu.engine.loss({ shape: SHAPE, value: 'negative-log', logEps: 1e-50 }),
      'INVALID_OPTION',
      /logEps/,
    ],
    ['alpha 1e39', () => gpu.engine.loss({ shape: SHAPE, formula: 'tversky', alpha: 1e39 }), 'INVALID_OPTION', /alpha/],
    [
      'score field 1e39',
      () => gpu.engine.loss({ shape: SHAPE, score: { numTp: 1e39, denTp: 1, denFp: 1, denFn: 1 } }),
      'INVALID_OPTION',
      /score\.numTp/,
    ],
    [
      'class weight 1e39',
      () => gpu.engine.loss({ shape: SHAPE, weights: [1, 1e39, 1] }),
      'INVALID_WEIGHTS',
      /weights\[1\].*f32/,
    ],
    ['seed epsilon 1e-46', () => gpu.engine.dice({ shape: SHAPE, epsilon: 1e-46 }), 'INVALID_OPTION', /epsilon/],
    [
      'seed weight 1e39',
      () => gpu.engine.dice({ shape: SHAPE, reduce: 'per-class', weights: [1, 1e39, 1] }),
      'INVALID_WEIGHTS',
      /weights\[1\]/,
    ],
  ];
  it.each(f32Cases)('%s', (_, call, code, message) => expectCode(call, code, message));

  it('epsilon 0 with an empty prediction and target: compute() throws instead of returning NaN', async () => {
    const dice = await gpu.engine.dice({ shape: [2, 2, 2, 1], epsilon: 0 });
    try {
      const pred = Float32Array.from([0.5, 0.2, 0.9, 0.1, 0, 0, 0, 0]); // sample 1 is empty
      const target = Float32Array.from([1, 0, 1, 0, 0, 0, 0, 0]);
      await expectCode(
        () => dice.compute(pred, target),
        'INVALID_OPTION',
        /Dice group 1 has an empty prediction and target and epsilon's denominator is 0/,
      );
      // Non-empty groups with epsilon 0 stay valid: exact Dice.
      const full = Float32Array.from([0.5, 0.2, 0.9, 0.1, 0.3, 0.3, 0.3, 0.3]);
      const t = Float32Array.from([1, 0, 1, 0, 0, 1, 0, 0]);
      expectClose(
        [(await dice.compute(full, t)).loss],
        [diceReference(full, t, { shape: [2, 2, 2, 1], epsilon: 0 }).loss],
        LOSS_TOL,
        'epsilon 0 loss',
      );
    } finally {
      dice.destroy();
    }
  });

  it('epsilon { numerator: 0, denominator > 0 } stays valid and gives a finite loss on empty groups, not NaN', async () => {
    const options = { shape: [1, 2, 2, 1], epsilon: { numerator: 0, denominator: 1e-6 } };
    const dice = await gpu.engine.dice(options);
    try {
      const empty = new Float32Array(4);
      const got = await dice.compute(empty, empty);
      expect(got.loss).toBe(diceReference(empty, empty, options).loss);
      expect(Number.isFinite(got.loss)).toBe(true);
    } finally {
      dice.destroy();
    }
  });
});

describe('incomplete or ill-typed options', () => {
  const cases: [string, () => unknown, WgslDiceErrorCode, RegExp][] = [
    [
      'score missing a field',
      () => gpu.engine.loss({ shape: SHAPE, score: { numTp: 2, denTp: 2, denFp: 1 } as never }),
      'INVALID_OPTION',
      /score\.denFn is missing/,
    ],
    [
      'metric threshold NaN',
      () => gpu.engine.metric({ shape: SHAPE, binarize: 'threshold', threshold: NaN }),
      'INVALID_OPTION',
      /threshold/,
    ],
    [
      'metric threshold "abc"',
      () => gpu.engine.metric({ shape: SHAPE, binarize: 'threshold', threshold: 'abc' as never }),
      'INVALID_OPTION',
      /threshold.*"abc"/,
    ],
    [
      'metric threshold {}',
      () => gpu.engine.metric({ shape: SHAPE, binarize: 'threshold', threshold: {} as never }),
      'INVALID_OPTION',
      /threshold/,
    ],
    [
      'metric threshold with argmax (does not apply)',
      () => gpu.engine.metric({ shape: SHAPE, threshold: 0.3 }),
      'INVALID_OPTION',
      /threshold applies to binarize: 'threshold'/,
    ],
    ['metric(null)', () => gpu.engine.metric(null as never), 'INVALID_OPTION', /metric\(\) needs an options object/],
    [
      'BigInt seed weights',
      () => gpu.engine.dice({ shape: SHAPE, reduce: 'per-class', weights: [1n, 2n, 3n] as never }),
      'INVALID_WEIGHTS',
      /BigInt/,
    ],
    [
      'seed weights [null, "2", true]',
      () => gpu.engine.dice({ shape: SHAPE, reduce: 'per-class', weights: [null, '2', true] as never }),
      'INVALID_WEIGHTS',
      /weights\[0\].*null/,
    ],
    [
      'family weights [1, "2", 3]',
      () => gpu.engine.loss({ shape: SHAPE, weights: [1, '2', 3] as never }),
      'INVALID_WEIGHTS',
      /weights\[1\].*"2"/,
    ],
    [
      'label: Symbol() (dice)',
      () => gpu.engine.dice({ shape: SHAPE, label: Symbol('x') as never }),
      'INVALID_OPTION',
      /label must be a string/,
    ],
    [
      'label: Symbol() (loss)',
      () => gpu.engine.loss({ shape: SHAPE, label: Symbol('x') as never }),
      'INVALID_OPTION',
      /label must be a string/,
    ],
    [
      'label: Symbol() (engine)',
      () => DiceEngine.create(gpu.device, { label: Symbol('x') as never }),
      'INVALID_OPTION',
      /label must be a string/,
    ],
    [
      'sparse shape [2, , 3] (dice)',
      () => gpu.engine.dice({ shape: [2, , 3] as number[] }),
      'INVALID_SHAPE',
      /shape\[1\].*hole/,
    ],
    [
      'sparse shape [2, , 3] (loss)',
      () => gpu.engine.loss({ shape: [2, , 3] as number[] }),
      'INVALID_SHAPE',
      /shape\[1\]/,
    ],
    [
      'maxBindingBytes 1024 (below what the planner needs)',
      () => DiceEngine.create(gpu.device, { maxBindingBytes: 1024 }),
      'INVALID_OPTION',
      /maxBindingBytes must be a multiple of 256 in \[4096,/,
    ],
    [
      'alpha with the Dice formula (does not apply)',
      () => gpu.engine.loss({ shape: SHAPE, alpha: 0.3 }),
      'INVALID_OPTION',
      /alpha \/ beta has no effect unless formula: 'tversky'/,
    ],
    [
      'fBeta with Jaccard (does not apply)',
      () => gpu.engine.loss({ shape: SHAPE, formula: 'jaccard', fBeta: 2 }),
      'INVALID_OPTION',
      /fBeta has no effect/,
    ],
    [
      'gdlWeight with Dice (does not apply)',
      () => gpu.engine.loss({ shape: SHAPE, gdlWeight: 'simple' }),
      'INVALID_OPTION',
      /gdlWeight has no effect/,
    ],
    [
      'maskShape without a mask (does not apply)',
      () => gpu.engine.loss({ shape: SHAPE, maskShape: 'shared' }),
      'INVALID_OPTION',
      /maskShape has no effect/,
    ],
    [
      'logEps without the log value (does not apply)',
      () => gpu.engine.loss({ shape: SHAPE, logEps: 1e-5 }),
      'INVALID_OPTION',
      /logEps has no effect unless value: 'negative-log'/,
    ],
    [
      'score together with a formula',
      () => gpu.engine.loss({ shape: SHAPE, formula: 'tversky', score: { numTp: 1, denTp: 1, denFp: 1, denFn: 1 } }),
      'INVALID_OPTION',
      /score replaces/,
    ],
    [
      `C = ${MAX_CLASSES + 1} classes (past every label of a u16 label map)`,
      () => gpu.engine.loss({ shape: [1, 2, MAX_CLASSES + 1], weights: 'inverse-frequency' }),
      'LIMIT_EXCEEDED',
      /C = 65537 classes is more than the 65536/,
    ],
  ];
  it.each(cases)('%s', (_, call, code, message) => expectCode(call, code, message));

  it("weights: 'inverse-frequency' works past 256 classes (C = 300)", async () => {
    const options: LossOptions = { shape: [1, 3, 300], weights: 'inverse-frequency' };
    const r = mulberry32(7);
    const p = Float32Array.from({ length: 3 * 300 }, () => r());
    const t = Float32Array.from({ length: 3 * 300 }, () => (r() < 0.3 ? 1 : 0));
    const loss = await gpu.engine.loss(options);
    try {
      expectClose(
        [(await loss.compute(p, t)).loss],
        [familyReference(p, t, options).loss],
        LOSS_TOL,
        'inverse-frequency loss',
      );
    } finally {
      loss.destroy();
    }
  });
});

describe('compute()', () => {
  it('snapshots the caller’s typed arrays at call time (refilled right after the call)', async () => {
    const options: LossOptions = { shape: SHAPE, activation: 'softmax', target: 'u8' };
    const loss = await gpu.engine.loss(options);
    try {
      const p = pred.slice();
      const t = labels.slice();
      const pending = loss.compute(p, t, { grad: true });
      p.fill(0);
      t.fill(2);
      expectClose(
        [(await pending).loss],
        [familyReference(pred, labels, options).loss],
        LOSS_TOL,
        'loss of the inputs at call time',
      );
    } finally {
      loss.destroy();
    }
  });

  it('snapshots them for the seed losses too, behind a queued call', async () => {
    const options = { shape: SHAPE, reduce: 'global' as const };
    const dice = await gpu.engine.dice(options);
    try {
      const p = pred.slice();
      const first = dice.compute(target, target);
      const second = dice.compute(p, target);
      p.fill(1);
      await first;
      expectClose([(await second).loss], [diceReference(pred, target, options).loss], LOSS_TOL, 'queued call');
    } finally {
      dice.destroy();
    }
  });

  it('a mask given to a loss made without one is INVALID_INPUT, with no WebGPU error before it', async () => {
    const loss = await gpu.engine.loss({ shape: SHAPE });
    try {
      await expectCode(
        () => loss.compute(pred, target, { mask: new Float32Array(N / 3).fill(1) }),
        'INVALID_INPUT',
        /created without one/,
      );
    } finally {
      loss.destroy();
    }
  });

  it.each(['u8', 'u32'] as const)(
    "mask: 'logits' with a %s label map and an infinite mask value is the mask's NON_FINITE_INPUT, not LABEL_OUT_OF_RANGE",
    async (target) => {
      for (const activation of ['softmax', 'sigmoid'] as const) {
        const loss = await gpu.engine.loss({ shape: [1, 4, 4, 3], activation, target, mask: 'logits' });
        try {
          const labels = target === 'u8' ? new Uint8Array(16).fill(1) : new Uint32Array(16).fill(1);
          const mask = new Float32Array(16).fill(1);
          mask[3] = Infinity;
          await expectCode(
            () => loss.compute(new Float32Array(48).fill(0.5), labels, { mask }),
            'NON_FINITE_INPUT',
            /1 mask value\(s\) \(first at value 3\)/,
          );
        } finally {
          loss.destroy();
        }
      }
    },
  );

  it("mask: 'logits' with a finite logit 1e30 times a mask of 1e10 is NON_FINITE_INPUT, not a silent NaN", async () => {
    // f32 cannot hold 1e40 (float64, which MONAI's reference uses, gives a finite loss): the kernels
    // report the overflowing product like a non-finite pred, on compute() and in the status buffer.
    const options: LossOptions = { shape: SHAPE, activation: 'sigmoid', mask: 'logits' };
    const loss = await gpu.engine.loss(options);
    const huge = pred.slice();
    huge[5] = 1e30;
    const mask = new Float32Array(N / 3).fill(1);
    mask[1] = 1e10; // voxel 1 holds elements 3..5 (channels-last, 3 classes)
    try {
      expectClose(
        [(await loss.compute(huge, target, { mask: new Float32Array(N / 3).fill(1) })).loss],
        [familyReference(huge, target, options, new Float32Array(N / 3).fill(1)).loss],
        LOSS_TOL,
        'finite product',
      );
      await expectCode(
        () => loss.compute(huge, target, { mask }),
        'NON_FINITE_INPUT',
        /1 pred element\(s\) \(first at element 5\).*mask: 'logits'.*3\.4e38/,
      );
      const buffers = {
        pred: createBufferFrom(gpu.device, huge),
        target: createBufferFrom(gpu.device, target),
        mask: createBufferFrom(gpu.device, mask),
        loss: createEmptyBuffer(gpu.device, 4),
      };
      const encoder = gpu.device.createCommandEncoder();
      loss.encode(encoder, buffers);
      gpu.device.queue.submit([encoder.finish()]);
      expect(await loss.readStatus()).toMatchObject({ nonFinite: 1, firstNonFiniteElement: 5, nonFiniteMask: 0 });
      for (const buffer of Object.values(buffers)) buffer.destroy();
    } finally {
      loss.destroy();
    }
  });

  it('compute() on GPU buffers without a gradient makes no buffer of tensor size (it made four)', async () => {
    const options: LossOptions = { shape: [2, 32, 32, 4], activation: 'sigmoid' };
    const elements = 2 * 32 * 32 * 4;
    const values = Float32Array.from({ length: elements }, () => random() * 4 - 2);
    const truth = Float32Array.from({ length: elements }, () => (random() < 0.3 ? 1 : 0));
    const loss = await gpu.engine.loss(options);
    const predBuffer = createBufferFrom(gpu.device, values);
    const targetBuffer = createBufferFrom(gpu.device, truth);
    const sizes: number[] = [];
    const createBuffer = gpu.device.createBuffer;
    gpu.device.createBuffer = function (this: GPUDevice, descriptor: GPUBufferDescriptor) {
      sizes.push(descriptor.size);
      return createBuffer.call(this, descriptor);
    };
    try {
      const result = await loss.compute(predBuffer, targetBuffer);
      expectClose([result.loss], [familyReference(values, truth, options).loss], LOSS_TOL, 'loss');
    } finally {
      gpu.device.createBuffer = createBuffer;
      loss.destroy();
      predBuffer.destroy();
      targetBuffer.destroy();
    }
    expect(sizes.length).toBeGreaterThan(0); // the loss and readback buffers
    expect(Math.max(...sizes)).toBeLessThan(elements * 4);
  });

  it('engine.loss: a pred value near f32’s limit (3e38) whose score is finite gives the float64 reference loss', async () => {
    // 2·Σp·t = 6e38 passes f32, but the score is scaled before it is formed (issue 21).
    const loss = await gpu.engine.loss({ shape: SHAPE });
    const huge = pred.slice();
    huge[target.indexOf(1)] = 3e38;
    try {
      const got = await loss.compute(huge, target);
      expectClose([got.loss], [familyReference(huge, target, { shape: SHAPE }).loss], LOSS_TOL, 'loss');
    } finally {
      loss.destroy();
    }
  });

  it.each([
    ['engine.dice', () => gpu.engine.dice({ shape: SHAPE, reduce: 'global' })],
    // Σp² = 9e76: the f32 sum itself overflows.
    ['engine.loss (squared)', () => gpu.engine.loss({ shape: SHAPE, squared: true })],
  ] as const)(
    '%s: finite pred values near f32’s limit (3e38) that overflow the sums are NON_FINITE_INPUT, not a NaN loss',
    async (_, make) => {
      const loss = await make();
      const huge = pred.slice();
      huge[target.indexOf(1)] = 3e38; // 2·Σp·t = 6e38 overflows f32 (float64 holds it)
      try {
        await expectCode(
          () => loss.compute(huge, target),
          'NON_FINITE_INPUT',
          /although every input value is finite.*3\.4e38/,
        );
      } finally {
        loss.destroy();
      }
    },
  );

  it("rejects { grad: 'yes' } instead of returning no gradient", async () => {
    const loss = await gpu.engine.loss({ shape: SHAPE });
    try {
      await expectCode(
        () => loss.compute(pred, target, { grad: 'yes' as never }),
        'INVALID_OPTION',
        /grad must be true or false, got "yes"/,
      );
    } finally {
      loss.destroy();
    }
  });
});

describe('readStatus() and encode()', () => {
  let loss: FamilyLoss;
  let buffers: Record<'pred' | 'target' | 'loss', GPUBuffer>;

  beforeAll(async () => {
    loss = await gpu.engine.loss({ shape: SHAPE, activation: 'softmax', target: 'u8' });
    const padded = new Uint8Array(Math.ceil(labels.length / 4) * 4);
    padded.set(labels);
    buffers = {
      pred: createBufferFrom(gpu.device, pred),
      target: createBufferFrom(gpu.device, padded),
      loss: createEmptyBuffer(gpu.device, 4),
    };
  });

  afterAll(() => {
    loss?.destroy();
    for (const buffer of Object.values(buffers ?? {})) buffer.destroy();
  });

  it('two concurrent readStatus() calls both resolve (no DOMException from a second mapAsync)', async () => {
    const encoder = gpu.device.createCommandEncoder();
    loss.encode(encoder, buffers);
    gpu.device.queue.submit([encoder.finish()]);
    const [a, b] = await Promise.all([loss.readStatus(), loss.readStatus()]);
    expect(a).toEqual({
      badLabels: 0,
      firstBadLabelVoxel: null,
      nonFinite: 0,
      firstNonFiniteElement: null,
      nonFiniteTarget: 0,
      firstNonFiniteTargetElement: null,
      nonFiniteMask: 0,
      firstNonFiniteMaskIndex: null,
    });
    expect(b).toEqual(a);
    expectClose(
      new Float32Array(await readBuffer(gpu.device, buffers.loss, 4)),
      [familyReference(pred, labels, { shape: SHAPE, activation: 'softmax', target: 'u8' }).loss],
      LOSS_TOL,
      'encoded loss',
    );
  });

  it("the loss's own statusBuffer or statsBuffer as an output is BUFFER_OVERLAP", async () => {
    const encoder = gpu.device.createCommandEncoder();
    await expectCode(
      () => loss.encode(encoder, { ...buffers, loss: loss.statusBuffer }),
      'BUFFER_OVERLAP',
      /loss is this loss's own statusBuffer/,
    );
    await expectCode(
      () => loss.encode(encoder, { ...buffers, grad: loss.statsBuffer }),
      'BUFFER_OVERLAP',
      /grad is this loss's own statsBuffer/,
    );
    await expectCode(
      () => loss.encode(encoder, { ...buffers, pred: { buffer: loss.statsBuffer } }),
      'BUFFER_OVERLAP',
      /pred is this loss's own statsBuffer/,
    );
    encoder.finish(); // nothing was recorded: the encoder is still valid
  });

  it("the seed loss's own statsBuffer as loss or grad is BUFFER_OVERLAP", async () => {
    const dice = await gpu.engine.dice({ shape: SHAPE });
    try {
      const encoder = gpu.device.createCommandEncoder();
      await expectCode(
        () =>
          dice.encode(encoder, {
            pred: buffers.pred,
            target: createBufferFrom(gpu.device, target),
            loss: dice.statsBuffer,
          }),
        'BUFFER_OVERLAP',
        /loss is this loss's own statsBuffer/,
      );
      encoder.finish();
    } finally {
      dice.destroy();
    }
  });

  it('encode() into a finished command encoder is INVALID_INPUT from checkEncodes() and readStatus(), once', async () => {
    const encoder = gpu.device.createCommandEncoder();
    encoder.finish();
    loss.encode(encoder, buffers); // WebGPU judges it later: encode() cannot see an encoder's state
    await expectCode(
      () => loss.checkEncodes(),
      'INVALID_INPUT',
      /command encoder .*was already finished.*device\.createCommandEncoder\(\)/,
    );
    await loss.checkEncodes(); // reported once
    loss.encode(encoder, buffers);
    await expectCode(() => loss.readStatus(), 'INVALID_INPUT', /already finished/);
    // The loss keeps working with a fresh encoder.
    const fresh = gpu.device.createCommandEncoder();
    loss.encode(fresh, buffers);
    gpu.device.queue.submit([fresh.finish()]);
    await loss.checkEncodes();
    expect((await loss.readStatus()).nonFinite).toBe(0);
  });

  // WebGPU keeps these errors in the encoder until finish(), where they are raised on the device:
  // the loss's commands run in a debug group of its own that the message quotes, so checkEncodes()
  // (and the next call) can name the cause; the caller still gets WebGPU's error as before.
  it.each([
    [
      'with a compute pass of the caller still open',
      (encoder: GPUCommandEncoder) => {
        const pass = encoder.beginComputePass({ label: 'caller pass' });
        loss.encode(encoder, buffers);
        pass.end();
      },
      /compute pass .*still open when encode\(\) recorded.*loss\.encode\(pass, buffers\)/,
    ],
    [
      'through a pass already ended',
      (encoder: GPUCommandEncoder) => {
        const pass = encoder.beginComputePass({ label: 'caller pass' });
        pass.end();
        loss.encode(pass, buffers);
      },
      /compute pass passed to encode\(\) had already been ended/,
    ],
  ])(
    'encode() into an encoder %s: INVALID_INPUT from checkEncodes() after finish(), once',
    async (_, record, message) => {
      const encoder = gpu.device.createCommandEncoder({ label: 'caller encoder' });
      record(encoder);
      await loss.checkEncodes(); // nothing to see before finish(): the encoder keeps the error
      encoder.finish();
      const raised = takeUncapturedErrors(gpu.device).map((e) => e.message);
      expect(raised.length, raised.join('\n')).toBe(1); // WebGPU's own error still reaches the caller
      await expectCode(() => loss.checkEncodes(), 'INVALID_INPUT', message);
      await loss.checkEncodes(); // reported once
      // The loss keeps working with a fresh encoder.
      const fresh = gpu.device.createCommandEncoder();
      loss.encode(fresh, buffers);
      gpu.device.queue.submit([fresh.finish()]);
      await loss.checkEncodes();
    },
  );

  it('a buffer of another GPUDevice is INVALID_INPUT naming the device mix-up, for encode() and compute()', async () => {
    const other = await requestNodeDevice({ label: 'another device' });
    const foreign = createBufferFrom(other, pred, undefined, 'buffer of another device');
    try {
      for (let attempt = 0; attempt < 2; attempt++) {
        // Twice: the bind group WebGPU rejected must not be reused silently from the cache.
        const encoder = gpu.device.createCommandEncoder();
        loss.encode(encoder, { ...buffers, pred: foreign });
        await expectCode(() => loss.checkEncodes(), 'INVALID_INPUT', /another GPUDevice.*engine\.device/);
        // WebGPU still rejects the caller's encoder when it is finished.
        gpu.device.pushErrorScope('validation');
        encoder.finish();
        expect(await gpu.device.popErrorScope()).not.toBeNull();
      }
      await expectCode(() => loss.compute(foreign, labels), 'INVALID_INPUT', /another GPUDevice/);
      // Nothing is left pending for the next call.
      expectClose(
        [(await loss.compute(pred, labels)).loss],
        [familyReference(pred, labels, { shape: SHAPE, activation: 'softmax', target: 'u8' }).loss],
        LOSS_TOL,
        'next compute',
      );
    } finally {
      foreign.destroy();
      other.destroy();
    }
  });

  it('duck-typed fake buffers and encoders are INVALID_INPUT, not a TypeError inside WebGPU', async () => {
    const fakeBuffer = { usage: GPUBufferUsage.STORAGE, size: 1 << 20, mapState: 'unmapped', mapAsync: async () => {} };
    const encoder = gpu.device.createCommandEncoder();
    await expectCode(
      () => loss.encode(encoder, { ...buffers, pred: fakeBuffer as never }),
      'INVALID_INPUT',
      /pred must be a GPUBuffer/,
    );
    await expectCode(
      () => loss.compute(fakeBuffer as never, labels),
      'INVALID_INPUT',
      /pred must be a Float32Array or a GPUBuffer/,
    );
    const fakeEncoder = { beginComputePass: () => ({}), finish: () => ({}) };
    await expectCode(() => loss.encode(fakeEncoder as never, buffers), 'INVALID_INPUT', /GPUCommandEncoder/);
    encoder.finish();
  });
});

describe('device limits', () => {
  it("a loss whose own buffers pass the device's maxBufferSize is LIMIT_EXCEEDED when made, not a submit that fails later", async () => {
    // The browsers' default limits: 256 MiB buffers, 128 MiB storage bindings.
    const limited = await requestNodeDevice({
      label: 'browser-default limits',
      requiredLimits: { maxBufferSize: 256 * 2 ** 20, maxStorageBufferBindingSize: 128 * 2 ** 20 },
    });
    const limitedEngine = await DiceEngine.create(limited);
    try {
      // Channels-first clDice binds one (sample, class) volume at a time (128 MiB: it fits) but
      // keeps whole-tensor skeleton levels of its own: 3 x 128 MiB = 384 MiB each.
      await expectCode(
        () => limitedEngine.loss({ formula: 'cl-dice', shape: [1, 3, 4096, 8192], layout: 'channels-first' }),
        'LIMIT_EXCEEDED',
        /402653184 bytes, more than this device's maxBufferSize \(268435456\)/,
      );
      await limited.queue.onSubmittedWorkDone();
      expect(takeUncapturedErrors(limited).map((e) => e.message)).toEqual([]);
    } finally {
      limitedEngine.destroy();
      limited.destroy();
    }
  });
});

describe('presets', () => {
  // [1, 2, 2, 2] logits and a [1, 1, 2, 2] label map, MONAI's layout.
  const logits = [
    [
      [
        [0.2, -1],
        [1.5, 0.3],
      ],
      [
        [-0.4, 0.8],
        [0.1, -2],
      ],
    ],
  ];
  const labelMap = (bad: unknown) =>
    [
      [
        [
          [0, 1],
          [bad, 1],
        ],
      ],
    ] as never;

  it.each([
    ['NaN', NaN],
    ['null', null],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
    ['2^32 + 1 (would wrap to class 1)', 2 ** 32 + 1],
  ])('a label map holding %s is LABEL_OUT_OF_RANGE, not a class', async (_, bad) => {
    const dice = gpu.engine.presets.monai.DiceLoss({ softmax: true, to_onehot_y: true });
    await expectCode(() => dice.evaluate(logits, labelMap(bad)), 'LABEL_OUT_OF_RANGE', /not a class index/);
  });

  it('smp ignore_index: a real label 4294967295 is out of range, not ignored', async () => {
    const dice = gpu.engine.presets.smp.DiceLoss({ mode: 'multiclass', ignore_index: -100 });
    await expectCode(
      () =>
        dice.evaluate(logits, [
          [
            [0, 1],
            [4294967295, 1],
          ],
        ]),
      'LABEL_OUT_OF_RANGE',
      /4294967295/,
    );
  });

  it.each([
    ['lower-case layout', { layout: 'nhwc' }, 'INVALID_OPTION', /did you mean "NHWC"/],
    ['layout of the wrong rank', { layout: 'NDHWC' }, 'INVALID_OPTION', /"NDHWC" has 5 axes but the input has 4/],
    ['misspelt extras key', { layuot: 'NHWC' }, 'UNKNOWN_OPTION', /"layuot".*Did you mean "layout"/],
  ] as const)('evaluate with a %s is an error, not NCHW data read silently', async (_, extras, code, message) => {
    const dice = gpu.engine.presets.monai.DiceLoss({ softmax: true, to_onehot_y: true });
    await expectCode(() => dice.evaluate(logits, labelMap(0), extras as never), code, message);
  });

  it.each([
    [
      "softmax: 'yes'",
      () => gpu.engine.presets.monai.DiceLoss({ softmax: 'yes' }),
      /option 'softmax' must be true or false, got "yes"/,
    ],
    [
      "weight: [1, 'a']",
      () => gpu.engine.presets.monai.DiceLoss({ weight: [1, 'a'] }),
      /option 'weight' must be a list of numbers/,
    ],
    [
      'smooth_nr: NaN',
      () => gpu.engine.presets.monai.DiceLoss({ smooth_nr: NaN }),
      /option 'smooth_nr' must be a finite number/,
    ],
  ])('option types are checked when the preset is made: %s', async (_, make, message) => {
    await expectCode(make, 'INVALID_OPTION', message);
  });

  it('option arrays are copied when the preset is made', async () => {
    const weight = [1, 1];
    const dice = gpu.engine.presets.monai.DiceLoss({ softmax: true, to_onehot_y: true, weight });
    const before = await dice.evaluate(logits, labelMap(0));
    weight[1] = 100;
    expect(await dice.evaluate(logits, labelMap(0))).toBe(before);
  });

  it.each([
    ['a fractional dim', [2, 1.5, 4]],
    ['a negative dim', [2, -2, 4]],
    ['a NaN dim', [2, NaN, 4]],
    ['a hole', [2, , 4]],
    ['not an array', 'abc'],
  ])('create() with %s is INVALID_SHAPE (smp and keras used to plan another shape)', async (_, shape) => {
    await expectCode(
      () => gpu.engine.presets.smp.DiceLoss({ mode: 'multiclass' }).create(shape as never),
      'INVALID_SHAPE',
      /shape/,
    );
    await expectCode(() => gpu.engine.presets.keras.Dice().create(shape as never), 'INVALID_SHAPE', /shape/);
  });

  it.each([
    [
      'GeneralizedWassersteinDiceLoss',
      WassersteinDiceLoss,
      () =>
        gpu.engine.presets.monai.GeneralizedWassersteinDiceLoss({
          dist_matrix: [
            [0, 1],
            [1, 0],
          ],
        }),
    ],
    ['SoftclDiceLoss', ClDiceLoss, () => gpu.engine.presets.monai.SoftclDiceLoss({ iter_: 1 })],
  ] as const)(
    `monai %s keeps at most ${PRESET_CACHE_SIZE} compiled losses too (its cache used to grow without bound)`,
    async (_, LossClass, make) => {
      const destroy = vi.spyOn(LossClass.prototype, 'destroy');
      try {
        const preset = make();
        const extra = 2;
        for (let n = 1; n <= PRESET_CACHE_SIZE + extra; n++) {
          // [1, 2, n, 1] logits and an n-voxel label map (clDice: a dense target of the same shape).
          const x = [[Array.from({ length: n }, (_, i) => [i % 3]), Array.from({ length: n }, () => [0.5])]];
          const y =
            LossClass === ClDiceLoss
              ? [[Array.from({ length: n }, () => [0]), Array.from({ length: n }, () => [1])]]
              : [Array.from({ length: n }, (_, i) => [i % 2])];
          expect(Number.isFinite(await preset.evaluate(x, y as never))).toBe(true);
        }
        await gpu.device.queue.onSubmittedWorkDone();
        expect(destroy).toHaveBeenCalledTimes(extra);
      } finally {
        destroy.mockRestore();
      }
    },
  );

  it(`evaluate() keeps at most ${PRESET_CACHE_SIZE} compiled losses per preset and destroys the ones it evicts`, async () => {
    const destroy = vi.spyOn(FamilyLoss.prototype, 'destroy');
    try {
      const dice = gpu.engine.presets.keras.Dice();
      const values: number[] = [];
      const extra = 4;
      for (let n = 1; n <= PRESET_CACHE_SIZE + extra; n++) {
        values.push(
          (await dice.evaluate(
            Array.from({ length: n }, (_, i) => [i % 2]),
            Array.from({ length: n }, () => [1]),
          )) as number,
        );
      }
      await gpu.device.queue.onSubmittedWorkDone();
      expect(destroy).toHaveBeenCalledTimes(extra);
      // The first shape was evicted: it is compiled again and gives the same value.
      expect(await dice.evaluate([[0]], [[1]])).toBe(values[0]);
    } finally {
      destroy.mockRestore();
    }
  });

  it('losses evicted while their compute() is in flight finish it first (no ENGINE_DESTROYED)', async () => {
    // Three times more distinct shapes than the cache holds, all in flight at once and each shape
    // asked for twice: every loss is evicted while calls on it are still queued.
    const dice = gpu.engine.presets.keras.Dice();
    const shapes = Array.from({ length: 3 * PRESET_CACHE_SIZE }, (_, k) => 1 + k);
    const cases = [...shapes, ...shapes].map((n) => {
      const yPred = Array.from({ length: n }, () => [random()]);
      const yTrue = Array.from({ length: n }, () => [random() < 0.5 ? 1 : 0]);
      return { yPred, yTrue, want: peerReference['keras.losses.Dice']({}, yPred, yTrue, {}) as number };
    });
    const got = await Promise.all(cases.map((c) => dice.evaluate(c.yPred, c.yTrue)));
    expectClose(
      Float32Array.from(got as number[]),
      cases.map((c) => c.want),
      LOSS_TOL,
      'keras Dice, evicted in flight',
    );
  });
});
