// Every public entry rejects a bad call with a WgslDiceError whose `code` is stable and whose
// message says what was wrong and how to fix it, before it touches the GPU. After each
// rejected call the test checks that:
//   - no GPU error was raised (inside or outside the caller's error scopes), and the caller's
//     error-scope stack is exactly as it was (no scope left pushed by the library);
//   - no caller buffer was written (they hold sentinels / known data and are read back);
//   - an encoder handed to a rejected encode() is still usable (nothing was half-recorded);
//   - the engine still works: a valid compute right after matches the float64 reference.
import { beforeAll, describe, expect, it } from 'vitest';
import { DiceEngine, WgslDiceError, type DiceLoss, type WgslDiceErrorCode } from '../src/index.js';
import { WGSL_DICE_ERROR_CODES } from '../src/core/errors.js';
import { takeUncapturedErrors } from '../src/node/index.js';
import { diceReference } from '../src/reference/index.js';
import { createBufferFrom, expectClose, mulberry32, readBuffer, withValidation } from './helpers/gpu.js';
import { useTestEngine } from './helpers/test-engine.js';
import { gradTolerance, LOSS_TOL, SUM_TOL } from './tolerance.js';

const SHAPE = [2, 8, 8, 3];
const OPTIONS = { shape: SHAPE, reduce: 'per-class' as const, weights: [0.5, 1, 2] };
const N = SHAPE.reduce((a, b) => a * b, 1);
const GROUPS = 2 * 3;
const SENTINEL = 0xa5;
const STORAGE_IO = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

const gpu = useTestEngine();
let loss: DiceLoss;
let align: number;
const random = mulberry32(2024);
const predData = Float32Array.from({ length: N }, () => random());
const targetData = Float32Array.from({ length: N }, () => (random() < 0.4 ? 1 : 0));
const want = diceReference(predData, targetData, OPTIONS);

/** Caller-owned buffers every case may pass: inputs with data, outputs full of sentinels. */
const caller = {} as Record<'pred' | 'target' | 'loss' | 'stats' | 'grad' | 'spare', GPUBuffer>;
const initial = new Map<GPUBuffer, Uint8Array>();

function sentinelBuffer(label: string, byteLength: number, usage = STORAGE_IO()): GPUBuffer {
  const bytes = new Uint8Array(Math.ceil(byteLength / 4) * 4).fill(SENTINEL);
  const buffer = createBufferFrom(gpu.device, bytes, usage, label);
  initial.set(buffer, bytes);
  return buffer;
}

function inputBuffer(label: string, data: Float32Array): GPUBuffer {
  const buffer = createBufferFrom(gpu.device, data, STORAGE_IO(), label);
  initial.set(buffer, new Uint8Array(data.buffer.slice(0)));
  return buffer;
}

beforeAll(async () => {
  align = gpu.device.limits.minStorageBufferOffsetAlignment;
  loss = await gpu.engine.dice(OPTIONS);
  caller.pred = inputBuffer('caller pred', predData);
  caller.target = inputBuffer('caller target', targetData);
  caller.loss = sentinelBuffer('caller loss', 4 * align);
  caller.stats = sentinelBuffer('caller stats', GROUPS * 16);
  caller.grad = sentinelBuffer('caller grad', N * 4);
  caller.spare = sentinelBuffer('caller spare', 2 * N * 4 + 4 * align);
});

function checkAgainstReference(got: {
  loss: number;
  perClass: { dice: ArrayLike<number>; intersection: ArrayLike<number> };
  grad?: ArrayLike<number>;
}) {
  expectClose([got.loss], [want.loss], LOSS_TOL, 'loss');
  expectClose(got.perClass.dice, want.dice, SUM_TOL, 'dice');
  expectClose(got.perClass.intersection, want.intersection, SUM_TOL, 'intersection');
  if (got.grad) expectClose(got.grad, want.grad, gradTolerance(want.grad), 'grad');
}

const ERROR_FILTERS: GPUErrorFilter[] = ['validation', 'out-of-memory', 'internal'];

interface RejectCase {
  code: WgslDiceErrorCode;
  /** What the message must say: the culprit and, usually, the fix. */
  message: RegExp;
  /** Gets a fresh encoder for encode() cases; the test then checks it is still usable. */
  call: (encoder: GPUCommandEncoder) => unknown;
}

async function expectRejectedCleanly({ code, message, call }: RejectCase): Promise<void> {
  for (const filter of ERROR_FILTERS) gpu.device.pushErrorScope(filter);
  const encoder = gpu.device.createCommandEncoder({ label: 'caller encoder' });
  let caught: unknown;
  try {
    await call(encoder);
  } catch (error) {
    caught = error;
  }
  await gpu.device.queue.onSubmittedWorkDone();
  const gpuErrors: string[] = [];
  for (let i = 0; i < ERROR_FILTERS.length; i++) {
    const error = await gpu.device.popErrorScope();
    if (error) gpuErrors.push(error.message);
  }
  gpuErrors.push(...takeUncapturedErrors(gpu.device).map((e) => `uncaptured: ${e.message}`));
  // One pop more than we pushed must fail: the library left no scope of its own behind.
  const extraPop = await gpu.device.popErrorScope().then(
    () => 'the library left an error scope pushed',
    () => 'balanced',
  );

  expect(caught, 'the call must throw or reject').toBeInstanceOf(WgslDiceError);
  const error = caught as WgslDiceError;
  expect(error.code).toBe(code);
  expect(error.name).toBe('WgslDiceError');
  expect(error.message).toMatch(message);
  expect(gpuErrors).toEqual([]);
  expect(extraPop).toBe('balanced');

  // No caller buffer was written.
  for (const [buffer, bytes] of initial) {
    if (bytes.byteLength === 0) continue;
    const now = new Uint8Array(await readBuffer(gpu.device, buffer, bytes.byteLength));
    expect(Buffer.compare(now, bytes), `caller buffer "${buffer.label}" was written`).toBe(0);
  }

  await withValidation(gpu.device, async () => {
    // The encoder given to the rejected call still records and submits cleanly.
    const out = {
      loss: gpu.device.createBuffer({ size: 16, usage: STORAGE_IO() }),
      stats: gpu.device.createBuffer({ size: GROUPS * 16, usage: STORAGE_IO() }),
      grad: gpu.device.createBuffer({ size: N * 4, usage: STORAGE_IO() }),
    };
    try {
      loss.encode(encoder, { pred: caller.pred, target: caller.target, ...out });
      gpu.device.queue.submit([encoder.finish()]);
      const stats = new Float32Array(await readBuffer(gpu.device, out.stats));
      checkAgainstReference({
        loss: new Float32Array(await readBuffer(gpu.device, out.loss, 4))[0],
        perClass: {
          dice: Array.from({ length: GROUPS }, (_, g) => stats[g * 4]),
          intersection: Array.from({ length: GROUPS }, (_, g) => stats[g * 4 + 1]),
        },
        grad: new Float32Array(await readBuffer(gpu.device, out.grad)),
      });
    } finally {
      for (const buffer of Object.values(out)) buffer.destroy();
    }
    // And the engine's loss still computes the reference result.
    checkAgainstReference(await loss.compute(predData, targetData, { grad: true }));
    checkAgainstReference(await loss.compute(caller.pred, caller.target, { grad: true }));
  });
}

/** A throwaway buffer (destroyed by the case that made it is fine: never read back). */
function scratch(byteLength: number, usage = STORAGE_IO(), label = 'case buffer'): GPUBuffer {
  return gpu.device.createBuffer({ label, size: byteLength, usage });
}

const outputs = () => ({ loss: caller.loss, stats: caller.stats, grad: caller.grad });
const inputs = () => ({ pred: caller.pred, target: caller.target });

const cases: Record<string, RejectCase> = {
  // ---- dice(): shape --------------------------------------------------------------------
  'dice: shape missing': {
    code: 'INVALID_SHAPE',
    message: /shape must be .*\[B, \.\.\.spatial, C\]/,
    call: () => gpu.engine.dice({} as never),
  },
  'dice: shape of rank 1': {
    code: 'INVALID_SHAPE',
    message: /at least 2 entries.*got \[64\]/,
    call: () => gpu.engine.dice({ shape: [64] }),
  },
  'dice: zero dim': {
    code: 'INVALID_SHAPE',
    message: /shape\[1\] \(a spatial size\) must be a positive integer, got 0/,
    call: () => gpu.engine.dice({ shape: [2, 0, 3] }),
  },
  'dice: negative batch': {
    code: 'INVALID_SHAPE',
    message: /shape\[0\] \(the batch size B\).*got -1/,
    call: () => gpu.engine.dice({ shape: [-1, 4, 3] }),
  },
  'dice: fractional dim': {
    code: 'INVALID_SHAPE',
    message: /shape\[1\].*got 2\.5 in \[2, 2\.5, 3\]/,
    call: () => gpu.engine.dice({ shape: [2, 2.5, 3] }),
  },
  'dice: NaN dim': {
    code: 'INVALID_SHAPE',
    message: /shape\[2\] \(the class count C\).*got NaN in \[2, 4, NaN\]/,
    call: () => gpu.engine.dice({ shape: [2, 4, NaN] }),
  },
  'dice: Infinity dim': {
    code: 'INVALID_SHAPE',
    message: /got Infinity/,
    call: () => gpu.engine.dice({ shape: [2, Infinity, 3] }),
  },
  'dice: string dim': {
    code: 'INVALID_SHAPE',
    message: /got "4"/,
    call: () => gpu.engine.dice({ shape: [2, '4', 3] as never }),
  },
  'dice: typed-array shape': {
    code: 'INVALID_SHAPE',
    message: /plain array.*Int32Array/,
    call: () => gpu.engine.dice({ shape: new Int32Array([2, 4, 3]) as never }),
  },
  'dice: more than 2^32 - 1 elements': {
    code: 'INVALID_SHAPE',
    message: /at most 2\^32 - 1.*split/,
    call: () => gpu.engine.dice({ shape: [65536, 65536, 2] }),
  },
  'dice: one row wider than a binding window': {
    code: 'BINDING_TOO_LARGE',
    message: /exceeds the 4096-byte binding window/,
    call: async () => {
      const narrow = await DiceEngine.create(gpu.device, { maxBindingBytes: 4096 });
      try {
        await narrow.dice({ shape: [1, 3, 1100], reduce: 'per-class' });
      } finally {
        narrow.destroy();
      }
    },
  },
  // ---- dice(): options ------------------------------------------------------------------
  'dice: options not an object': {
    code: 'INVALID_OPTION',
    message: /options object/,
    call: () => gpu.engine.dice(null as never),
  },
  'dice: unknown reduce': {
    code: 'INVALID_OPTION',
    message: /reduce must be 'global' or 'per-class', got "mean"/,
    call: () => gpu.engine.dice({ shape: SHAPE, reduce: 'mean' as never }),
  },
  'dice: reduce in the wrong case': {
    code: 'INVALID_OPTION',
    message: /got "Per-Class"/,
    call: () => gpu.engine.dice({ shape: SHAPE, reduce: 'Per-Class' as never }),
  },
  'dice: misspelt "weight"': {
    code: 'UNKNOWN_OPTION',
    message: /"weight".*Did you mean "weights"/,
    call: () => gpu.engine.dice({ shape: SHAPE, reduce: 'per-class', weight: [1, 1, 1] } as never),
  },
  'dice: misspelt "eps"': {
    code: 'UNKNOWN_OPTION',
    message: /"eps".*Did you mean "epsilon"/,
    call: () => gpu.engine.dice({ shape: SHAPE, eps: 1e-5 } as never),
  },
  'dice: misspelt "reduction"': {
    code: 'UNKNOWN_OPTION',
    message: /"reduction".*Did you mean "reduce"/,
    call: () => gpu.engine.dice({ shape: SHAPE, reduction: 'per-class' } as never),
  },
  'dice: unknown "smooth"': {
    code: 'UNKNOWN_OPTION',
    message: /Unknown Dice option "smooth"\..*Valid names: shape, reduce, weights, epsilon/,
    call: () => gpu.engine.dice({ shape: SHAPE, smooth: 1 } as never),
  },
  // ---- dice(): weights ------------------------------------------------------------------
  'dice: weights of the wrong length': {
    code: 'INVALID_WEIGHTS',
    message: /weights has 2 entries but .*C = 3.*one weight per class/,
    call: () => gpu.engine.dice({ ...OPTIONS, weights: [1, 2] }),
  },
  'dice: negative weight': {
    code: 'INVALID_WEIGHTS',
    message: /weights\[1\] must be a finite number >= 0, got -1/,
    call: () => gpu.engine.dice({ ...OPTIONS, weights: [1, -1, 1] }),
  },
  'dice: NaN weight': {
    code: 'INVALID_WEIGHTS',
    message: /weights\[2\].*got NaN/,
    call: () => gpu.engine.dice({ ...OPTIONS, weights: [1, 1, NaN] }),
  },
  'dice: infinite weight': {
    code: 'INVALID_WEIGHTS',
    message: /weights\[0\].*got Infinity/,
    call: () => gpu.engine.dice({ ...OPTIONS, weights: [Infinity, 1, 1] }),
  },
  'dice: weights with global reduce': {
    code: 'INVALID_WEIGHTS',
    message: /per-class Dice only; pass reduce: 'per-class'/,
    call: () => gpu.engine.dice({ shape: SHAPE, weights: [1, 1, 1] }),
  },
  'dice: weights not an array': {
    code: 'INVALID_WEIGHTS',
    message: /array of 3 numbers/,
    call: () => gpu.engine.dice({ ...OPTIONS, weights: 1 as never }),
  },
  // ---- dice(): epsilon ------------------------------------------------------------------
  'dice: negative epsilon': {
    code: 'INVALID_OPTION',
    message: /epsilon must be a finite number >= 0, got -0\.001/,
    call: () => gpu.engine.dice({ shape: SHAPE, epsilon: -1e-3 }),
  },
  'dice: NaN epsilon': {
    code: 'INVALID_OPTION',
    message: /epsilon .*got NaN/,
    call: () => gpu.engine.dice({ shape: SHAPE, epsilon: NaN }),
  },
  'dice: infinite epsilon': {
    code: 'INVALID_OPTION',
    message: /epsilon .*got Infinity/,
    call: () => gpu.engine.dice({ shape: SHAPE, epsilon: Infinity }),
  },
  'dice: epsilon as a string': {
    code: 'INVALID_OPTION',
    message: /epsilon must be a number or \{ numerator, denominator \}/,
    call: () => gpu.engine.dice({ shape: SHAPE, epsilon: '1e-6' as never }),
  },
  'dice: epsilon without denominator': {
    code: 'INVALID_OPTION',
    message: /epsilon\.denominator must be a finite number >= 0, got undefined/,
    call: () => gpu.engine.dice({ shape: SHAPE, epsilon: { numerator: 1e-6 } as never }),
  },
  'dice: negative epsilon.numerator': {
    code: 'INVALID_OPTION',
    message: /epsilon\.numerator .*got -1/,
    call: () => gpu.engine.dice({ shape: SHAPE, epsilon: { numerator: -1, denominator: 1 } }),
  },
  'dice: unknown epsilon field': {
    code: 'UNKNOWN_OPTION',
    message: /Unknown epsilon field "nr"/,
    call: () => gpu.engine.dice({ shape: SHAPE, epsilon: { numerator: 1, denominator: 1, nr: 1 } as never }),
  },
  // ---- DiceEngine.create() --------------------------------------------------------------
  'engine: not a device': {
    code: 'INVALID_INPUT',
    message: /needs a GPUDevice/,
    call: () => DiceEngine.create({} as never),
  },
  'engine: options null': {
    code: 'INVALID_OPTION',
    message: /engine options must be given as an object/,
    call: () => DiceEngine.create(gpu.device, null as never),
  },
  'engine: misspelt option': {
    code: 'UNKNOWN_OPTION',
    message: /"workgroup_size".*Did you mean "workgroupSize"/,
    call: () => DiceEngine.create(gpu.device, { workgroup_size: 64 } as never),
  },
  'engine: workgroupSize not a power of two': {
    code: 'INVALID_OPTION',
    message: /workgroupSize must be a power of two.*got 100/,
    call: () => DiceEngine.create(gpu.device, { workgroupSize: 100 }),
  },
  'engine: workgroupSize 0': {
    code: 'INVALID_OPTION',
    message: /workgroupSize.*got 0/,
    call: () => DiceEngine.create(gpu.device, { workgroupSize: 0 }),
  },
  'engine: workgroupSize above the device limit': {
    code: 'INVALID_OPTION',
    message: /workgroupSize.*got 4096/,
    call: () => DiceEngine.create(gpu.device, { workgroupSize: 4096 }),
  },
  'engine: workgroupSize beyond workgroup memory': {
    // 1024 threads pass maxComputeInvocationsPerWorkgroup on lavapipe, but the vec4 reduction keeps
    // 48 bytes per thread in workgroup memory: 48 KiB > maxComputeWorkgroupStorageSize (32 KiB).
    code: 'INVALID_OPTION',
    message: /workgroupSize/,
    call: async () => {
      const size = gpu.device.limits.maxComputeInvocationsPerWorkgroup;
      if (size * 48 <= gpu.device.limits.maxComputeWorkgroupStorageSize) {
        throw new WgslDiceError(
          'INVALID_OPTION',
          'workgroupSize: this device has room for every size; nothing to check',
        );
      }
      const other = await DiceEngine.create(gpu.device, { workgroupSize: size });
      try {
        await other.dice({ shape: SHAPE });
      } finally {
        other.destroy();
      }
    },
  },
  'engine: maxBindingBytes not a multiple of 256': {
    code: 'INVALID_OPTION',
    message: /maxBindingBytes must be a multiple of 256.*got 1000/,
    call: () => DiceEngine.create(gpu.device, { maxBindingBytes: 1000 }),
  },
  'engine: fractional targetWorkgroups': {
    code: 'INVALID_OPTION',
    message: /targetWorkgroups must be a positive integer, got 1\.5/,
    call: () => DiceEngine.create(gpu.device, { targetWorkgroups: 1.5 }),
  },
  'engine: destroyed, then dice()': {
    code: 'ENGINE_DESTROYED',
    message: /DiceEngine was destroyed; create a new one/,
    call: async () => {
      const other = await DiceEngine.create(gpu.device);
      other.destroy();
      await other.dice({ shape: SHAPE });
    },
  },
  // ---- compute(): host data -------------------------------------------------------------
  'compute: pred of the wrong length': {
    code: 'SHAPE_MISMATCH',
    message: /pred has 383 elements but shape \[2,8,8,3\] needs 384/,
    call: () => loss.compute(predData.subarray(1), targetData),
  },
  'compute: target of the wrong length': {
    code: 'SHAPE_MISMATCH',
    message: /target has 385 elements/,
    call: () => loss.compute(predData, new Float32Array(N + 1)),
  },
  'compute: Float64Array pred': {
    code: 'INVALID_DTYPE',
    message: /pred is a Float64Array of length 384.*Float32Array/,
    call: () => loss.compute(Float64Array.from(predData) as never, targetData),
  },
  'compute: Int32Array target': {
    code: 'INVALID_DTYPE',
    message: /target is an Int32Array of length 384.*f32/,
    call: () => loss.compute(predData, Int32Array.from(targetData) as never),
  },
  // Plain (nested) arrays of the right element count are taken (flattened row-major); others are not.
  'compute: plain-array pred of another length': {
    code: 'SHAPE_MISMATCH',
    message: /pred is a nested array of shape \[383\] \(383 elements\), but this loss needs 384/,
    call: () => loss.compute(Array.from(predData.subarray(1)), targetData),
  },
  'compute: plain-array pred holding a string': {
    code: 'INVALID_INPUT',
    message: /pred\[3\] is "0\.5"; a tensor holds numbers only/,
    call: () => loss.compute(Array.from(predData, (v, i) => (i === 3 ? '0.5' : v)) as never, targetData),
  },
  'compute: ArrayBuffer pred': {
    code: 'INVALID_DTYPE',
    message: /ArrayBuffer/,
    call: () => loss.compute(predData.buffer as never, targetData),
  },
  'compute: neither a buffer nor an array': {
    code: 'INVALID_INPUT',
    message: /pred must be a Float32Array or a GPUBuffer.*string "pred"/,
    call: () => loss.compute('pred' as never, targetData),
  },
  'compute: target missing': {
    code: 'INVALID_INPUT',
    message: /target .*undefined \(missing\)/,
    call: () => (loss.compute as (p: unknown) => unknown)(predData),
  },
  // ---- compute(): options ---------------------------------------------------------------
  'compute: misspelt option "grads"': {
    code: 'UNKNOWN_OPTION',
    message: /"grads".*Did you mean "grad"/,
    call: () => loss.compute(predData, targetData, { grads: true } as never),
  },
  'compute: grad not a boolean': {
    code: 'INVALID_OPTION',
    message: /grad must be true or false, got "yes"/,
    call: () => loss.compute(predData, targetData, { grad: 'yes' } as never),
  },
  'compute: options null': {
    code: 'INVALID_OPTION',
    message: /options must be an object/,
    call: () => loss.compute(predData, targetData, null as never),
  },
  // ---- compute(): GPU buffers -----------------------------------------------------------
  'compute: pred buffer too small': {
    code: 'BUFFER_TOO_SMALL',
    message: /pred buffer "small" holds 1532 bytes.*allocate at least 1536/,
    call: () => loss.compute(scratch(N * 4 - 4, STORAGE_IO(), 'small'), caller.target),
  },
  'compute: pred buffer without STORAGE': {
    code: 'BUFFER_USAGE',
    message: /pred buffer "copy only" lacks GPUBufferUsage\.STORAGE/,
    call: () =>
      loss.compute(scratch(N * 4, GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC, 'copy only'), caller.target),
  },
  'compute: destroyed pred buffer': {
    code: 'BUFFER_DESTROYED',
    message: /pred "dead pred" buffer was destroyed.*pass a live one/,
    call: () => {
      const dead = createBufferFrom(gpu.device, predData, STORAGE_IO(), 'dead pred');
      dead.destroy();
      return loss.compute(dead, caller.target);
    },
  },
  'compute: destroyed target buffer, grad asked': {
    code: 'BUFFER_DESTROYED',
    message: /The target "dead target" buffer was destroyed/,
    call: () => {
      const dead = createBufferFrom(gpu.device, targetData, STORAGE_IO(), 'dead target');
      dead.destroy();
      return loss.compute(caller.pred, { buffer: dead }, { grad: true });
    },
  },
  'compute: buffer still mapped': {
    code: 'BUFFER_MAPPED',
    message: /pred buffer "mapped" is mapped; call unmap\(\)/,
    call: () => {
      const mapped = gpu.device.createBuffer({
        label: 'mapped',
        size: N * 4,
        usage: STORAGE_IO(),
        mappedAtCreation: true,
      });
      return loss.compute(mapped, caller.target).finally(() => mapped.destroy());
    },
  },
  'compute: misaligned offset': {
    code: 'MISALIGNED_OFFSET',
    message: /pred offset number 4 must be a non-negative integer multiple of \d+/,
    call: () => loss.compute({ buffer: caller.spare, offset: 4 }, caller.target),
  },
  'compute: loss destroyed': {
    code: 'ENGINE_DESTROYED',
    message: /Dice loss was destroyed; create a new one with engine\.dice\(\)/,
    call: async () => {
      const other = await gpu.engine.dice(OPTIONS);
      other.destroy();
      await other.compute(predData, targetData);
    },
  },
  'compute: engine destroyed': {
    code: 'ENGINE_DESTROYED',
    message: /destroyed/,
    call: async () => {
      const otherEngine = await DiceEngine.create(gpu.device);
      const other = await otherEngine.dice(OPTIONS);
      otherEngine.destroy();
      await other.compute(predData, targetData);
    },
  },
  'compute: loss destroyed while the compute is in flight': {
    code: 'ENGINE_DESTROYED',
    message: /Dice loss was destroyed/,
    call: async () => {
      // destroy() lands at a different point of compute() for each delay (queued, staging,
      // awaiting the error scope, awaiting the readback, done): each call must either give the
      // reference result or reject with ENGINE_DESTROYED, never a bare WebGPU error.
      const delays: (() => Promise<unknown>)[] = [
        async () => undefined,
        () => Promise.resolve(),
        ...[1, 2, 3, 5, 8].map((ticks) => async () => {
          for (let i = 0; i < ticks; i++) await new Promise((resolve) => setTimeout(resolve, 0));
        }),
      ];
      let last: unknown;
      for (const delay of delays) {
        const other = await gpu.engine.dice(OPTIONS);
        const pending = other.compute(predData, targetData, { grad: true });
        await delay();
        other.destroy();
        try {
          checkAgainstReference(await pending);
        } catch (error) {
          if (!(error instanceof WgslDiceError) || error.code !== 'ENGINE_DESTROYED') throw error;
          last = error;
        }
      }
      throw last;
    },
  },
  // ---- encode() -------------------------------------------------------------------------
  'encode: not an encoder': {
    code: 'INVALID_INPUT',
    message: /GPUCommandEncoder.*got an object with keys \[\]/,
    call: () => loss.encode({} as never, { ...inputs(), ...outputs() }),
  },
  'encode: buffers missing': {
    code: 'INVALID_INPUT',
    message: /encode\(\) needs \{ pred, target, loss, grad\?, stats\? \}/,
    call: (encoder) => loss.encode(encoder, undefined as never),
  },
  'encode: unknown buffer name': {
    code: 'UNKNOWN_OPTION',
    message: /Unknown encode\(\) buffer "prediction".*Valid names: pred, target, loss, grad, stats/,
    call: (encoder) =>
      loss.encode(encoder, { prediction: caller.pred, target: caller.target, loss: caller.loss } as never),
  },
  'encode: loss buffer missing': {
    code: 'INVALID_INPUT',
    message: /loss must be a GPUBuffer or \{ buffer: GPUBuffer, offset\? \}, got undefined \(missing\)/,
    call: (encoder) => loss.encode(encoder, { ...inputs() } as never),
  },
  'encode: Float32Array instead of a buffer': {
    code: 'INVALID_INPUT',
    message: /pred must be a GPUBuffer.*Float32Array of length 384/,
    call: (encoder) => loss.encode(encoder, { ...outputs(), pred: predData as never, target: caller.target }),
  },
  'encode: grad too small': {
    code: 'BUFFER_TOO_SMALL',
    message: /grad buffer "short grad" holds 1520 bytes.*needs 1536/,
    call: (encoder) =>
      loss.encode(encoder, { ...inputs(), ...outputs(), grad: scratch(N * 4 - 16, STORAGE_IO(), 'short grad') }),
  },
  'encode: stats too small': {
    code: 'BUFFER_TOO_SMALL',
    message: /stats buffer.*needs 96/,
    call: (encoder) => loss.encode(encoder, { ...inputs(), ...outputs(), stats: scratch(80) }),
  },
  'encode: target too small from its offset': {
    code: 'BUFFER_TOO_SMALL',
    message: /target buffer "caller target" holds 1280 bytes from offset 256.*allocate at least 1792/,
    call: (encoder) =>
      loss.encode(encoder, { ...outputs(), pred: caller.pred, target: { buffer: caller.target, offset: 256 } }),
  },
  'encode: loss buffer without STORAGE': {
    code: 'BUFFER_USAGE',
    message: /loss buffer "case buffer" lacks GPUBufferUsage\.STORAGE/,
    call: (encoder) => loss.encode(encoder, { ...inputs(), ...outputs(), loss: scratch(16, GPUBufferUsage.UNIFORM) }),
  },
  'encode: negative offset': {
    code: 'MISALIGNED_OFFSET',
    message: /grad offset number -256/,
    call: (encoder) =>
      loss.encode(encoder, { ...inputs(), ...outputs(), grad: { buffer: caller.spare, offset: -256 } }),
  },
  'encode: NaN offset': {
    code: 'MISALIGNED_OFFSET',
    message: /stats offset number NaN/,
    call: (encoder) =>
      loss.encode(encoder, { ...inputs(), ...outputs(), stats: { buffer: caller.spare, offset: NaN } }),
  },
  'encode: offset as a string': {
    code: 'MISALIGNED_OFFSET',
    message: /loss offset string "256"/,
    call: (encoder) =>
      loss.encode(encoder, { ...inputs(), ...outputs(), loss: { buffer: caller.spare, offset: '256' as never } }),
  },
  'encode: misspelt binding field': {
    code: 'UNKNOWN_OPTION',
    message: /Unknown grad binding field "offest".*Did you mean "offset"/,
    call: (encoder) =>
      loss.encode(encoder, { ...inputs(), ...outputs(), grad: { buffer: caller.spare, offest: 256 } as never }),
  },
  'encode: grad overlapping target': {
    code: 'BUFFER_OVERLAP',
    message: /grad \(bytes 0..1536 of buffer "caller target"\) overlaps target/,
    call: (encoder) => loss.encode(encoder, { ...inputs(), ...outputs(), grad: caller.target }),
  },
  'encode: grad and target in one buffer, apart': {
    code: 'BUFFER_OVERLAP',
    message: /target and grad share buffer "caller spare".*put grad in a separate buffer/,
    call: (encoder) =>
      loss.encode(encoder, {
        ...outputs(),
        pred: caller.pred,
        target: { buffer: caller.spare, offset: 0 },
        grad: { buffer: caller.spare, offset: Math.ceil((N * 4) / align) * align },
      }),
  },
  'encode: loss overlapping pred': {
    code: 'BUFFER_OVERLAP',
    message: /loss .*overlaps pred.*overwrite an input/,
    call: (encoder) => loss.encode(encoder, { ...inputs(), ...outputs(), loss: caller.pred }),
  },
  'encode: stats overlapping target': {
    code: 'BUFFER_OVERLAP',
    message: /stats .*overlaps target/,
    call: (encoder) => loss.encode(encoder, { ...inputs(), ...outputs(), stats: caller.target }),
  },
  'encode: loss overlapping stats': {
    code: 'BUFFER_OVERLAP',
    message: /loss .*and stats .*overlap/,
    call: (encoder) => loss.encode(encoder, { ...inputs(), ...outputs(), loss: caller.stats }),
  },
  'encode: loss overlapping grad': {
    code: 'BUFFER_OVERLAP',
    message: /loss .*and grad .*overlap/,
    call: (encoder) =>
      loss.encode(encoder, { ...inputs(), ...outputs(), loss: { buffer: caller.grad, offset: align } }),
  },
  'encode: engine destroyed': {
    code: 'ENGINE_DESTROYED',
    message: /destroyed/,
    call: async (encoder) => {
      const otherEngine = await DiceEngine.create(gpu.device);
      const other = await otherEngine.dice(OPTIONS);
      otherEngine.destroy();
      other.encode(encoder, { ...inputs(), ...outputs() });
    },
  },
};

describe('rejected calls: typed error, nothing written, engine still works', () => {
  it('covers at least 40 cases', () => {
    expect(Object.keys(cases).length).toBeGreaterThanOrEqual(40);
  });
  it.each(Object.keys(cases))('%s', async (name) => {
    await expectRejectedCleanly(cases[name]);
  });
});

describe('calls that look odd but are valid', () => {
  async function encodeAndRead(
    buffers: Parameters<DiceLoss['encode']>[1],
    read: { loss: [GPUBuffer, number]; grad?: [GPUBuffer, number] },
  ) {
    return withValidation(gpu.device, async () => {
      const encoder = gpu.device.createCommandEncoder();
      loss.encode(encoder, buffers);
      gpu.device.queue.submit([encoder.finish()]);
      const lossValue = new Float32Array(await readBuffer(gpu.device, read.loss[0], read.loss[1] + 4))[
        read.loss[1] / 4
      ];
      const grad =
        read.grad &&
        new Float32Array((await readBuffer(gpu.device, read.grad[0])).slice(read.grad[1], read.grad[1] + N * 4));
      return { loss: lossValue, grad };
    });
  }

  it('grad may overwrite pred in place (pred is consumed before grad is written)', async () => {
    const shared = createBufferFrom(gpu.device, predData, STORAGE_IO(), 'pred then grad');
    const lossOut = scratch(16);
    const got = await encodeAndRead(
      { pred: shared, target: caller.target, loss: lossOut, grad: shared },
      { loss: [lossOut, 0], grad: [shared, 0] },
    );
    expectClose([got.loss], [want.loss], LOSS_TOL, 'loss');
    expectClose(got.grad!, want.grad, gradTolerance(want.grad), 'grad');
  });

  it('pred and target may share one buffer; loss and stats may share another', async () => {
    const inputsBuffer = scratch(2 * N * 4 + align, STORAGE_IO(), 'pred and target');
    const targetOffset = Math.ceil((N * 4) / align) * align;
    gpu.device.queue.writeBuffer(inputsBuffer, 0, predData);
    gpu.device.queue.writeBuffer(inputsBuffer, targetOffset, targetData);
    const outputsBuffer = scratch(2 * align, STORAGE_IO(), 'loss and stats');
    const got = await encodeAndRead(
      {
        pred: { buffer: inputsBuffer, offset: 0 },
        target: { buffer: inputsBuffer, offset: targetOffset },
        loss: { buffer: outputsBuffer, offset: align },
        stats: { buffer: outputsBuffer, offset: 0 },
      },
      { loss: [outputsBuffer, align] },
    );
    expectClose([got.loss], [want.loss], LOSS_TOL, 'loss');
  });

  it("a destroyed buffer given to encode() is reported by the caller's submit (documented)", async () => {
    const dead = createBufferFrom(gpu.device, predData, STORAGE_IO(), 'destroyed before encode');
    dead.destroy();
    const encoder = gpu.device.createCommandEncoder();
    const lossOut = scratch(16);
    // encode() cannot see it (WebGPU has no destroyed flag), so it records...
    loss.encode(encoder, { pred: dead, target: caller.target, loss: lossOut });
    gpu.device.pushErrorScope('validation');
    gpu.device.queue.submit([encoder.finish()]);
    const error = await gpu.device.popErrorScope();
    // ...and the queue rejects the submit, in the caller's error scope.
    expect(error?.message).toMatch(/destroyed/);
    lossOut.destroy();
  });

  it('every error code is one of the documented, stable codes', () => {
    const thrown = new Set(Object.values(cases).map((c) => c.code));
    for (const code of thrown) expect(WGSL_DICE_ERROR_CODES).toContain(code);
    expect(new Set(WGSL_DICE_ERROR_CODES).size).toBe(WGSL_DICE_ERROR_CODES.length);
  });
});
