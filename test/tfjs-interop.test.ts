// TensorFlow.js (WebGPU backend) and wgsl-dice on ONE GPUDevice: tfjs computes the prediction,
// wgsl-dice reads tfjs's GPU buffers and writes dL/dpred into a buffer that tfjs then takes as a
// tensor without a copy, and tfjs carries the chain rule on. Checked against the float64
// reference; everything runs inside withValidation, so any WebGPU error (from either library)
// fails the test.
//
// Facts about tfjs-backend-webgpu 4.22 this relies on (read in its source):
// - `new WebGPUBackend(device, adapterInfo)` takes an existing device; it only checks that
//   `navigator.gpu` exists (Node 20 has no `navigator`, so the test defines it); registered as
//   the 'webgpu' backend, it serves the package's kernels.
// - `tensor.dataToGPU()` returns `{ buffer, tensorRef }`, but the buffer is a GPU-side copy
//   (readToGPU does copyBufferToBuffer into a new buffer): no CPU round trip, one GPU copy.
// - The tensor's own buffer is `backend.tensorMap.get(tensor.dataId).resource` (public in the
//   typings) once `backend.uploadToGPU(dataId)` has run: truly zero-copy, but tfjs records work
//   lazily into its own encoder, which must be flushed (flushTfjs below) before another
//   library's submit reads the buffer, and before that library destroys a buffer tfjs used.
// - `tf.tensor({ buffer, zeroCopy: true }, shape, 'float32')` wraps a caller's buffer (it needs
//   STORAGE | COPY_SRC) without copying; the caller keeps it alive and destroys it.
// - Trap: `tf.cast(int32Tensor, 'float32')` is an identity on this backend (no precision is
//   lost, so the data is not converted): the "float32" tensor's GPU buffer still holds int32
//   bits, which any WGSL reading array<f32> sees as tiny denormals. Targets handed to wgsl-dice
//   must be computed in float32 (as here) or converted by a real kernel.
import * as tf from '@tensorflow/tfjs-core';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { create } from 'webgpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiceEngine, type DiceLossOptions } from '../src/index.js';
import { diceReference } from '../src/reference/index.js';
import { expectClose, getTestDevice, mulberry32, readBuffer, withValidation } from './helpers/gpu.js';
import { gradTolerance, LOSS_TOL, SUM_TOL } from './tolerance.js';

let device: GPUDevice;
let engine: DiceEngine;
let backend: WebGPUBackend;

beforeAll(async () => {
  device = await getTestDevice();
  // tfjs only checks that navigator.gpu exists; give it a real dawn.node GPU object, held by
  // navigator for the life of the process (collecting it while devices live crashes dawn.node).
  const scope = globalThis as { navigator?: { gpu?: unknown } };
  if (!scope.navigator?.gpu) {
    Object.defineProperty(globalThis, 'navigator', {
      value: { ...scope.navigator, gpu: create([]) },
      configurable: true,
    });
  }
  backend = new WebGPUBackend(device, device.adapterInfo);
  // The package registers a 'webgpu' factory that makes its own device when navigator.gpu
  // existed at import; replace it so tfjs and wgsl-dice share ours. The kernels stay registered.
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => backend);
  await tf.setBackend('webgpu');
  // Small tensors would otherwise run on the CPU and only be uploaded when read.
  tf.env().set('WEBGPU_CPU_FORWARD', false);
  engine = await DiceEngine.create(device, { label: 'tfjs interop' });
});
afterAll(() => engine?.destroy());

const SHAPE = [2, 16, 12, 3];
const ELEMENTS = SHAPE.reduce((a, b) => a * b, 1);

/**
 * tfjs computes pred = sigmoid(logits) and a one-hot target from float labels, on the GPU, in
 * float32 throughout: one-hot as relu(1 - |label - c|) (see the cast trap above).
 */
function tfjsInputs(seed: number) {
  const random = mulberry32(seed);
  const logits = tf.tensor(
    Float32Array.from({ length: ELEMENTS }, () => (random() - 0.5) * 6),
    SHAPE,
    'float32',
  );
  const labelValues = Float32Array.from({ length: ELEMENTS / 3 }, () => Math.floor(random() * 3));
  const labels = tf.tensor(labelValues, [...SHAPE.slice(0, -1), 1], 'float32');
  const pred = tf.sigmoid(logits);
  const target = tf.relu(tf.sub(1, tf.abs(tf.sub(labels, tf.range(0, 3, 1, 'float32')))));
  return { logits, labels, pred, target };
}

/** The GPUBuffer of dataToGPU()'s result (WebGL would give a texture instead). */
function bufferOf(data: ReturnType<tf.Tensor['dataToGPU']>): GPUBuffer {
  if (!data.buffer) throw new Error('dataToGPU() gave no GPUBuffer: is tfjs on its webgpu backend?');
  return data.buffer;
}

/** Waits until neither library has work in flight, before our buffers are destroyed. */
async function settle(): Promise<void> {
  flushTfjs();
  await device.queue.onSubmittedWorkDone();
}

/**
 * Makes tfjs submit the kernels it has recorded (it records lazily into its own encoder), so
 * work submitted afterwards by another library sees their results.
 */
function flushTfjs(): void {
  backend.ensureCommandEncoderReady();
  backend.endComputePassEncoder();
  backend.submitQueue();
}

const CASES: DiceLossOptions[] = [
  { shape: SHAPE, reduce: 'global' },
  { shape: SHAPE, reduce: 'per-class', weights: [0.2, 0.3, 0.5] },
  { shape: SHAPE, reduce: 'per-class' },
];

describe('tfjs WebGPU tensors in, tfjs tensor out, one device', () => {
  it("tfjs runs on the engine's device", () => {
    expect(tf.getBackend()).toBe('webgpu');
    expect((tf.backend() as WebGPUBackend).device).toBe(device);
  });

  it.each(CASES)('%j via dataToGPU() (one GPU-side copy by tfjs)', async (options) => {
    await withValidation(device, async () => {
      const { logits, labels, pred, target } = tfjsInputs(1);
      const predGpu = pred.dataToGPU();
      const targetGpu = target.dataToGPU();
      const loss = await engine.dice(options);
      const { lossBuffer, gradBuffer } = runLoss(loss, bufferOf(predGpu), bufferOf(targetGpu));
      const grad = tf.tensor({ buffer: gradBuffer, zeroCopy: true }, SHAPE, 'float32');
      try {
        await checkAgainstReference(options, pred, target, lossBuffer, grad);
      } finally {
        tf.dispose([logits, labels, pred, target, predGpu.tensorRef, targetGpu.tensorRef, grad]);
        loss.destroy();
        await settle();
        lossBuffer.destroy();
        gradBuffer.destroy();
      }
    });
  });

  it.each(CASES)("%j on the tensors' own buffers (no copy at all)", async (options) => {
    await withValidation(device, async () => {
      const { logits, labels, pred, target } = tfjsInputs(2);
      const ownBuffer = (tensor: tf.Tensor) => {
        backend.uploadToGPU(tensor.dataId);
        return backend.tensorMap.get(tensor.dataId).resource as GPUBuffer;
      };
      const predBuffer = ownBuffer(pred);
      const targetBuffer = ownBuffer(target);
      flushTfjs();
      const loss = await engine.dice(options);
      const { lossBuffer, gradBuffer } = runLoss(loss, predBuffer, targetBuffer);
      const grad = tf.tensor({ buffer: gradBuffer, zeroCopy: true }, SHAPE, 'float32');
      expect(backend.tensorMap.get(grad.dataId).resource, 'the gradient tensor wraps our buffer').toBe(gradBuffer);
      try {
        await checkAgainstReference(options, pred, target, lossBuffer, grad);
        // tfjs continues the chain rule through its sigmoid: dL/dlogits = dL/dpred * p (1 - p).
        const dLogits = tf.mul(grad, tf.mul(pred, tf.sub(1, pred)));
        const p = await pred.data();
        const want = diceReference(p, await target.data(), options).grad.map((g, i) => g * p[i] * (1 - p[i]));
        expectClose(await dLogits.data(), want, gradTolerance(want), 'dL/dlogits in tfjs');
        tf.dispose(dLogits);
      } finally {
        tf.dispose([logits, labels, pred, target, grad]);
        loss.destroy();
        await settle();
        lossBuffer.destroy();
        gradBuffer.destroy();
      }
    });
  });
});

describe('the cast trap', () => {
  it('tf.cast(int32 -> float32) leaves int32 bits in the GPU buffer on tfjs-backend-webgpu 4.22', async () => {
    await withValidation(device, async () => {
      const ints = tf.tensor(Int32Array.from([1, 0, 2, 3]), [4], 'int32');
      backend.uploadToGPU(ints.dataId);
      const floats = tf.cast(ints, 'float32');
      const gpu = floats.dataToGPU();
      const raw = await readBuffer(device, bufferOf(gpu), 16);
      // If tfjs ever converts for real, this fails: drop the trap from the notes above.
      expect(Array.from(new Int32Array(raw))).toEqual([1, 0, 2, 3]);
      expect(new Float32Array(raw)[0]).toBeLessThan(1e-40);
      tf.dispose([ints, floats, gpu.tensorRef]);
    });
  });
});

/** Records the loss and its gradient into one command encoder of our own and submits it. */
function runLoss(loss: Awaited<ReturnType<DiceEngine['dice']>>, pred: GPUBuffer, target: GPUBuffer) {
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC;
  const lossBuffer = device.createBuffer({ label: 'tfjs interop loss', size: 4, usage });
  const gradBuffer = device.createBuffer({ label: 'tfjs interop grad', size: ELEMENTS * 4, usage });
  const encoder = device.createCommandEncoder({ label: 'tfjs interop' });
  loss.encode(encoder, { pred, target, loss: lossBuffer, grad: gradBuffer });
  device.queue.submit([encoder.finish()]);
  return { lossBuffer, gradBuffer };
}

async function checkAgainstReference(
  options: DiceLossOptions,
  pred: tf.Tensor,
  target: tf.Tensor,
  lossBuffer: GPUBuffer,
  grad: tf.Tensor,
): Promise<void> {
  const want = diceReference(await pred.data(), await target.data(), options);
  // One-hot: exactly one 1 per voxel, so a target tfjs never computed cannot pass unnoticed.
  expect(want.targetSum.reduce((a, b) => a + b, 0)).toBe(ELEMENTS / 3);
  const [gotLoss] = new Float32Array(await readBuffer(device, lossBuffer, 4));
  expectClose([gotLoss], [want.loss], LOSS_TOL, 'loss');
  expect(grad.shape).toEqual(SHAPE);
  expectClose(await grad.data(), want.grad, gradTolerance(want.grad), 'dL/dpred read through tfjs');
  const sum = tf.sum(grad);
  expectClose(
    await sum.data(),
    [want.grad.reduce((a, b) => a + b, 0)],
    { ...SUM_TOL, atol: 1e-5 },
    'tf.sum of the gradient',
  );
  sum.dispose();
}
