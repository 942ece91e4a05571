// `npm run demo:tubes -- --out DIR`: soft Dice and soft Dice + clDice trained side by side on a
// seeded data set of thin random curves (vessel-like, with faint stretches and noise). The model
// is deliberately small and runs on the host: six 5x5 filters with a ReLU, their weighted sum
// and a sigmoid, per pixel. The loss and dL/dpred come from wgsl-dice on the GPU (engine.loss({ formula: 'cl-dice' })
// with alpha 0 = MONAI's soft_dice, alpha 0.5 = SoftDiceclDiceLoss, the latter after a soft-Dice
// warm-up that both share, --warmup epochs, default half). Writes, for held-out
// images, the input, the target, and each loss's predicted probability and predicted soft
// skeleton (comparison.png puts them side by side), curves of validation Dice and clDice, and
// summary.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DiceEngine } from '../src/index.js';
import type { ClDiceLoss } from '../src/losses/cldice.js';
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
    for (let p = 0; p < pixels; p++)
      images[n * pixels + p] = Math.min(1, Math.max(0, 0.2 + 0.6 * contrast[p] + 0.12 * gauss()));
  }
  return { count, size, images, masks };
}

/**
 * HIDDEN 5x5 filters with biases and a ReLU, a weighted sum of them and a bias, then a sigmoid:
 * enough to learn a few oriented line detectors. Trained with Adam on the host.
 */
class TubeModel {
  static readonly HIDDEN = 6;
  /** Per hidden unit TAPS weights and a bias, then HIDDEN output weights and the output bias. */
  readonly weights = new Float64Array(TubeModel.HIDDEN * (TAPS + 2) + 1);
  readonly #m = new Float64Array(this.weights.length);
  readonly #v = new Float64Array(this.weights.length);
  #t = 0;

  constructor(seed: number) {
    const random = mulberry32(seed);
    const H = TubeModel.HIDDEN;
    for (let k = 0; k < H; k++) {
      for (let tap = 0; tap < TAPS; tap++) this.weights[k * (TAPS + 1) + tap] = 0.4 * (random() - 0.5);
      this.weights[H * (TAPS + 1) + k] = 0.5 * (random() - 0.5);
    }
    // Start from "mostly background" (p = 0.05): curves are a few percent of the pixels.
    this.weights[this.weights.length - 1] = -3;
  }

  /** Hidden activations [HIDDEN, pixels] and curve probabilities of image `n`. */
  forward(data: TubeDataset, n: number): { hidden: Float32Array; p: Float32Array } {
    const pixels = data.size * data.size;
    const H = TubeModel.HIDDEN;
    const w = this.weights;
    const hidden = new Float32Array(H * pixels);
    const p = new Float32Array(pixels);
    this.#eachTap(data, n, (pixel, tap, value) => {
      for (let k = 0; k < H; k++) hidden[k * pixels + pixel] += w[k * (TAPS + 1) + tap] * value;
    });
    for (let pixel = 0; pixel < pixels; pixel++) {
      let z = w[w.length - 1];
      for (let k = 0; k < H; k++) {
        const h = Math.max(0, hidden[k * pixels + pixel] + w[k * (TAPS + 1) + TAPS]);
        hidden[k * pixels + pixel] = h;
        z += w[H * (TAPS + 1) + k] * h;
      }
      p[pixel] = 1 / (1 + Math.exp(-z));
    }
    return { hidden, p };
  }

  predict(data: TubeDataset, n: number): Float32Array {
    return this.forward(data, n).p;
  }

  /** One Adam step on dL/dp of the images `batch`. */
  step(data: TubeDataset, batch: number[], gradP: Float32Array[], learningRate: number): void {
    const pixels = data.size * data.size;
    const H = TubeModel.HIDDEN;
    const w = this.weights;
    const grad = new Float64Array(w.length);
    batch.forEach((n, i) => {
      const { hidden, p } = this.forward(data, n);
      const gradHidden = new Float32Array(H * pixels);
      for (let pixel = 0; pixel < pixels; pixel++) {
        const dz = gradP[i][pixel] * p[pixel] * (1 - p[pixel]);
        grad[w.length - 1] += dz;
        for (let k = 0; k < H; k++) {
          const h = hidden[k * pixels + pixel];
          grad[H * (TAPS + 1) + k] += dz * h;
          if (h > 0) gradHidden[k * pixels + pixel] = dz * w[H * (TAPS + 1) + k];
        }
      }
      this.#eachTap(data, n, (pixel, tap, value) => {
        for (let k = 0; k < H; k++) grad[k * (TAPS + 1) + tap] += gradHidden[k * pixels + pixel] * value;
      });
      for (let k = 0; k < H; k++) {
        for (let pixel = 0; pixel < pixels; pixel++) grad[k * (TAPS + 1) + TAPS] += gradHidden[k * pixels + pixel];
      }
    });
    this.#t++;
    for (let j = 0; j < w.length; j++) {
      this.#m[j] = 0.9 * this.#m[j] + 0.1 * grad[j];
      this.#v[j] = 0.999 * this.#v[j] + 0.001 * grad[j] * grad[j];
      const mHat = this.#m[j] / (1 - 0.9 ** this.#t);
      const vHat = this.#v[j] / (1 - 0.999 ** this.#t);
      w[j] -= (learningRate * mHat) / (Math.sqrt(vHat) + 1e-8);
    }
  }

  /** fn(pixel, tap, input value) over every 5x5 filter tap inside the image (zero padding). */
  #eachTap(data: TubeDataset, n: number, fn: (pixel: number, tap: number, value: number) => void): void {
    const { size, images } = data;
    const image = images.subarray(n * size * size, (n + 1) * size * size);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        for (let dy = -RADIUS; dy <= RADIUS; dy++) {
          for (let dx = -RADIUS; dx <= RADIUS; dx++) {
            const [sx, sy] = [x + dx, y + dy];
            if (sx < 0 || sy < 0 || sx >= size || sy >= size) continue;
            fn(y * size + x, (dy + RADIUS) * (2 * RADIUS + 1) + dx + RADIUS, image[sy * size + sx]);
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
  return Array.from({ length: images }, (_, b) =>
    Float32Array.from({ length: pixels }, (_, p) => tensor[2 * (b * pixels + p) + 1]),
  );
}

interface Variant {
  id: string;
  title: string;
  alpha: number;
  /**
   * Train with soft Dice alone for the first --warmup epochs (so both variants share them):
   * from an untrained model, soft Dice + clDice tends to fall into clDice's degenerate minimum
   * (everything foreground: the predicted skeleton is empty, so tprec = smooth / smooth = 1).
   */
  warmup: boolean;
}

const VARIANTS: readonly Variant[] = [
  { id: 'dice', title: 'soft Dice (MONAI soft_dice)', alpha: 0, warmup: false },
  {
    id: 'cldice',
    title: 'soft Dice + clDice (SoftDiceclDiceLoss, alpha 0.5) after the soft-Dice warm-up',
    alpha: 0.5,
    warmup: true,
  },
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
      warmup: { type: 'string' },
      seed: { type: 'string', default: '1' },
    },
  });
  const out = resolve(values.out!);
  const [epochs, count, batchSize, size, seed, learningRate] = [
    values.epochs,
    values.images,
    values.batch,
    values.size,
    values.seed,
    values.lr,
  ].map(Number);
  if (
    ![epochs, count, batchSize, size].every((v) => Number.isInteger(v) && v >= 1) ||
    !(learningRate > 0) ||
    count < 2 * batchSize
  ) {
    throw new Error(
      '--epochs, --images, --batch, --size must be positive integers (images >= 2 x batch) and --lr > 0.',
    );
  }
  const warmupEpochs = values.warmup === undefined ? Math.floor(epochs / 2) : Number(values.warmup);
  if (!Number.isInteger(warmupEpochs) || warmupEpochs < 0 || warmupEpochs >= epochs)
    throw new Error('--warmup must be an integer in [0, epochs).');
  const data = makeTubeDataset(count, size, seed);
  const validation = Array.from({ length: Math.max(1, Math.floor(count / 4)) }, (_, i) => count - 1 - i).reverse();
  const training = Array.from({ length: count - validation.length }, (_, i) => i);
  const pixels = size * size;
  const maskOf = (n: number) => data.masks.subarray(n * pixels, (n + 1) * pixels);

  const device = await requestNodeDevice({ label: 'wgsl-dice tubes demo' });
  const engine = await DiceEngine.create(device, { label: 'tubes demo' });
  const adapter = describeAdapter(device);
  console.log(
    `device: ${adapter.description || adapter.device}; ${training.length} training and ${validation.length} held-out ${size}x${size} images`,
  );
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
    const lossOf = (alpha: number): Promise<ClDiceLoss> =>
      engine.loss({ formula: 'cl-dice', shape: shape(batchSize), skeletonIterations: 3, alpha });
    const loss = await lossOf(variant.alpha);
    const warmLoss = variant.warmup && warmupEpochs > 0 ? await lossOf(0) : loss;
    const shuffle = mulberry32(seed + 17);
    const epochsOut: EpochMetrics[] = [];
    const evaluate = async (epoch: number, trainLoss: number) => {
      const probability = validation.map((n) => model.predict(data, n));
      const r = await metric.compute(twoClasses(probability), validationTarget);
      let tp = 0,
        predicted = 0,
        actual = 0;
      validation.forEach((n, i) => {
        const mask = maskOf(n);
        probability[i].forEach((p, j) => {
          const hard = p > 0.5 ? 1 : 0;
          tp += hard * mask[j];
          predicted += hard;
          actual += mask[j];
        });
      });
      const metrics = {
        epoch,
        trainLoss,
        dice: (2 * tp) / Math.max(1, predicted + actual),
        clDice: r.clDice,
        tprec: r.tprec,
        tsens: r.tsens,
      };
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
        const active = epoch <= warmupEpochs ? warmLoss : loss;
        const r = await active.compute(twoClasses(probability), twoClasses(batch.map(maskOf)), { grad: true });
        // pred = (1 - p, p): dL/dp = dL/dpred_1 - dL/dpred_0.
        const gradP = curveChannel(r.grad!, batch.length, pixels).map((g1, b) =>
          g1.map((g, p) => g - r.grad![2 * (b * pixels + p)]),
        );
        model.step(data, batch, gradP, learningRate);
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
    warmLoss.destroy();
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
  writeLineChart(
    join(out, 'validation-curves.png'),
    VARIANTS.flatMap((v) => {
      const epochsOf = summary.variants.find((s) => s.id === v.id)!.epochs;
      const color = colors[v.id as keyof typeof colors];
      return [
        { label: `${v.id} DICE`, color, values: epochsOf.map((e) => e.dice) },
        {
          label: `${v.id} TSENS`,
          color: color.map((c) => Math.round(c * 0.6)) as unknown as readonly [number, number, number],
          values: epochsOf.map((e) => e.tsens),
        },
      ];
    }),
    { title: 'soft Dice vs soft Dice + clDice, held out', yLabel: 'Dice and tsens' },
  );
  writeFileSync(join(out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  console.log(
    `\nwrote ${out}: comparison.png (rows: held-out images; columns: input, target, Dice prediction, Dice skeleton, clDice prediction, clDice skeleton), validation-curves.png, summary.json`,
  );
  metric.destroy();
  engine.destroy();
  device.destroy();
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});
