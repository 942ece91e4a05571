// Runs in Chromium (test/browser.test.ts): the built core bundle (/dist/index.js) computes the
// seed's losses with gradients on navigator.gpu, through compute() and through encode() on
// buffers the page owns; the built reference bundle (/dist/reference.js) computes the float64
// reference in the page. Node compares both with its own reference. Every WebGPU error, scoped
// or uncaptured, is returned so the test fails on it.
import { DiceEngine, type DiceLossOptions } from '../../src/index.js';
import { diceReference } from '../../src/reference/index.js';

export interface BrowserCase {
  options: DiceLossOptions;
  pred: number[];
  target: number[];
}

export interface BrowserCaseResult {
  loss: number;
  dice: number[];
  grad: number[];
  /** The same loss recorded with encode() into the page's own buffers and command encoder. */
  encodedLoss: number;
  encodedGrad: number[];
  /** diceReference from /dist/reference.js, run in the page. */
  reference: { loss: number; dice: number[]; grad: number[] };
}

export interface BrowserRun {
  adapter: { vendor: string; architecture: string; device: string; description: string };
  results: BrowserCaseResult[];
  gpuErrors: string[];
}

const ERROR_FILTERS: GPUErrorFilter[] = ['validation', 'out-of-memory', 'internal'];

async function run(cases: BrowserCase[]): Promise<BrowserRun> {
  if (!navigator.gpu) {
    throw new Error(
      `navigator.gpu is missing in this Chromium (isSecureContext: ${isSecureContext}); ` +
        'launch it with --enable-unsafe-webgpu and serve the page from http://127.0.0.1.',
    );
  }
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) {
    throw new Error(
      'navigator.gpu.requestAdapter() returned null: Chromium found no WebGPU adapter. On Linux it needs ' +
        "--enable-unsafe-webgpu; without a GPU it runs on SwiftShader, which Debian's chromium package ships.",
    );
  }
  const device = await adapter.requestDevice({ label: 'wgsl-dice browser test' });
  const gpuErrors: string[] = [];
  device.addEventListener('uncapturederror', (event) => {
    event.preventDefault();
    gpuErrors.push(`uncaptured: ${(event as GPUUncapturedErrorEvent).error.message}`);
  });
  device.lost.then((info) => gpuErrors.push(`device lost (${info.reason}): ${info.message}`));

  for (const filter of ERROR_FILTERS) device.pushErrorScope(filter);
  const engine = await DiceEngine.create(device, { label: 'browser test' });
  const results: BrowserCaseResult[] = [];
  try {
    for (const { options, pred, target } of cases) {
      const predData = new Float32Array(pred);
      const targetData = new Float32Array(target);
      const loss = await engine.dice(options);
      const computed = await loss.compute(predData, targetData, { grad: true });
      const encoded = await runEncoded(device, loss, predData, targetData);
      const reference = diceReference(predData, targetData, options);
      results.push({
        loss: computed.loss,
        dice: Array.from(computed.perClass.dice),
        grad: Array.from(computed.grad!),
        encodedLoss: encoded.loss,
        encodedGrad: Array.from(encoded.grad),
        reference: { loss: reference.loss, dice: Array.from(reference.dice), grad: Array.from(reference.grad) },
      });
      loss.destroy();
    }
  } finally {
    engine.destroy();
    await device.queue.onSubmittedWorkDone();
    for (const filter of [...ERROR_FILTERS].reverse()) {
      const error = await device.popErrorScope();
      if (error) gpuErrors.push(`${filter}: ${error.message}`);
    }
  }
  const info = adapter.info;
  device.destroy();
  return {
    adapter: {
      vendor: info.vendor,
      architecture: info.architecture,
      device: info.device,
      description: info.description,
    },
    results,
    gpuErrors,
  };
}

/** The zero-readback training path: the page's buffers, one command encoder, one submit. */
async function runEncoded(
  device: GPUDevice,
  loss: Awaited<ReturnType<DiceEngine['dice']>>,
  pred: Float32Array<ArrayBuffer>,
  target: Float32Array<ArrayBuffer>,
): Promise<{ loss: number; grad: Float32Array }> {
  const bytes = pred.byteLength;
  const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
  const input = (data: Float32Array<ArrayBuffer>, label: string) => {
    const buffer = device.createBuffer({ label, size: bytes, usage: storage });
    device.queue.writeBuffer(buffer, 0, data);
    return buffer;
  };
  const predBuffer = input(pred, 'page pred');
  const targetBuffer = input(target, 'page target');
  const lossBuffer = device.createBuffer({ label: 'page loss', size: 4, usage: storage });
  const gradBuffer = device.createBuffer({ label: 'page grad', size: bytes, usage: storage });
  const readback = device.createBuffer({
    label: 'page readback',
    size: 4 + bytes,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const encoder = device.createCommandEncoder({ label: 'page step' });
  loss.encode(encoder, { pred: predBuffer, target: targetBuffer, loss: lossBuffer, grad: gradBuffer });
  encoder.copyBufferToBuffer(lossBuffer, 0, readback, 0, 4);
  encoder.copyBufferToBuffer(gradBuffer, 0, readback, 4, bytes);
  device.queue.submit([encoder.finish()]);
  await readback.mapAsync(GPUMapMode.READ);
  const mapped = readback.getMappedRange();
  const result = { loss: new Float32Array(mapped, 0, 1)[0], grad: new Float32Array(mapped.slice(4)) };
  readback.unmap();
  for (const buffer of [predBuffer, targetBuffer, lossBuffer, gradBuffer, readback]) buffer.destroy();
  return result;
}

declare global {
  interface Window {
    wgslDiceBrowserTest?: { run: typeof run };
  }
}
window.wgslDiceBrowserTest = { run };
