// `npm run demo:tubes -- --out DIR`: soft Dice and soft Dice + clDice trained side by side on a
// seeded data set of thin random curves (vessel-like, with faint stretches and noise). The model
// is deliberately small and runs on the host: a 5x5 filter and a bias, then a sigmoid, per
// pixel. The loss and dL/dpred come from wgsl-dice on the GPU (engine.loss({ formula: 'cl-dice' })
// with alpha 0 = MONAI's soft_dice, alpha 0.5 = SoftDiceclDiceLoss). Writes, for held-out
// images, the input, the target, and each loss's predicted probability and predicted soft
// skeleton (comparison.png puts them side by side), curves of validation Dice and clDice, and
// summary.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DiceEngine } from '../src/index.js';
import type { ClDiceLoss } from '../src/family/cldice.js';
import { describeAdapter, requestNodeDevice } from '../src/node/index.js';
import { mulberry32 } from '../src/reference/index.js';
import { writeGrayMosaic, writeGrayPng, writeLineChart } from './png.js';

const RADIUS = 2;
const TAPS = (2 * RADIUS + 1) ** 2;
const SHOWN = 4;

interface TubeDataset {
  count: number;
  size: number;
  /** Grey images in [0, 1], [count, size, size]. */
  images: Float32Array;
  /** 1 on a curve, else 0, [count, size, size]. */
  masks: Float32Array;
}

/** Curves as random walks of a heading; some stretches are faint (gaps a good loss bridges). */
function makeTubeDataset(count: number, size: number, seed: number): TubeDataset {
  const random = mulberry32(seed);
  const pixels = size * size;
  const images = new Float32Array(count * pixels);
  const masks = new Float32Array(count * pixels);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  for (let n = 0; n < count; n++) {
    const contrast = new Float32Array(pixels);
    for (let curve = 0; curve < 3; curve++) {
      let [x, y] = [random() * size, random() * size];
      let heading = random() * 2 * Math.PI;
      let faint = 0;
      for (let step = 0; step < 2 * size; step++) {
        heading += 0.35 * gauss();
        x += Math.cos(heading);
        y += Math.sin(heading);
        if (x < 0 || y < 0 || x >= size || y >= size) break;
        if (faint === 0 && random() < 0.03) faint = 4 + Math.floor(random() * 5);
        const pixel = Math.floor(y) * size + Math.floor(x);
        masks[n * pixels + pixel] = 1;
        contrast[pixel] = Math.max(contrast[pixel], faint > 0 ? 0.25 : 0.6 + 0.4 * random());
        if (faint > 0) faint--;
      }
    }
    for (let p = 0; p < pixels; p++) images[n * pixels + p] = Math.min(1, Math.max(0, 0.2 + 0.6 * contrast[p] + 0.12 * gauss()));
  }
  return { count, size, images, masks };
}

/** A 5x5 filter and a bias per pixel, then a sigmoid; trained with Adam on the host. */
class TubeModel {
  readonly weights = new Float64Array(TAPS + 1);
  readonly #m = new Float64Array(TAPS + 1);
  readonly #v = new Float64Array(TAPS + 1);
  #t = 0;

  constructor(seed: number) {
    const random = mulberry32(seed);
    for (let k = 0; k < TAPS; k++) this.weights[k] = 0.1 * (random() - 0.5);
    // Start from "mostly background" (p = 0.05): curves are a few percent of the pixels. From
    // p = 0.5 everywhere, clDice can fall into its degenerate minimum (all foreground: an empty
    // predicted skeleton, so tprec = smooth / smooth = 1 and tsens = 1).
    this.weights[TAPS] = -3;
  }

  /** Curve probability of every pixel of image `n`. */
  predict(data: TubeDataset, n: number): Float32Array {
    const { size } = data;
    const out = new Float32Array(size * size);
    this.#each(data, n, (pixel, tap, value) => (out[pixel] += tap < TAPS ? this.weights[tap] * value : this.weights[TAPS]));
    return out.map((z) => 1 / (1 + Math.exp(-z)));
  }

  /** One Adam step on dL/dp of the images `batch` (p = this model's output). */
  step(data: TubeDataset, batch: number[], probabilities: Float32Array[], gradP: Float32Array[], learningRate: number): void {
    const grad = new Float64Array(TAPS + 1);
    batch.forEach((n, i) => {
      const p = probabilities[i];
      this.#each(data, n, (pixel, tap, value) => (grad[tap] += gradP[i][pixel] * p[pixel] * (1 - p[pixel]) * (tap < TAPS ? value : 1)));
    });
    this.#t++;
    for (let k = 0; k <= TAPS; k++) {
      this.#m[k] = 0.9 * this.#m[k] + 0.1 * grad[k];
      this.#v[k] = 0.999 * this.#v[k] + 0.001 * grad[k] * grad[k];
      const mHat = this.#m[k] / (1 - 0.9 ** this.#t);
      const vHat = this.#v[k] / (1 - 0.999 ** this.#t);
      this.weights[k] -= (learningRate * mHat) / (Math.sqrt(vHat) + 1e-8);
    }
  }

  /** fn(pixel, tap, input value) over every filter tap (zero padding) and the bias (tap TAPS). */
  #each(data: TubeDataset, n: number, fn: (pixel: number, tap: number, value: number) => void): void {
    const { size, images } = data;
    const image = images.subarray(n * size * size, (n + 1) * size * size);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const pixel = y * size + x;
        fn(pixel, TAPS, 1);
        for (let dy = -RADIUS; dy <= RADIUS; dy++) {
          for (let dx = -RADIUS; dx <= RADIUS; dx++) {
            const [sx, sy] = [x + dx, y + dy];
            if (sx < 0 || sy < 0 || sx >= size || sy >= size) continue;
            fn(pixel, (dy + RADIUS) * (2 * RADIUS + 1) + dx + RADIUS, image[sy * size + sx]);
          }
        }
      }
    }
  }
}

/** Channels-last two-class tensors [B, H, W, 2] of probabilities (1 - p, p). */
function twoClasses(maps: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(2 * maps.reduce((a, m) => a + m.length, 0));
  let i = 0;
  for (const map of maps) for (const p of map) out.set([1 - p, p], 2 * i++);
  return out;
}

/** The curve channel of a [B, H, W, 2] tensor, per image. */
function curveChannel(tensor: Float32Array, images: number, pixels: number): Float32Array[] {
  return Array.from({ length: images }, (_, b) => Float32Array.from({ length: pixels }, (_, p) => tensor[2 * (b * pixels + p) + 1]));
}

interface Variant {
  id: string;
  title: string;
  alpha: number;
}

const VARIANTS: readonly Variant[] = [
  { id: 'dice', title: 'soft Dice (MONAI soft_dice)', alpha: 0 },
  { id: 'cldice', title: 'soft Dice + clDice (SoftDiceclDiceLoss, alpha 0.5)', alpha: 0.5 },
];

interface EpochMetrics {
  epoch: number;
  trainLoss: number;
  /** Hard Dice of the curve class (p > 0.5) over the held-out images. */
  dice: number;
  /** Soft clDice loss (alpha 1) of the held-out predictions, and its tprec / tsens. */
  clDice: number;
  tprec: number;
  tsens: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: 'demo-tubes-out' },
      epochs: { type: 'string', default: '40' },
      images: { type: 'string', default: '32' },
      batch: { type: 'string', default: '4' },
      size: { type: 'string', default: '48' },
      lr: { type: 'string', default: '0.05' },
      seed: { type: 'string', default: '1' },
    },
  });
  const out = resolve(values.out!);
  const [epochs, count, batchSize, size, seed, learningRate] = [values.epochs, values.images, values.batch, values.size, values.seed, values.lr].map(Number);
  if (![epochs, count, batchSize, size].every((v) => Number.isInteger(v) && v >= 1) || !(learningRate > 0) || count < 2 * batchSize) {
    throw new Error('--epochs, --images, --batch, --size must be positive integers (images >= 2 x batch) and --lr > 0.');
  }
  const data = makeTubeDataset(count, size, seed);
  const validation = Array.from({ length: Math.max(1, Math.floor(count / 4)) }, (_, i) => count - 1 - i).reverse();
  const training = Array.from({ length: count - validation.length }, (_, i) => i);
  const pixels = size * size;
  const maskOf = (n: number) => data.masks.subarray(n * pixels, (n + 1) * pixels);

  const device = await requestNodeDevice({ label: 'wgsl-dice tubes demo' });
  const engine = await DiceEngine.create(device, { label: 'tubes demo' });
  const adapter = describeAdapter(device);
  console.log(`device: ${adapter.description || adapter.device}; ${training.length} training and ${validation.length} held-out ${size}x${size} images`);
  mkdirSync(out, { recursive: true });
  const shape = (images: number) => [images, size, size, 2];
  const metric = await engine.loss({ formula: 'cl-dice', shape: shape(validation.length), skeletonIterations: 3 });
  const validationTarget = twoClasses(validation.map(maskOf));

  const summary: { device: string; variants: { id: string; title: string; epochs: EpochMetrics[] }[] } = {
    device: adapter.description || adapter.device,
    variants: [],
  };
  const shown: Record<string, { probability: Float32Array[]; skeleton: Float32Array[] }> = {};
  for (const variant of VARIANTS) {
    console.log(`\n${variant.id}: ${variant.title}`);
    const model = new TubeModel(seed);
    const loss: ClDiceLoss = await engine.loss({ formula: 'cl-dice', shape: shape(batchSize), skeletonIterations: 3, alpha: variant.alpha });
    const shuffle = mulberry32(seed + 17);
    const epochsOut: EpochMetrics[] = [];
    const evaluate = async (epoch: number, trainLoss: number) => {
      const probability = validation.map((n) => model.predict(data, n));
      const r = await metric.compute(twoClasses(probability), validationTarget);
      let tp = 0, predicted = 0, actual = 0;
      validation.forEach((n, i) => {
        const mask = maskOf(n);
        probability[i].forEach((p, j) => {
          const hard = p > 0.5 ? 1 : 0;
          tp += hard * mask[j];
          predicted += hard;
          actual += mask[j];
        });
      });
      const metrics = { epoch, trainLoss, dice: (2 * tp) / Math.max(1, predicted + actual), clDice: r.clDice, tprec: r.tprec, tsens: r.tsens };
      epochsOut.push(metrics);
      console.log(
        `epoch ${String(epoch).padStart(3)}/${epochs}  train loss ${trainLoss.toFixed(4)}  val Dice ${metrics.dice.toFixed(4)}  ` +
          `val clDice loss ${metrics.clDice.toFixed(4)} (tprec ${metrics.tprec.toFixed(3)}, tsens ${metrics.tsens.toFixed(3)})`,
      );
      return probability;
    };
    await evaluate(0, Number.NaN);
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const order = [...training];
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(shuffle() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
      let total = 0;
      let steps = 0;
      for (let start = 0; start + batchSize <= order.length; start += batchSize) {
        const batch = order.slice(start, start + batchSize);
        const probability = batch.map((n) => model.predict(data, n));
        const r = await loss.compute(twoClasses(probability), twoClasses(batch.map(maskOf)), { grad: true });
        // pred = (1 - p, p): dL/dp = dL/dpred_1 - dL/dpred_0.
        const gradP = curveChannel(r.grad!, batch.length, pixels).map((g1, b) =>
          g1.map((g, p) => g - r.grad![2 * (b * pixels + p)]),
        );
        model.step(data, batch, probability, gradP, learningRate);
        total += r.loss;
        steps++;
      }
      const probability = await evaluate(epoch, total / Math.max(1, steps));
      if (epoch === epochs) {
        const skeletons = curveChannel(await metric.targetSkeleton(twoClasses(probability)), validation.length, pixels);
        shown[variant.id] = { probability: probability.slice(0, SHOWN), skeleton: skeletons.slice(0, SHOWN) };
      }
    }
    summary.variants.push({ id: variant.id, title: variant.title, epochs: epochsOut });
    const dir = join(out, variant.id);
    mkdirSync(dir, { recursive: true });
    shown[variant.id]?.probability.forEach((p, i) => writeGrayPng(join(dir, `val-${i}-prediction.png`), p, size));
    shown[variant.id]?.skeleton.forEach((s, i) => writeGrayPng(join(dir, `val-${i}-skeleton.png`), s, size));
    loss.destroy();
  }

  const inputs = validation.slice(0, SHOWN);
  inputs.forEach((n, i) => {
    writeGrayPng(join(out, `val-${i}-input.png`), data.images.subarray(n * pixels, (n + 1) * pixels), size);
    writeGrayPng(join(out, `val-${i}-target.png`), maskOf(n), size);
  });
  // Rows: held-out images; columns: input, target, then prediction and skeleton per loss.
  writeGrayMosaic(
    join(out, 'comparison.png'),
    inputs.map((n, i) => [
      data.images.subarray(n * pixels, (n + 1) * pixels),
      maskOf(n),
      ...VARIANTS.flatMap((v) => [shown[v.id].probability[i], shown[v.id].skeleton[i]]),
    ]),
    size,
  );
  const colors = { dice: [31, 119, 180], cldice: [214, 39, 40] } as const;
  writeLineChart(join(out, 'validation-curves.png'), VARIANTS.flatMap((v) => {
    const epochsOf = summary.variants.find((s) => s.id === v.id)!.epochs;
    const color = colors[v.id as keyof typeof colors];
    return [
      { label: `${v.id} DICE`, color, values: epochsOf.map((e) => e.dice) },
      { label: `${v.id} TSENS`, color: color.map((c) => Math.round(c * 0.6)) as unknown as readonly [number, number, number], values: epochsOf.map((e) => e.tsens) },
    ];
  }));
  writeFileSync(join(out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  console.log(`\nwrote ${out}: comparison.png (rows: held-out images; columns: input, target, Dice prediction, Dice skeleton, clDice prediction, clDice skeleton), validation-curves.png, summary.json`);
  metric.destroy();
  engine.destroy();
  device.destroy();
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});
