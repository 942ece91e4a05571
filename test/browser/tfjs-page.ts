// Runs in Chromium (test/tfjs-browser.test.ts): TensorFlow.js on its webgpu backend
// (navigator.gpu, SwiftShader) with the built wgsl-dice/tfjs bundle (/dist/tfjs.js), as a web
// app would use it. Value and gradient of the seed's three losses through tf.valueAndGrad, and
// model.compile + model.fit of a tiny segmentation model with diceLoss() and no other set-up.
// Node compares the numbers with its float64 reference. WebGPU errors on tfjs's device are
// returned so the test fails on them.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-webgpu';
import { mulberry32 } from '../../src/reference/index.js';
import { diceLoss, multiclassDiceLoss, weightedDiceLoss } from '../../src/tfjs/index.js';

export interface TfjsBrowserCase {
  loss: 'diceLoss' | 'weightedDiceLoss' | 'multiclassDiceLoss';
  weights?: number[];
  shape: number[];
  pred: number[];
  target: number[];
}

export interface TfjsBrowserRun {
  backend: string;
  results: { loss: number; grad: number[]; calls: { gpu: number; tfjsOps: number } }[];
  fit: { batchLosses: number[]; calls: { gpu: number; tfjsOps: number } };
  gpuErrors: string[];
}

const ERROR_FILTERS: GPUErrorFilter[] = ['validation', 'out-of-memory', 'internal'];

async function run(cases: TfjsBrowserCase[]): Promise<TfjsBrowserRun> {
  if (!(await tf.setBackend('webgpu'))) throw new Error("tf.setBackend('webgpu') failed in Chromium");
  const device = (tf.backend() as unknown as { device: GPUDevice }).device;
  const gpuErrors: string[] = [];
  device.addEventListener('uncapturederror', (event) => {
    event.preventDefault();
    gpuErrors.push(`uncaptured: ${(event as GPUUncapturedErrorEvent).error.message}`);
  });
  for (const filter of ERROR_FILTERS) device.pushErrorScope(filter);
  try {
    const results = [];
    for (const c of cases) {
      const loss =
        c.loss === 'diceLoss'
          ? diceLoss()
          : c.loss === 'multiclassDiceLoss'
            ? multiclassDiceLoss()
            : weightedDiceLoss(c.weights!);
      await loss.prepare(c.shape);
      const yPred = tf.tensor(c.pred, c.shape);
      const yTrue = tf.tensor(c.target, c.shape);
      const { value, grad } = tf.valueAndGrad((p: tf.Tensor) => loss(yTrue, p))(yPred);
      results.push({ loss: (await value.data())[0], grad: Array.from(await grad.data()), calls: { ...loss.calls } });
      tf.dispose([yPred, yTrue, value, grad]);
      loss.dispose();
    }
    return { backend: tf.getBackend(), results, fit: await fitTinyModel(), gpuErrors };
  } finally {
    await device.queue.onSubmittedWorkDone();
    for (const filter of [...ERROR_FILTERS].reverse()) {
      const error = await device.popErrorScope();
      if (error) gpuErrors.push(`${filter}: ${error.message}`);
    }
  }
}

/** model.compile({ loss: diceLoss() }) + model.fit, as a user writes it: no prepare(). */
async function fitTinyModel(): Promise<TfjsBrowserRun['fit']> {
  const random = mulberry32(42);
  const [n, size] = [8, 12];
  const masks = Float32Array.from({ length: n * size * size }, (_, i) =>
    ((i % size) + Math.floor(i / size)) % 5 < 2 ? 1 : 0,
  );
  const images = masks.map((m) => 0.6 * m + 0.4 * random());
  const x = tf.tensor4d(images, [n, size, size, 1]);
  const y = tf.tensor4d(masks, [n, size, size, 1]);
  const model = tfl.sequential();
  model.add(
    tfl.layers.conv2d({
      inputShape: [size, size, 1],
      filters: 4,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }),
    }),
  );
  model.add(
    tfl.layers.conv2d({
      filters: 1,
      kernelSize: 1,
      activation: 'sigmoid',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }),
    }),
  );
  const loss = diceLoss();
  model.compile({ optimizer: tf.train.adam(0.05), loss });
  const batchLosses: number[] = [];
  await model.fit(x, y, {
    epochs: 6,
    batchSize: 4,
    shuffle: false,
    callbacks: { onBatchEnd: async (_, logs) => void batchLosses.push(logs!.loss) },
  });
  const calls = { ...loss.calls };
  model.dispose();
  loss.dispose();
  tf.dispose([x, y]);
  return { batchLosses, calls };
}

declare global {
  interface Window {
    wgslDiceTfjsBrowserTest?: { run: typeof run };
  }
}
window.wgslDiceTfjsBrowserTest = { run };
