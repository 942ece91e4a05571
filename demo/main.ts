// `npm run demo -- --out DIR`: trains a small per-pixel segmentation model on the GPU on a
// seeded synthetic polyp data set, once per loss (the three classic TensorFlow Dice losses:
// global, class-weighted and multi-class, and multi-class Dice on softmax outputs), and writes
// titled pictures with their colour scales (input, target, prediction, dL/dpred, dL/dlogit), a
// loss curve per loss and the validation Dice of every loss, summary.json, and index.html: one
// page showing every picture with a caption.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DiceEngine } from '../src/index.js';
import { describeAdapter, requestNodeDevice, takeUncapturedErrors } from '../src/node/index.js';
import { makePolypDataset, mulberry32 } from './data.js';
import { PolypTrainer, shuffled, VARIANTS, type Evaluation, type Variant } from './model.js';
import { overviewHtml, type OverviewPicture } from './overview.js';
import { writeHeatmapFigure, writeLineChart, writeProbabilityFigure, writeRgbFigure } from './png.js';
import { TrainingProgress } from './progress.js';

const HELP = `Usage: npm run demo -- [options]      (or: node dist/demo.js [options])

Trains a per-pixel segmentation model on the GPU (WGSL forward, backward and Adam, with
wgsl-dice's loss and dL/dpred in the same command encoder) on seeded synthetic polyp images,
once per loss, and writes for each: titled PNGs of validation images with their colour scales
(input, target, predicted polyp probability, dL/dpred from wgsl-dice as a heat-map, and the
same through the activation, dL/dlogit) and loss-curve.png; for all of them val-dice.png,
summary.json and index.html, an overview page with every picture and its caption.

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
  writeOverview(options, summary, results);
  console.log('');
  for (const r of results) {
    console.log(
      `${r.id.padEnd(10)} val Dice ${r.diceBefore.toFixed(3)} -> ${r.diceAfter.toFixed(3)}  (${r.seconds.toFixed(1)} s)`,
    );
  }
  console.log(`wrote ${options.out} in ${summary.seconds.toFixed(1)} s: open ${join(options.out, 'index.html')}`);
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
    const pictures = writeImages(options.out, variant, dataset, trainer.trainCount, last, epochs);
    return {
      id: variant.id,
      title: variant.title,
      name: variant.name,
      pictures,
      seconds: (performance.now() - started) / 1000,
      diceBefore: before.dice,
      diceAfter: last.dice,
      epochs,
    };
  } finally {
    trainer.destroy();
  }
}

type Epochs = { trainLoss: number | null; valLoss: number; dice: number }[];

/**
 * The first validation images of one loss (input, target, prediction, both gradients), each
 * titled and with its colour scale, and its curves, in out/<loss>/; returns what index.html
 * shows of them.
 */
function writeImages(
  out: string,
  variant: Variant,
  dataset: ReturnType<typeof makePolypDataset>,
  firstValidation: number,
  evaluation: Evaluation,
  epochs: Epochs,
): OverviewPicture[] {
  mkdirSync(join(out, variant.id), { recursive: true });
  const pictures: OverviewPicture[] = [];
  const write = (file: string, caption: string, draw: (path: string) => void) => {
    draw(join(out, variant.id, file));
    pictures.push({ file: `${variant.id}/${file}`, caption });
  };
  const { size } = dataset;
  const pixels = size * size;
  const shown = Math.min(3, evaluation.polyp.length / pixels);
  const activation = variant.activation === 'softmax' ? 'softmax' : 'sigmoid';
  for (let i = 0; i < shown; i++) {
    const image = firstValidation + i;
    const of = (values: Float32Array, stride = 1) => values.subarray(i * pixels * stride, (i + 1) * pixels * stride);
    write(`val-${i}-input.png`, `Validation image ${i}: the input (RGB).`, (path) =>
      writeRgbFigure(
        path,
        `val ${i}: input`,
        dataset.images.subarray(image * pixels * 3, (image + 1) * pixels * 3),
        size,
      ),
    );
    write(`val-${i}-target.png`, `Validation image ${i}: the target mask, 1 (white) on the polyp.`, (path) =>
      writeProbabilityFigure(
        path,
        `val ${i}: target`,
        dataset.masks.subarray(image * pixels, (image + 1) * pixels),
        size,
      ),
    );
    write(
      `val-${i}-prediction.png`,
      `Validation image ${i}: the predicted polyp probability after ${epochs.length - 1} epochs, 0 (black) to 1 (white).`,
      (path) => writeProbabilityFigure(path, `val ${i}: predicted p(polyp)`, of(evaluation.polyp), size),
    );
    write(
      `val-${i}-gradient.png`,
      i === 0
        ? `dL/dpred of the polyp channel, from wgsl-dice's backward pass. For the three classic Dice losses it ` +
            'takes two values per class by construction (dL/dp = a·t + b, with a and b fixed per sample and class): ' +
            'one inside the target, one outside. Blue: raising p lowers the loss; red: raises it.'
        : `Validation image ${i}: dL/dpred of the polyp channel (two values, as for image 0).`,
      (path) => writeHeatmapFigure(path, `val ${i}: dL/dpred, 2 values/class`, of(evaluation.gradient), size),
    );
    write(
      `val-${i}-gradient-logits.png`,
      i === 0
        ? `dL/dlogit of the polyp channel: the same gradient through the ${activation}, what the model's ` +
            'weights receive. It varies pixel by pixel: largest where the model is unsure (p near 0.5), near 0 ' +
            'where it is sure.'
        : `Validation image ${i}: dL/dlogit of the polyp channel, through the ${activation}.`,
      (path) => writeHeatmapFigure(path, `val ${i}: dL/dlogit (polyp)`, of(evaluation.logitGradient), size),
    );
  }
  write(
    'loss-curve.png',
    `${variant.title}: the training loss (mean over the epoch's steps), the validation loss and the validation Dice (hard, polyp class) per epoch.`,
    (path) =>
      writeLineChart(
        path,
        [
          {
            label: `train loss (${variant.name})`,
            color: [214, 39, 40],
            values: epochs.map((e) => e.trainLoss ?? NaN),
          },
          { label: `val loss (${variant.name})`, color: [255, 127, 14], values: epochs.map((e) => e.valLoss) },
          { label: 'val Dice', color: [31, 119, 180], values: epochs.map((e) => e.dice) },
        ],
        { title: variant.title },
      ),
  );
  return pictures;
}

const LOSS_COLOURS = [
  [214, 39, 40],
  [255, 127, 14],
  [44, 160, 44],
  [31, 119, 180],
] as const;

/** val-dice.png (every loss's validation Dice) and index.html, the page that shows the whole run. */
function writeOverview(
  options: Options,
  summary: { adapter: { description: string; vendor: string }; seconds: number },
  results: {
    id: string;
    title: string;
    name: string;
    diceBefore: number;
    diceAfter: number;
    pictures: OverviewPicture[];
    epochs: Epochs;
  }[],
): void {
  writeLineChart(
    join(options.out, 'val-dice.png'),
    results.map((r, i) => ({
      label: r.name,
      color: LOSS_COLOURS[i % LOSS_COLOURS.length],
      values: r.epochs.map((e) => e.dice),
    })),
    { title: 'validation Dice of the polyp class, per loss', yLabel: 'Dice', legend: 'bottom' },
  );
  const html = overviewHtml({
    heading: 'wgsl-dice demo: a per-pixel segmentation model trained with each Dice loss',
    facts: [
      `Adapter: ${summary.adapter.description || summary.adapter.vendor}. ${options.images} synthetic polyp images of ` +
        `${options.size}x${options.size} (${validationCount(options.images)} held out), batch ${options.batch}, ` +
        `${options.epochs} epochs per loss, Adam at ${options.lr}, seed ${options.seed}; ${summary.seconds.toFixed(1)} s in all.`,
      'Every picture is titled and carries its colour scale. Gradients are drawn blue (negative) to red (positive), ' +
        'scaled by their largest magnitude, which is written under each.',
    ],
    pictures: [
      {
        file: 'val-dice.png',
        caption: 'The validation Dice (hard, polyp class) of every loss per epoch, one line per loss.',
      },
    ],
    sections: results.map((r) => ({
      id: r.id,
      title: r.title,
      description: `Validation Dice ${r.diceBefore.toFixed(3)} before training, ${r.diceAfter.toFixed(3)} after.`,
      pictures: r.pictures,
    })),
    files: ['summary.json'],
  });
  writeFileSync(join(options.out, 'index.html'), html);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`demo: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
