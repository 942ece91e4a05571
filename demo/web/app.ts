// The web demo (demo/web/index.html): the same data set and trainer as the Node demo, on
// navigator.gpu, drawing the validation image, its prediction and gradient and the curves after
// every epoch. `window.wgslDiceDemo` lets a test drive it (test/demo.test.ts); so does the URL:
// `?loss=softmax&epochs=5&autostart` fills the form and starts training on load, and the page
// says "Done" (and sets <body data-state="done">) when a run has finished.
import { DiceEngine } from '../../src/index.js';
import { makePolypDataset, mulberry32, type PolypDataset } from '../data.js';
import { PolypTrainer, shuffled, VARIANTS, type Evaluation } from '../model.js';

export interface DemoRun {
  loss: string;
  epochs: { epoch: number; loss: number; dice: number }[];
  gpuErrors: string[];
  done: boolean;
  error?: string;
}

export interface DemoSettings {
  loss: string;
  epochs: number;
  images: number;
  batch: number;
  lr: number;
}

const SIZE = 64;
const SEED = 1;
const status = document.querySelector<HTMLDivElement>('#status')!;
const form = document.querySelector<HTMLFormElement>('#controls')!;
const lossSelect = form.querySelector<HTMLSelectElement>('select[name=loss]')!;
for (const variant of VARIANTS) lossSelect.add(new Option(variant.title, variant.id));

let devicePromise: Promise<{ device: GPUDevice; engine: DiceEngine; errors: string[] }> | undefined;

/** One device and engine for the page; WebGPU errors are collected and shown, never only logged. */
function gpu() {
  devicePromise ??= (async () => {
    if (!navigator.gpu) throw new Error('This browser has no WebGPU (navigator.gpu is missing).');
    const adapter = await navigator.gpu.requestAdapter();
    if (!adapter) throw new Error('navigator.gpu.requestAdapter() found no adapter.');
    const device = await adapter.requestDevice({ label: 'wgsl-dice web demo' });
    const errors: string[] = [];
    device.addEventListener('uncapturederror', (event) => {
      event.preventDefault();
      errors.push((event as GPUUncapturedErrorEvent).error.message);
    });
    device.lost.then((info) => errors.push(`device lost: ${info.message}`));
    return { device, engine: await DiceEngine.create(device, { label: 'web demo' }), errors };
  })();
  return devicePromise;
}

let running: Promise<DemoRun> | undefined;

async function train(settings: DemoSettings): Promise<DemoRun> {
  const variant = VARIANTS.find((v) => v.id === settings.loss);
  if (!variant) throw new Error(`unknown loss ${settings.loss}`);
  const run: DemoRun = { loss: variant.id, epochs: [], gpuErrors: [], done: false };
  lossSelect.value = variant.id;
  const { engine, errors } = await gpu();
  errors.length = 0;
  const validationCount = Math.max(2, Math.round(settings.images / 4));
  const dataset = makePolypDataset(settings.images, SIZE, SEED);
  const trainer = await PolypTrainer.create(engine, dataset, variant, {
    batchSize: settings.batch,
    validationCount,
    learningRate: settings.lr,
    seed: SEED,
  });
  try {
    const shuffle = mulberry32(SEED * 7919 + 17);
    const firstValidation = trainer.trainCount;
    draw(dataset, firstValidation, await trainer.evaluate(), run, 0, settings.epochs);
    for (let epoch = 1; epoch <= settings.epochs; epoch++) {
      const result = await trainer.epoch(shuffled(trainer.trainCount, shuffle));
      draw(dataset, firstValidation, result, run, epoch, settings.epochs);
      if (errors.length > 0) break;
      // Yield to the page between epochs so it can paint and stay responsive.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  } finally {
    trainer.destroy();
    await engine.device.queue.onSubmittedWorkDone();
    run.gpuErrors = [...errors];
    run.done = true;
  }
  if (run.gpuErrors.length > 0) {
    showStatus(`WebGPU errors:\n${run.gpuErrors.join('\n')}`, true);
  } else {
    const last = run.epochs[run.epochs.length - 1];
    showStatus(
      `Done: ${run.loss}, ${settings.epochs} epochs. Validation Dice ${run.epochs[0].dice.toFixed(3)} -> ` +
        `${last.dice.toFixed(3)}, validation loss ${run.epochs[0].loss.toFixed(4)} -> ${last.loss.toFixed(4)}.`,
    );
  }
  document.body.dataset.state = run.gpuErrors.length > 0 ? 'failed' : 'done';
  return run;
}

function draw(
  dataset: PolypDataset,
  image: number,
  result: Evaluation,
  run: DemoRun,
  epoch: number,
  epochs: number,
): void {
  run.epochs.push({ epoch, loss: result.loss, dice: result.dice });
  const pixels = SIZE * SIZE;
  paint('input', (p) => [0, 1, 2].map((c) => dataset.images[(image * pixels + p) * 3 + c] * 255));
  paint('target', (p) => grey(dataset.masks[image * pixels + p]));
  paint('prediction', (p) => grey(result.polyp[p]));
  let largest = 0;
  for (let p = 0; p < pixels; p++) largest = Math.max(largest, Math.abs(result.logitGradient[p]));
  paint('gradient', (p) => diverging(largest === 0 ? 0 : result.logitGradient[p] / largest));
  colourBar(largest);
  chart(run);
  showStatus(
    `${run.loss}: epoch ${epoch}/${epochs}  validation loss ${result.loss.toFixed(4)}  ` +
      `validation Dice ${result.dice.toFixed(3)}`,
  );
}

const grey = (v: number) => [v * 255, v * 255, v * 255];

/** Blue below 0, white at 0, red above, for t in [-1, 1]. */
function diverging(t: number): number[] {
  const fade = (1 - Math.min(1, Math.abs(t))) * 255;
  return t < 0 ? [fade, fade, 255] : [255, fade, fade];
}

/** The gradient picture's colour bar, from -largest to +largest, with its scale. */
function colourBar(largest: number): void {
  const canvas = document.querySelector<HTMLCanvasElement>('#gradient-scale')!;
  const context = canvas.getContext('2d')!;
  const { width, height } = canvas;
  context.clearRect(0, 0, width, height);
  for (let x = 0; x < width; x++) {
    const [r, g, b] = diverging((x / (width - 1)) * 2 - 1);
    context.fillStyle = `rgb(${r}, ${g}, ${b})`;
    context.fillRect(x, 0, 1, 10);
  }
  const scale = largest === 0 ? '0' : largest.toPrecision(2);
  context.fillStyle = '#555';
  context.font = '11px system-ui, sans-serif';
  context.textAlign = 'left';
  context.fillText(`-${scale}`, 0, 24);
  context.textAlign = 'center';
  context.fillText('0', width / 2, 24);
  context.textAlign = 'right';
  context.fillText(`+${scale}`, width, 24);
  context.textAlign = 'left';
}

function paint(id: string, color: (pixel: number) => number[]): void {
  const canvas = document.querySelector<HTMLCanvasElement>(`#${id}`)!;
  canvas.width = SIZE;
  canvas.height = SIZE;
  const context = canvas.getContext('2d')!;
  const image = context.createImageData(SIZE, SIZE);
  for (let p = 0; p < SIZE * SIZE; p++) image.data.set([...color(p), 255], p * 4);
  context.putImageData(image, 0, 0);
}

function chart(run: DemoRun): void {
  const canvas = document.querySelector<HTMLCanvasElement>('#chart')!;
  const context = canvas.getContext('2d')!;
  const { width, height } = canvas;
  const [left, right, top, bottom] = [52, 110, 10, 24];
  const last = Math.max(1, run.epochs.length - 1);
  const x = (epoch: number) => left + (epoch / last) * (width - left - right);
  const y = (value: number) => height - bottom - value * (height - top - bottom);
  context.clearRect(0, 0, width, height);
  context.font = '11px system-ui, sans-serif';
  context.strokeStyle = '#ddd';
  context.fillStyle = '#555';
  for (let tick = 0; tick <= 5; tick++) {
    context.beginPath();
    context.moveTo(left, y(tick / 5));
    context.lineTo(width - right, y(tick / 5));
    context.stroke();
    context.fillText((tick / 5).toFixed(1), 22, y(tick / 5) + 4);
  }
  context.fillText('epoch', (width - right) / 2, height - 6);
  context.save();
  context.translate(12, (top + height - bottom) / 2);
  context.rotate(-Math.PI / 2);
  context.textAlign = 'center';
  context.fillText('loss and Dice (validation)', 0, 0);
  context.restore();
  const series: [string, string, (e: DemoRun['epochs'][number]) => number][] = [
    ['validation loss', '#ff7f0e', (e) => e.loss],
    ['validation Dice', '#1f77b4', (e) => e.dice],
  ];
  series.forEach(([label, color, value], i) => {
    context.strokeStyle = color;
    context.lineWidth = 2;
    context.beginPath();
    run.epochs.forEach((e, j) =>
      j === 0 ? context.moveTo(x(e.epoch), y(value(e))) : context.lineTo(x(e.epoch), y(value(e))),
    );
    context.stroke();
    context.fillStyle = color;
    context.fillText(label, width - right + 8, top + 14 + i * 16);
  });
  context.lineWidth = 1;
}

function showStatus(text: string, isError = false): void {
  status.textContent = text;
  status.classList.toggle('error', isError);
}

function start(settings: DemoSettings): Promise<DemoRun> {
  if (running) return running;
  running = train(settings)
    .catch((error: Error) => {
      showStatus(error.message, true);
      throw error;
    })
    .finally(() => {
      running = undefined;
    });
  return running;
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const data = new FormData(form);
  start({
    loss: String(data.get('loss')),
    epochs: Number(data.get('epochs')),
    images: Number(data.get('images')),
    batch: Number(data.get('batch')),
    lr: Number(data.get('lr')),
  }).catch(() => undefined);
});

declare global {
  interface Window {
    wgslDiceDemo?: { start: typeof start };
  }
}
window.wgslDiceDemo = { start };
showStatus(navigator.gpu ? 'Ready: choose a loss and press Train.' : 'This browser has no WebGPU.', !navigator.gpu);
startFromUrl(new URLSearchParams(location.search));

/** `?loss=softmax&epochs=5&images=48&batch=6&lr=0.02&autostart`: fills the form; autostart trains at once. */
function startFromUrl(params: URLSearchParams): void {
  for (const name of ['loss', 'epochs', 'images', 'batch', 'lr']) {
    const value = params.get(name);
    const field = form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement | null;
    if (value === null || !field) continue;
    if (name === 'loss' && !VARIANTS.some((v) => v.id === value)) {
      showStatus(`Unknown loss "${value}" in the URL; choose one of: ${VARIANTS.map((v) => v.id).join(', ')}.`, true);
      return;
    }
    field.value = value;
  }
  if (params.has('autostart') && navigator.gpu) form.requestSubmit();
}
