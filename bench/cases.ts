/**
 * What the benchmark measures: one table of loss cases and one of shapes. A later loss family
 * (logits with an activation, u8 label maps, channels-first) is one more entry in LOSS_CASES:
 * its inputs, its element sizes, how wgsl-dice is configured for it, its float64 reference and
 * its TensorFlow.js formula. Nothing else in bench/ names a case.
 */
import type { DiceLossOptions } from '../src/index.js';
import { diceReference } from '../src/reference/index.js';
import { seedTfjsLosses, type TfjsLoss, type TfModule } from './tfjs-baseline.js';
import type { Tensor } from '@tensorflow/tfjs';
import { mulberry32 } from '../src/reference/random.js';

export type Mode = 'fwd' | 'fwd+bwd';
export const MODES: readonly Mode[] = ['fwd', 'fwd+bwd'];

/** Host data for one case at one shape. Targets may later be label maps (Uint8Array). */
export interface CaseInputs {
  pred: Float32Array<ArrayBuffer>;
  target: Float32Array<ArrayBuffer> | Uint8Array<ArrayBuffer>;
}

export interface ReferenceResult {
  loss: number;
  /** Dice of each group (sample-major), the layout of wgsl-dice's stats buffer. */
  dice: Float64Array;
  /** dL/dpred in pred's layout. */
  grad: Float64Array;
}

export interface LossCase {
  /** Stable name used in the output (`case` field). */
  readonly name: string;
  readonly summary: string;
  /** Memory layout of pred and target; 'channels-first' cases will say so here. */
  readonly layout: 'channels-last';
  /** Element types as reported in the `dtype` field, e.g. 'f32' or 'f32/u8'. */
  readonly dtype: string;
  readonly predBytesPerElement: number;
  readonly targetBytesPerElement: number;
  makeInputs(shape: readonly number[], seed: number): CaseInputs;
  /** Options for `engine.dice()`. */
  diceOptions(shape: readonly number[]): DiceLossOptions;
  /** Float64 CPU reference (also the `reference-cpu` implementation that is timed). */
  reference(inputs: CaseInputs, shape: readonly number[]): ReferenceResult;
  /** pred and target as tfjs tensors (a label-map case would make an int32 target here). */
  tfjsInputs(tf: TfModule, inputs: CaseInputs, shape: readonly number[]): { yTrue: Tensor; yPred: Tensor };
  /** The same loss in TensorFlow.js ops, as the seed writes it. */
  readonly tfjs: TfjsLoss;
}

/**
 * Minimum bytes a loss must move, the numerator of every GB/s figure (wgsl-dice, tfjs and the
 * reference alike, so their GB/s compare):
 *   fwd:      read pred + read target                             = N * (Sp + St)
 *   fwd+bwd:  fwd + read target again + write grad (f32)          = N * (Sp + 2 St + 4)
 * The backward pass needs only the target and the per-group coefficients (dL/dp_i = a_g t_i +
 * b_g), so pred is not read twice; the fused minimum would read target once, but a two-pass
 * loss (reduce, then gradient) must read it again. Scalars and per-group sums are ignored.
 * For the seed (all f32): fwd 8N bytes, fwd+bwd 16N bytes.
 */
export function lossBytes(lossCase: LossCase, mode: Mode, elements: number): number {
  const forward = elements * (lossCase.predBytesPerElement + lossCase.targetBytesPerElement);
  if (mode === 'fwd') return forward;
  return forward + elements * (lossCase.targetBytesPerElement + 4);
}

export function elementsOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}


/**
 * Segmentation-like f32 inputs with unequal classes, so that the three losses give clearly
 * different values (a check cannot pass with the wrong reduction): each pixel's label is drawn
 * with probability proportional to 1/(c+1) (class 0 dominates, like background), target is its
 * one-hot vector, and pred is a probability vector over C that leans towards the label (uniform
 * scores, the label's raised by up to 2, normalised). For C = 1: a 0/1 mask with 30% ones and a
 * probability that leans towards it.
 */
function imbalancedProbabilitiesAndOneHot(shape: readonly number[], seed: number): CaseInputs {
  const classes = shape[shape.length - 1];
  const elements = elementsOf(shape);
  const random = mulberry32(seed);
  const pred = new Float32Array(elements);
  const target = new Float32Array(elements);
  const cumulative: number[] = [];
  let total = 0;
  for (let c = 0; c < classes; c++) cumulative.push((total += 1 / (c + 1)));
  for (let base = 0; base < elements; base += classes) {
    if (classes === 1) {
      const positive = random() < 0.3;
      target[base] = positive ? 1 : 0;
      pred[base] = positive ? 0.4 + 0.6 * random() : 0.6 * random();
      continue;
    }
    const draw = random() * total;
    let label = 0;
    while (cumulative[label] < draw) label++;
    let sum = 0;
    for (let c = 0; c < classes; c++) {
      const score = random() + 1e-3 + (c === label ? 2 * random() : 0);
      pred[base + c] = score;
      sum += score;
    }
    for (let c = 0; c < classes; c++) pred[base + c] /= sum;
    target[base + label] = 1;
  }
  return { pred, target };
}

/** Fixed, unequal class weights for the weighted case (the seed leaves them to the user). */
export function seedClassWeights(classes: number): number[] {
  return Array.from({ length: classes }, (_, c) => 0.5 + c / classes);
}

const classesOf = (shape: readonly number[]) => shape[shape.length - 1];

function seedReference(
  inputs: CaseInputs,
  shape: readonly number[],
  options: Omit<DiceLossOptions, 'shape'>,
): ReferenceResult {
  const { loss, dice, grad } = diceReference(inputs.pred, inputs.target, { shape, ...options });
  return { loss, dice, grad };
}

const f32Seed = {
  layout: 'channels-last',
  dtype: 'f32',
  predBytesPerElement: 4,
  targetBytesPerElement: 4,
  makeInputs: imbalancedProbabilitiesAndOneHot,
  tfjsInputs: (tf: TfModule, inputs: CaseInputs, shape: readonly number[]) => ({
    yTrue: tf.tensor(inputs.target, [...shape], 'float32'),
    yPred: tf.tensor(inputs.pred, [...shape], 'float32'),
  }),
} as const;

/** Every loss the benchmark knows. Add new loss families here. */
export const LOSS_CASES: readonly LossCase[] = [
  {
    ...f32Seed,
    name: 'seed-global',
    summary: "seed example 1: one Dice per sample over H, W, C (reduce 'global')",
    diceOptions: (shape) => ({ shape, reduce: 'global', label: 'bench seed-global' }),
    reference: (inputs, shape) => seedReference(inputs, shape, { reduce: 'global' }),
    tfjs: seedTfjsLosses.global,
  },
  {
    ...f32Seed,
    name: 'seed-weighted',
    summary: "seed example 2: per-class Dice, sum_c w_c * mean_b(1 - dice) (reduce 'per-class' + weights)",
    diceOptions: (shape) => ({
      shape,
      reduce: 'per-class',
      weights: seedClassWeights(classesOf(shape)),
      label: 'bench seed-weighted',
    }),
    reference: (inputs, shape) =>
      seedReference(inputs, shape, { reduce: 'per-class', weights: seedClassWeights(classesOf(shape)) }),
    tfjs: (tf, yTrue, yPred) =>
      seedTfjsLosses.weighted(tf, yTrue, yPred, seedClassWeights(classesOf(yTrue.shape))),
  },
  {
    ...f32Seed,
    name: 'seed-multiclass',
    summary: "seed example 3: per-class Dice, mean over classes and batch (reduce 'per-class')",
    diceOptions: (shape) => ({ shape, reduce: 'per-class', label: 'bench seed-multiclass' }),
    reference: (inputs, shape) => seedReference(inputs, shape, { reduce: 'per-class' }),
    tfjs: seedTfjsLosses.multiclass,
  },
];

export interface BenchShape {
  readonly dims: readonly number[];
  /** Part of `--quick`. */
  readonly quick?: boolean;
  readonly why: string;
}

/**
 * Channels-last [B, H, W, C] shapes, smallest first. The default matrix takes every shape up to
 * a size cap (modest on software adapters, the device's binding limit on GPUs; see main.ts).
 */
export const SHAPES: readonly BenchShape[] = [
  { dims: [1, 256, 256, 1], why: '64K elements, C = 1 (binary mask)' },
  { dims: [1, 255, 255, 3], why: 'odd sizes: not a whole number of vec4s (scalar kernels)' },
  { dims: [4, 128, 128, 4], why: '256K elements, C = 4' },
  { dims: [1, 128, 128, 64], why: '1M elements, C = 64 (widest class axis)' },
  { dims: [2, 512, 512, 8], quick: true, why: "4M elements, C = 8: the issue's target shape" },
  { dims: [4, 256, 256, 16], why: '4M elements, C = 16' },
  { dims: [8, 512, 512, 8], why: '16M elements' },
  { dims: [8, 1024, 1024, 16], why: '128M elements (512 MiB per f32 tensor): GPUs only' },
];

export function shapeName(dims: readonly number[]): string {
  return dims.join('x');
}
