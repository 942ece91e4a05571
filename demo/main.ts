// `npm run demo -- --out DIR`: trains a small per-pixel segmentation model on the GPU on a
// seeded synthetic polyp data set, once per loss (the three classic TensorFlow Dice losses: global, class-weighted and multi-class
// per-class Dice, and softmax Dice from logits), and writes PNGs (input, target, prediction,
// gradient heatmap, loss curve) and summary.json to DIR.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DiceEngine } from '../src/index.js';
import { describeAdapter, requestNodeDevice, takeUncapturedErrors } from '../src/node/index.js';
import { makePolypDataset, mulberry32 } from './data.js';
import { PolypTrainer, shuffled, VARIANTS, type Evaluation, type Variant } from './model.js';
import { writeGrayPng, writeHeatmapPng, writeLineChart, writeRgbPng } from './png.js';
import { TrainingProgress } from './progress.js';

const HELP = `Usage: npm run demo -- [options]      (or: node dist/demo.js [options])

Trains a per-pixel segmentation model on the GPU (WGSL forward, backward and Adam, with
wgsl-dice's loss and dL/dpred in the same command encoder) on seeded synthetic polyp images,
once per loss, and writes for each: PNGs of validation images (input, target, predicted polyp
probability, dL/dpred from wgsl-dice as a heatmap, and the same through the activation,
dL/dlogit), loss-curve.png, and for all of them summary.json.

Options:
  --out DIR          Output folder (default: demo-out).
  --epochs N         Epochs per loss (default 20).
  --images N         Images in the data set, the last quarter held out (default 48).
  --batch N          Images per training step (default 6).
  --size N           Image side in pixels (default 64).
  --lr X             Adam learning rate (default 0.02).
  --seed N           Seed of the data set and the initial weights (default 1).
  --losses A,B       Which losses: ${VARIANTS.map((v) => v.id).join(', ')} (default all).
  -h, --help         Show this help.
`;

interface Options {
  out: string;
  epochs: number;
  images: number;
  batch: number;
  size: number;
  lr: number;
  seed: number;
  variants: Variant[];
}

function parseOptions(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      out: { type: 'string', default: 'demo-out' },
      epochs: { type: 'string', default: '20' },
      images: { type: 'string', default: '48' },
      batch: { type: 'string', default: '6' },
      size: { type: 'string', default: '64' },
      lr: { type: 'string', default: '0.02' },
      seed: { type: 'string', default: '1' },
      losses: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return undefined;
  const integer = (name: keyof typeof values, min: number) => {
    const value = Number(values[name]);
    if (!Number.isInteger(value) || value < min)
      throw new Error(`--${name} must be an integer >= ${min}, got ${values[name]}`);
    return value;
  };
  const lr = Number(values.lr);
  if (!(lr > 0)) throw new Error(`--lr must be a positive number, got ${values.lr}`);
  const ids = values.losses?.split(',') ?? VARIANTS.map((v) => v.id);
  const variants = ids.map((id) => {
    const variant = VARIANTS.find((v) => v.id === id);
    if (!variant)
      throw new Error(`unknown loss "${id}" in --losses; choose from ${VARIANTS.map((v) => v.id).join(', ')}`);
    return variant;
  });
  const options = {
    out: resolve(values.out!),
    epochs: integer('epochs', 1),
    images: integer('images', 4),
    batch: integer('batch', 1),
    size: integer('size', 8),
    lr,
    seed: integer('seed', 0),
    variants,
  };
  const training = options.images - validationCount(options.images);
  if (options.batch > training) {
    throw new Error(
      `--batch ${options.batch} is more than the ${training} training images; lower --batch or raise --images`,
    );
  }
  return options;
}

const validationCount = (images: number) => Math.max(2, Math.round(images / 4));

function gpuErrors(errors: GPUError[]): Error {
  return new Error(`WebGPU errors:\n${errors.map((e) => e.message).join('\n')}`);
}

/** Stops at the first epoch with a WebGPU error instead of training on garbage. */
function assertNoGpuErrors(device: GPUDevice): void {
  const errors = takeUncapturedErrors(device);
  if (errors.length > 0) throw gpuErrors(errors);
}

async function main(argv: string[]): Promise<void> {
  const options = parseOptions(argv);
  if (!options) {
    process.stdout.write(HELP);
    return;
  }
  const started = performance.now();
  const dataset = makePolypDataset(options.images, options.size, options.seed);
  const validation = validationCount(options.images);
  const device = await requestNodeDevice({ label: 'wgsl-dice demo' });
  const adapter = describeAdapter(device);
  const engine = await DiceEngine.create(device, { label: 'wgsl-dice demo' });
  console.log(
    `wgsl-dice demo on ${adapter.description || adapter.vendor}: ${options.images} images of ` +
      `${options.size}x${options.size} (${validation} held out), batch ${options.batch}, ${options.epochs} epochs`,
  );
  mkdirSync(options.out, { recursive: true });

  const progress = new TrainingProgress();
  const results = [];
  try {
    for (const variant of options.variants) {
      results.push(await train(engine, dataset, variant, options, validation, progress));
    }
  } finally {
    progress.stop();
    engine.destroy();
    await device.queue.onSubmittedWorkDone();
    const errors = takeUncapturedErrors(device);
    device.destroy();
    // eslint-disable-next-line no-unsafe-finally -- the device's validation errors say more than the failure they caused
    if (errors.length > 0) throw gpuErrors(errors);
  }

  const summary = {
    adapter,
    options: { ...options, variants: undefined, losses: options.variants.map((v) => v.id) },
    seconds: (performance.now() - started) / 1000,
    variants: results,
  };
  writeFileSync(join(options.out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  console.log('');
  for (const r of results) {
    console.log(
      `${r.id.padEnd(10)} val Dice ${r.diceBefore.toFixed(3)} -> ${r.diceAfter.toFixed(3)}  (${r.seconds.toFixed(1)} s)`,
    );
  }
  console.log(`wrote ${options.out} in ${summary.seconds.toFixed(1)} s`);
}

async function train(
  engine: DiceEngine,
  dataset: ReturnType<typeof makePolypDataset>,
  variant: Variant,
  options: Options,
  validation: number,
  progress: TrainingProgress,
) {
  const started = performance.now();
  const trainer = await PolypTrainer.create(engine, dataset, variant, {
    batchSize: options.batch,
    validationCount: validation,
    learningRate: options.lr,
    seed: options.seed,
  });
  try {
    const shuffle = mulberry32(options.seed * 7919 + 17);
    const before = await trainer.evaluate();
    assertNoGpuErrors(engine.device);
    const epochs: { epoch: number; trainLoss: number | null; valLoss: number; dice: number }[] = [
      { epoch: 0, trainLoss: null, valLoss: before.loss, dice: before.dice },
    ];
    progress.log(`\n${variant.id}: ${variant.title}`);
    progress.log(
      `  epoch  0/${options.epochs}${' '.repeat(22)}val loss ${before.loss.toFixed(4)}  val Dice ${before.dice.toFixed(3)}`,
    );
    progress.start(variant.id, options.epochs, before.dice);
    let last: Evaluation = before;
    for (let epoch = 1; epoch <= options.epochs; epoch++) {
      const result = await trainer.epoch(shuffled(trainer.trainCount, shuffle));
      assertNoGpuErrors(engine.device);
      const trainLoss = result.stepLosses.reduce((a, b) => a + b, 0) / result.stepLosses.length;
      epochs.push({ epoch, trainLoss, valLoss: result.loss, dice: result.dice });
      progress.epoch(
        epoch,
        `  epoch ${String(epoch).padStart(2)}/${options.epochs}  train loss ${trainLoss.toFixed(4)}  ` +
          `val loss ${result.loss.toFixed(4)}  val Dice ${result.dice.toFixed(3)}`,
        { loss: trainLoss, dice: result.dice },
      );
      last = result;
    }
    writeImages(join(options.out, variant.id), dataset, trainer.trainCount, last, epochs);
    return {
      id: variant.id,
      title: variant.title,
      seconds: (performance.now() - started) / 1000,
      diceBefore: before.dice,
      diceAfter: last.dice,
      epochs,
    };
  } finally {
    trainer.destroy();
  }
}

/** The first validation images (input, target, prediction, gradient heatmap) and the curves. */
function writeImages(
  dir: string,
  dataset: ReturnType<typeof makePolypDataset>,
  firstValidation: number,
  evaluation: Evaluation,
  epochs: { trainLoss: number | null; valLoss: number; dice: number }[],
): void {
  mkdirSync(dir, { recursive: true });
  const { size } = dataset;
  const pixels = size * size;
  const shown = Math.min(3, evaluation.polyp.length / pixels);
  for (let i = 0; i < shown; i++) {
    const image = firstValidation + i;
    writeRgbPng(
      join(dir, `val-${i}-input.png`),
      dataset.images.subarray(image * pixels * 3, (image + 1) * pixels * 3),
      size,
    );
    writeGrayPng(join(dir, `val-${i}-target.png`), dataset.masks.subarray(image * pixels, (image + 1) * pixels), size);
    writeGrayPng(join(dir, `val-${i}-prediction.png`), evaluation.polyp.subarray(i * pixels, (i + 1) * pixels), size);
    writeHeatmapPng(
      join(dir, `val-${i}-gradient.png`),
      evaluation.gradient.subarray(i * pixels, (i + 1) * pixels),
      size,
    );
    writeHeatmapPng(
      join(dir, `val-${i}-gradient-logits.png`),
      evaluation.logitGradient.subarray(i * pixels, (i + 1) * pixels),
      size,
    );
  }
  writeLineChart(join(dir, 'loss-curve.png'), [
    { label: 'train loss', color: [214, 39, 40], values: epochs.map((e) => e.trainLoss ?? NaN) },
    { label: 'val loss', color: [255, 127, 14], values: epochs.map((e) => e.valLoss) },
    { label: 'val Dice', color: [31, 119, 180], values: epochs.map((e) => e.dice) },
  ]);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`demo: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
