// The demo's segmentation model, trained on the GPU: a per-pixel MLP (hand-made features -> 16
// ReLU units -> sigmoid or softmax over the classes) whose whole training step is recorded in
// one command encoder: forward (model_forward.wgsl), the Dice loss and dL/dpred
// (wgsl-dice's loss.encode), the chain rule back through the activation and the ReLU layer
// (model_backward.wgsl), parameter gradients (model_param_grad.wgsl) and Adam (model_adam.wgsl).
// Nothing is read back during an epoch. Platform-neutral: the Node demo and the web demo share it.
import { type DiceEngine, type DiceLoss, type DiceLossOptions } from '../src/index.js';
import { FEATURE_COUNT, mulberry32, type PolypDataset } from './data.js';
import adamSource from './model_adam.wgsl';
import backwardSource from './model_backward.wgsl';
import forwardSource from './model_forward.wgsl';
import paramGradSource from './model_param_grad.wgsl';

// Mirrors the constants at the top of the model_*.wgsl files.
const HIDDEN = 16;
const MAX_CLASSES = 2;
const W2_OFFSET = FEATURE_COUNT * HIDDEN + HIDDEN;
export const PARAMETER_COUNT = W2_OFFSET + HIDDEN * MAX_CLASSES + MAX_CLASSES;
const ELEMENTWISE_WORKGROUP = 64;

export interface Variant {
  id: string;
  /** What the loss is, for headings and menus. */
  title: string;
  /** The loss's short name, for chart legends. */
  name: string;
  /** Sigmoid per class (pred holds probabilities) or softmax over classes (from logits). */
  activation: 'sigmoid' | 'softmax';
  /** 1: the polyp channel only; 2: background and polyp. */
  classes: 1 | 2;
  loss: Omit<DiceLossOptions, 'shape'>;
}

/** The three classic TensorFlow Dice losses, and softmax Dice from logits. */
export const VARIANTS: readonly Variant[] = [
  {
    id: 'global',
    title: 'global Dice (one Dice per image, sigmoid output)',
    name: 'global Dice',
    activation: 'sigmoid',
    classes: 1,
    loss: { reduce: 'global' },
  },
  {
    id: 'weighted',
    title: 'class-weighted Dice, weights 0.25/0.75 (sigmoid outputs)',
    name: 'class-weighted Dice',
    activation: 'sigmoid',
    classes: 2,
    loss: { reduce: 'per-class', weights: [0.25, 0.75] },
  },
  {
    id: 'per-class',
    title: 'multi-class Dice, the mean over classes (sigmoid outputs)',
    name: 'multi-class Dice',
    activation: 'sigmoid',
    classes: 2,
    loss: { reduce: 'per-class' },
  },
  {
    id: 'softmax',
    title: 'multi-class Dice on softmax outputs (mean over classes)',
    name: 'softmax Dice',
    activation: 'softmax',
    classes: 2,
    loss: { reduce: 'per-class' },
  },
];

export interface TrainerOptions {
  batchSize: number;
  /** Images held out for validation: the last ones of the data set. */
  validationCount: number;
  learningRate: number;
  seed: number;
}

export interface Evaluation {
  /** The Dice loss on the validation images. */
  loss: number;
  /** Hard Dice of the polyp class (probability > 0.5) over all validation pixels. */
  dice: number;
  /** Validation polyp probabilities, [validationCount, size, size]. */
  polyp: Float32Array;
  /** dL/dpred of the polyp channel on the validation images, from wgsl-dice. */
  gradient: Float32Array;
  /** dL/dlogit of the polyp channel: the same gradient through the sigmoid or softmax. */
  logitGradient: Float32Array;
}

export interface EpochResult extends Evaluation {
  /** The training loss of each step of the epoch. */
  stepLosses: Float32Array;
}

type Pipelines = Record<'forward' | 'backward' | 'paramGrad' | 'adam', GPUComputePipeline>;

interface BatchBuffers {
  size: number;
  images: GPUBuffer;
  loss: DiceLoss;
  forward: GPUBindGroup;
  backward: GPUBindGroup;
}

/**
 * Trains one model for one variant. Owns every buffer and pipeline it creates (freed by
 * destroy()); borrows the device and the engine.
 */
export class PolypTrainer {
  readonly variant: Variant;
  readonly trainCount: number;
  readonly stepsPerEpoch: number;
  #step = 0;
  readonly #device: GPUDevice;
  readonly #dataset: PolypDataset;
  readonly #options: TrainerOptions;
  readonly #owned: GPUBuffer[] = [];
  readonly #losses: DiceLoss[] = [];
  readonly #pipelines: Pipelines;
  readonly #buffers: Record<string, GPUBuffer> = {};
  readonly #train: BatchBuffers;
  readonly #validation: BatchBuffers;
  readonly #gradGroup: GPUBindGroup;
  readonly #adamGroup: GPUBindGroup;
  readonly #chunks: number;
  readonly #workgroups: (pixels: number) => number;

  static async create(
    engine: DiceEngine,
    dataset: PolypDataset,
    variant: Variant,
    options: TrainerOptions,
  ): Promise<PolypTrainer> {
    const device = engine.device;
    const constants = { ACTIVATION: variant.activation === 'softmax' ? 1 : 0, WORKGROUP_SIZE: ELEMENTWISE_WORKGROUP };
    const pipeline = (name: string, code: string, withConstants: boolean) =>
      device.createComputePipelineAsync({
        label: `demo ${name}`,
        layout: 'auto',
        compute: {
          module: device.createShaderModule({ label: `demo ${name}`, code }),
          entryPoint: 'main',
          ...(withConstants && { constants }),
        },
      });
    const [forward, backward, paramGrad, adam] = await Promise.all([
      pipeline('forward', forwardSource, true),
      pipeline('backward', backwardSource, true),
      pipeline('param grad', paramGradSource, false),
      pipeline('adam', adamSource, false),
    ]);
    const shape = (batch: number) => [batch, dataset.size, dataset.size, variant.classes];
    const trainCount = dataset.count - options.validationCount;
    const [trainLoss, validationLoss] = await Promise.all([
      engine.dice({ ...variant.loss, shape: shape(options.batchSize), label: `demo ${variant.id} train` }),
      engine.dice({ ...variant.loss, shape: shape(options.validationCount), label: `demo ${variant.id} validation` }),
    ]);
    return new PolypTrainer(engine, dataset, variant, options, trainCount, { forward, backward, paramGrad, adam }, [
      trainLoss,
      validationLoss,
    ]);
  }

  private constructor(
    engine: DiceEngine,
    dataset: PolypDataset,
    variant: Variant,
    options: TrainerOptions,
    trainCount: number,
    pipelines: Pipelines,
    [trainLoss, validationLoss]: DiceLoss[],
  ) {
    const device = (this.#device = engine.device);
    this.#dataset = dataset;
    this.#options = options;
    this.variant = variant;
    this.trainCount = trainCount;
    this.stepsPerEpoch = Math.floor(trainCount / options.batchSize);
    this.#pipelines = pipelines;
    this.#losses.push(trainLoss, validationLoss);
    const profile = engine.gridProfile;
    // Few fat workgroups on CPU adapters, enough to fill a GPU elsewhere (the engine's profile).
    this.#workgroups = (pixels) =>
      Math.max(1, Math.min(Math.ceil(pixels / ELEMENTWISE_WORKGROUP), profile.targetWorkgroups));

    const pixelsPerImage = dataset.size * dataset.size;
    const capacity = Math.max(options.batchSize, options.validationCount) * pixelsPerImage;
    const trainPixels = options.batchSize * pixelsPerImage;
    this.#chunks = Math.max(1, Math.min(Math.ceil(trainPixels / 1024), profile.targetWorkgroups));
    const u = GPUBufferUsage;
    const b = this.#buffers;
    b.features = this.#upload('features', dataset.features);
    b.masks = this.#upload('masks', dataset.masks);
    b.weights = this.#upload('weights', initialWeights(options.seed));
    b.moments = this.#buffer('adam moments', PARAMETER_COUNT * 2 * 4, u.STORAGE);
    b.pred = this.#buffer('pred', capacity * variant.classes * 4, u.STORAGE | u.COPY_SRC);
    b.target = this.#buffer('target', capacity * variant.classes * 4, u.STORAGE);
    b.hidden = this.#buffer('hidden', capacity * HIDDEN * 4, u.STORAGE);
    b.gradPred = this.#buffer('dL/dpred', capacity * variant.classes * 4, u.STORAGE | u.COPY_SRC);
    b.gradLogits = this.#buffer('dL/dlogits', capacity * MAX_CLASSES * 4, u.STORAGE | u.COPY_SRC);
    b.gradHidden = this.#buffer('dL/dhidden', capacity * HIDDEN * 4, u.STORAGE);
    b.partials = this.#buffer('gradient partials', this.#chunks * PARAMETER_COUNT * 4, u.STORAGE);
    b.loss = this.#buffer('loss', 4, u.STORAGE | u.COPY_SRC);
    b.lossLog = this.#buffer('loss log', Math.max(1, this.stepsPerEpoch) * 4, u.COPY_DST | u.COPY_SRC);
    b.adamParams = this.#buffer('adam params', 32, u.UNIFORM | u.COPY_DST);
    b.gradParams = this.#upload(
      'param grad params',
      new Uint32Array([pixelsPerImage, trainPixels, Math.ceil(trainPixels / this.#chunks), 0]),
      u.UNIFORM,
    );

    this.#train = this.#batch(trainLoss, options.batchSize);
    this.#validation = this.#batch(validationLoss, options.validationCount);
    device.queue.writeBuffer(
      this.#validation.images,
      0,
      Uint32Array.from({ length: options.validationCount }, (_, i) => trainCount + i),
    );
    this.#gradGroup = this.#bindGroup('paramGrad', [
      b.gradParams,
      b.features,
      this.#train.images,
      b.hidden,
      b.gradLogits,
      b.gradHidden,
      b.partials,
    ]);
    this.#adamGroup = this.#bindGroup('adam', [b.adamParams, b.partials, b.weights, b.moments]);
  }

  /**
   * Trains one epoch over the training images in `order` (indices into the training images;
   * full batches only), then evaluates on the validation images. Each step is one command
   * encoder and one submit; the epoch's losses and the evaluation come back in one readback.
   */
  async epoch(order: readonly number[]): Promise<EpochResult> {
    const { batchSize } = this.#options;
    const b = this.#buffers;
    for (let s = 0; s < this.stepsPerEpoch; s++) {
      this.#step++;
      const images = Uint32Array.from(order.slice(s * batchSize, (s + 1) * batchSize));
      this.#device.queue.writeBuffer(this.#train.images, 0, images);
      this.#device.queue.writeBuffer(b.adamParams, 0, this.#adamParams());
      const encoder = this.#device.createCommandEncoder({ label: `demo ${this.variant.id} step ${this.#step}` });
      this.#encodeForward(encoder, this.#train);
      this.#train.loss.encode(encoder, { pred: b.pred, target: b.target, loss: b.loss, grad: b.gradPred });
      const pass = encoder.beginComputePass({ label: 'demo backward' });
      const pixels = this.#train.size * this.#dataset.size ** 2;
      pass.setPipeline(this.#pipelines.backward);
      pass.setBindGroup(0, this.#train.backward);
      pass.dispatchWorkgroups(this.#workgroups(pixels));
      pass.setPipeline(this.#pipelines.paramGrad);
      pass.setBindGroup(0, this.#gradGroup);
      pass.dispatchWorkgroups(this.#chunks);
      pass.setPipeline(this.#pipelines.adam);
      pass.setBindGroup(0, this.#adamGroup);
      pass.dispatchWorkgroups(1);
      pass.end();
      encoder.copyBufferToBuffer(b.loss, 0, b.lossLog, s * 4, 4);
      this.#device.queue.submit([encoder.finish()]);
    }
    return this.#evaluate(this.stepsPerEpoch);
  }

  /** The model as it is now on the validation images (no training). */
  evaluate(): Promise<Evaluation> {
    return this.#evaluate(0);
  }

  destroy(): void {
    for (const loss of this.#losses) loss.destroy();
    for (const buffer of this.#owned) buffer.destroy();
    this.#owned.length = 0;
  }

  async #evaluate(stepLogs: number): Promise<EpochResult> {
    const b = this.#buffers;
    const classes = this.variant.classes;
    const count = this.#options.validationCount;
    const pixels = count * this.#dataset.size ** 2;
    const bytes = pixels * classes * 4;
    const logitBytes = pixels * MAX_CLASSES * 4;
    const at = { log: 4, pred: 4 + stepLogs * 4, grad: 4 + stepLogs * 4 + bytes, logits: 4 + stepLogs * 4 + 2 * bytes };
    const readback = this.#device.createBuffer({
      label: 'demo readback',
      size: at.logits + logitBytes,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const encoder = this.#device.createCommandEncoder({ label: `demo ${this.variant.id} evaluation` });
    this.#encodeForward(encoder, this.#validation);
    this.#validation.loss.encode(encoder, { pred: b.pred, target: b.target, loss: b.loss, grad: b.gradPred });
    const pass = encoder.beginComputePass({ label: 'demo evaluation backward' });
    pass.setPipeline(this.#pipelines.backward);
    pass.setBindGroup(0, this.#validation.backward);
    pass.dispatchWorkgroups(this.#workgroups(pixels));
    pass.end();
    encoder.copyBufferToBuffer(b.loss, 0, readback, 0, 4);
    if (stepLogs > 0) encoder.copyBufferToBuffer(b.lossLog, 0, readback, at.log, stepLogs * 4);
    encoder.copyBufferToBuffer(b.pred, 0, readback, at.pred, bytes);
    encoder.copyBufferToBuffer(b.gradPred, 0, readback, at.grad, bytes);
    encoder.copyBufferToBuffer(b.gradLogits, 0, readback, at.logits, logitBytes);
    this.#device.queue.submit([encoder.finish()]);
    await readback.mapAsync(GPUMapMode.READ);
    const mapped = readback.getMappedRange();
    const loss = new Float32Array(mapped, 0, 1)[0];
    const stepLosses = new Float32Array(mapped.slice(at.log, at.log + stepLogs * 4));
    const pred = new Float32Array(mapped, at.pred, pixels * classes);
    const grad = new Float32Array(mapped, at.grad, pixels * classes);
    const logitGrad = new Float32Array(mapped, at.logits, pixels * MAX_CLASSES);
    // The polyp is the last channel.
    const polyp = Float32Array.from({ length: pixels }, (_, i) => pred[i * classes + classes - 1]);
    const gradient = Float32Array.from({ length: pixels }, (_, i) => grad[i * classes + classes - 1]);
    const logitGradient = Float32Array.from({ length: pixels }, (_, i) => logitGrad[i * MAX_CLASSES + classes - 1]);
    readback.unmap();
    readback.destroy();

    const masks = this.#dataset.masks.subarray(this.trainCount * this.#dataset.size ** 2);
    let overlap = 0;
    let predicted = 0;
    let actual = 0;
    for (let i = 0; i < pixels; i++) {
      const hit = polyp[i] > 0.5 ? 1 : 0;
      overlap += hit * masks[i];
      predicted += hit;
      actual += masks[i];
    }
    const dice = predicted + actual === 0 ? 1 : (2 * overlap) / (predicted + actual);
    return { loss, dice, polyp, gradient, logitGradient, stepLosses };
  }

  #encodeForward(encoder: GPUCommandEncoder, batch: BatchBuffers): void {
    const pass = encoder.beginComputePass({ label: 'demo forward' });
    pass.setPipeline(this.#pipelines.forward);
    pass.setBindGroup(0, batch.forward);
    pass.dispatchWorkgroups(this.#workgroups(batch.size * this.#dataset.size ** 2));
    pass.end();
  }

  #adamParams(): ArrayBuffer {
    const data = new ArrayBuffer(32);
    const u32 = new Uint32Array(data);
    const f32 = new Float32Array(data);
    u32[0] = this.#chunks;
    u32[1] = this.#step;
    f32[2] = this.#options.learningRate;
    f32[3] = 0.9;
    f32[4] = 0.999;
    f32[5] = 1e-8;
    return data;
  }

  #batch(loss: DiceLoss, size: number): BatchBuffers {
    const b = this.#buffers;
    const pixels = size * this.#dataset.size ** 2;
    const u = GPUBufferUsage;
    const images = this.#buffer(`batch images (${size})`, size * 4, u.STORAGE | u.COPY_DST);
    const forwardParams = this.#upload(
      `forward params (${size})`,
      new Uint32Array([this.#dataset.size ** 2, size, this.variant.classes, 0]),
      u.UNIFORM,
    );
    const backwardParams = this.#upload(
      `backward params (${size})`,
      new Uint32Array([pixels, this.variant.classes, 0, 0]),
      u.UNIFORM,
    );
    return {
      size,
      images,
      loss,
      forward: this.#bindGroup('forward', [
        forwardParams,
        b.features,
        b.masks,
        images,
        b.weights,
        b.pred,
        b.target,
        b.hidden,
      ]),
      backward: this.#bindGroup('backward', [
        backwardParams,
        b.weights,
        b.pred,
        b.gradPred,
        b.hidden,
        b.gradLogits,
        b.gradHidden,
      ]),
    };
  }

  #bindGroup(pipeline: keyof Pipelines, buffers: GPUBuffer[]): GPUBindGroup {
    return this.#device.createBindGroup({
      label: `demo ${pipeline}`,
      layout: this.#pipelines[pipeline].getBindGroupLayout(0),
      entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
  }

  #buffer(label: string, size: number, usage: GPUBufferUsageFlags): GPUBuffer {
    const buffer = this.#device.createBuffer({
      label: `demo ${label}`,
      size: Math.max(16, Math.ceil(size / 4) * 4),
      usage,
    });
    this.#owned.push(buffer);
    return buffer;
  }

  #upload(
    label: string,
    data: Float32Array | Uint32Array,
    usage: GPUBufferUsageFlags = GPUBufferUsage.STORAGE,
  ): GPUBuffer {
    const buffer = this.#buffer(label, data.byteLength, usage | GPUBufferUsage.COPY_DST);
    this.#device.queue.writeBuffer(buffer, 0, data as Float32Array<ArrayBuffer>);
    return buffer;
  }
}

/** He-style initialisation, seeded: W1 ~ N(0, 2/F), W2 ~ N(0, 1/H), biases 0. */
function initialWeights(seed: number): Float32Array {
  const random = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const weights = new Float32Array(PARAMETER_COUNT);
  for (let i = 0; i < FEATURE_COUNT * HIDDEN; i++) weights[i] = gauss() * Math.sqrt(2 / FEATURE_COUNT);
  for (let i = 0; i < HIDDEN * MAX_CLASSES; i++) weights[W2_OFFSET + i] = gauss() * Math.sqrt(1 / HIDDEN);
  return weights;
}

/** A seeded permutation of 0..n-1 (Fisher-Yates). */
export function shuffled(n: number, random: () => number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}
