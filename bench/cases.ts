/**
 * What the benchmark measures: one table of loss cases and one of shapes. A later loss family
 * (logits with an activation, u8 label maps, channels-first) is one more entry in LOSS_CASES:
 * its inputs, its element sizes, how wgsl-dice is configured for it, its float64 reference and
 * its TensorFlow.js formula. Nothing else in bench/ names a case.
 */
import type { DiceEngine, DiceLoss, DiceLossOptions, FamilyLoss, LossOptions } from '../src/index.js';
import { diceReference } from '../src/reference/index.js';
import { familyBenchReference } from './family-reference.js';
import { familyTfjsLoss, seedTfjsLosses, type TfjsLoss, type TfModule } from './tfjs-baseline.js';
import type { Tensor } from '@tensorflow/tfjs';
import { mulberry32 } from '../src/reference/random.js';
import { fromFloat16Bits, toFloat16Bits } from '../src/core/half.js';
import type { TfjsLossFunction } from '../src/tfjs/index.js';

/**
 * wgsl-dice/tfjs, loaded when a row inside tfjs is measured: it needs TensorFlow.js at load,
 * which a machine that runs only the wgsl-dice rows (the GPU suite's) does not have.
 */
const tfjsEntry = () => import('../src/tfjs/index.js');

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

/** The buffers `encode` takes: those of DiceLoss and FamilyLoss alike. */
export interface EngineBuffers {
  pred: GPUBuffer;
  target: GPUBuffer;
  loss: GPUBuffer;
  grad?: GPUBuffer;
}

/** One pass of a loss's program (`loss.program.passes`): the unit `npm run kernel-stats` reports. */
export interface ProgramPass {
  /** 'reduce', 'forward', 'finalize', 'backward', ... */
  readonly name: string;
  readonly kernel: string;
  /** The pipeline's `override` constants, as the planner chose them. */
  readonly constants: Readonly<Record<string, number>>;
  /** The group it runs with ('forward', 'backward' when a gradient is asked for, ...). */
  readonly group: string;
}

/** What the benchmark needs of a wgsl-dice loss object, whichever engine method made it. */
export interface EngineLoss {
  encode(encoder: GPUCommandEncoder, buffers: EngineBuffers): void;
  /** The passes it records, in order (bench/kernel-stats/ maps each to its compiled pipeline). */
  readonly passes: readonly ProgramPass[];
  /** Per group, `statsStride` bytes whose first f32 is the group's score (Dice). */
  readonly statsBuffer: GPUBuffer;
  readonly groupCount: number;
  /** 16 (DiceLoss: (dice, I, P, G)) or 32 (FamilyLoss: (score, tp, P, G), (value, T, M, weight)). */
  readonly statsStride: 16 | 32;
  /** The kernels recorded and the workgroups the planner chose, for the row. */
  describe(mode: Mode): { kernels: string; grid: string };
  /** Records the backward passes alone (after a forward has run: they read its coefficients). */
  encodeBackward(encoder: GPUCommandEncoder, buffers: EngineBuffers): void;
  /** The wgsl-dice loss object itself: what `engine.tune()` takes. */
  readonly loss: object;
  /** The plan choice it was made with, where the engine's tuning chose one. */
  readonly plan: string | undefined;
  destroy(): void;
}

export interface LossCase {
  /** Stable name used in the output (`case` field). */
  readonly name: string;
  readonly summary: string;
  /** Part of `--quick` (at the quick shapes). */
  readonly quick?: boolean;
  /** A case measured at this one shape (once per run) instead of the shape matrix: volumes. */
  readonly fixedDims?: readonly number[];
  /** Memory layout of pred (and of a dense target). */
  readonly layout: 'channels-last' | 'channels-first';
  /** Element types as reported in the `dtype` field, e.g. 'f32' or 'f32/u8'. */
  readonly dtype: string;
  /**
   * The case's tensor shape from a SHAPES entry ([B, H, W, C], channels-last): channels-first
   * cases permute it to [B, C, H, W]. Every other member takes the mapped shape.
   */
  dims(benchShape: readonly number[]): number[];
  /** Bytes per element of pred and of target (a u8 label map costs 1/C byte per element). */
  bytesPerElement(shape: readonly number[]): { pred: number; target: number };
  /** Which formula of lossBytes applies: the classic losses' DiceLoss or the family's FamilyLoss passes. */
  readonly passes: 'seed' | 'family';
  makeInputs(shape: readonly number[], seed: number): CaseInputs;
  /** pred as the GPU reads it, when not f32: the bits of f16 values (predType 'f16'). */
  predUpload?(pred: Float32Array): ArrayBufferView;
  /** Creates the wgsl-dice loss (engine.dice() or engine.loss()). */
  create(engine: DiceEngine, shape: readonly number[]): Promise<EngineLoss>;
  /** Float64 CPU reference (also the `reference-cpu` implementation that is timed). */
  reference(inputs: CaseInputs, shape: readonly number[]): ReferenceResult;
  /** pred and target as tfjs tensors (a label-map case makes an int32 target here). */
  tfjsInputs(tf: TfModule, inputs: CaseInputs, shape: readonly number[]): { yTrue: Tensor; yPred: Tensor };
  /** The same loss in TensorFlow.js ops. */
  readonly tfjs: TfjsLoss;
  /** The same loss from `wgsl-dice/tfjs` (a tfjs op running wgsl-dice), for the in-tfjs rows. */
  readonly tfjsLibrary?: (shape: readonly number[]) => Promise<TfjsLossFunction>;
}

/**
 * Minimum bytes a loss must move, the numerator of every GB/s figure (wgsl-dice, tfjs and the
 * reference alike, so their GB/s compare). Sp, St: bytes per element of pred and target (St =
 * 1/C for a u8 label map: one byte a voxel).
 *   fwd:                read pred + read target                           = N * (Sp + St)
 *   fwd+bwd (seed):     fwd + read target again + write grad (f32)        = N * (Sp + 2 St + 4)
 *   fwd+bwd (family):   fwd + read pred and target again + write grad     = N * (2 Sp + 2 St + 4)
 * The seed's backward pass needs only the target and the per-group coefficients (dL/dp_i =
 * a_g t_i + b_g), so pred is not read twice; the fused minimum would read target once, but a
 * two-pass loss (reduce, then gradient) must read it again. The family's backward applies the
 * activation's chain rule (softmax, sigmoid), which needs pred (the logits) again as well.
 * Scalars, per-group sums and the family's softmax voxel statistics (scratch) are ignored.
 * For the classic losses (all f32): fwd 8N bytes, fwd+bwd 16N bytes; softmax-u8 at C = 8: fwd 4.125N,
 * fwd+bwd 12.25N.
 */
export function lossBytes(lossCase: LossCase, mode: Mode, shape: readonly number[]): number {
  const elements = elementsOf(shape);
  const { pred, target } = lossCase.bytesPerElement(shape);
  const forward = elements * (pred + target);
  if (mode === 'fwd') return forward;
  const backward = lossCase.passes === 'family' ? pred + target + 4 : target + 4;
  return forward + elements * backward;
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

/** Fixed, unequal class weights for the weighted case (the TensorFlow code leaves them to the user). */
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

/** A DiceLoss (engine.dice()) as the benchmark drives it. */
async function seedLoss(engine: DiceEngine, options: DiceLossOptions): Promise<EngineLoss> {
  const dice: DiceLoss = await engine.dice(options);
  const { plan, kernels } = dice;
  return {
    encode: (encoder, buffers) => dice.encode(encoder, buffers),
    passes: dice.program.passes,
    statsBuffer: dice.statsBuffer,
    groupCount: dice.groupCount,
    statsStride: 16,
    describe: (mode) => ({
      kernels: [kernels.reduce, kernels.finalize, ...(mode === 'fwd+bwd' ? [kernels.backward] : [])].join('+'),
      grid:
        `reduce ${plan.slabs * plan.reduce.chunks * plan.reduce.colBlocks} workgroups` +
        (mode === 'fwd+bwd' ? `, backward ${plan.slabs * plan.backward.chunks * plan.backward.team}` : ''),
    }),
    encodeBackward: (encoder, buffers) => dice._encodeBackward(encoder, buffers),
    loss: dice,
    plan: dice.program.plan,
    destroy: () => dice.destroy(),
  };
}

/** A FamilyLoss (engine.loss()) as the benchmark drives it. */
async function familyLoss(engine: DiceEngine, options: LossOptions): Promise<EngineLoss> {
  const loss: FamilyLoss = await engine.loss(options);
  const { plan } = loss;
  const forwardWorkgroups = plan.forward.windows.reduce((n, w) => n + w.count, 0) * plan.forward.classBlocks;
  const backwardWorkgroups = plan.backward.windows.reduce((n, w) => n + w.count, 0);
  return {
    encode: (encoder, buffers) => loss.encode(encoder, buffers),
    passes: loss.program.passes,
    statsBuffer: loss.statsBuffer,
    groupCount: loss.groupCount,
    statsStride: 32,
    describe: (mode) => ({
      kernels: ['family_forward', 'family_finalize', ...(mode === 'fwd+bwd' ? ['family_backward'] : [])].join('+'),
      grid: `forward ${forwardWorkgroups} workgroups` + (mode === 'fwd+bwd' ? `, backward ${backwardWorkgroups}` : ''),
    }),
    encodeBackward: (encoder, buffers) => loss._encodeBackward(encoder, buffers),
    loss,
    plan: loss.program.plan,
    destroy: () => loss.destroy(),
  };
}

const f32Seed = {
  layout: 'channels-last',
  dtype: 'f32',
  passes: 'seed',
  dims: (shape: readonly number[]) => [...shape],
  bytesPerElement: () => ({ pred: 4, target: 4 }),
  makeInputs: imbalancedProbabilitiesAndOneHot,
  tfjsInputs: (tf: TfModule, inputs: CaseInputs, shape: readonly number[]) => ({
    yTrue: tf.tensor(inputs.target, [...shape], 'float32'),
    yPred: tf.tensor(inputs.pred, [...shape], 'float32'),
  }),
} as const;

/** [B, H, W, C] -> [B, C, H, W] (any number of spatial axes). */
export const toChannelsFirst = (shape: readonly number[]) => [shape[0], shape[shape.length - 1], ...shape.slice(1, -1)];

interface FamilyCaseSpec {
  layout: 'channels-last' | 'channels-first';
  activation: 'softmax' | 'sigmoid';
  target: 'dense' | 'u8';
  /** f16 logits (mixed-precision training's): the inputs are drawn, then rounded to f16, and the reference sees the rounded values. */
  predType?: 'f16';
}

/** Batch, classes and spatial size of a shape in the spec's layout. */
function familyDims(spec: FamilyCaseSpec, shape: readonly number[]) {
  const channelsFirst = spec.layout === 'channels-first';
  const classes = channelsFirst ? shape[1] : shape[shape.length - 1];
  const spatialDims = channelsFirst ? shape.slice(2) : shape.slice(1, -1);
  return { batch: shape[0], classes, spatialDims, spatial: spatialDims.reduce((a, b) => a * b, 1) };
}

/**
 * Logits and targets for the family cases, in the spec's layout. Softmax: one label a voxel,
 * drawn with probability proportional to 1/(c+1) as in the classic TensorFlow examples' inputs, as a u8 label map or
 * a one-hot dense target; logits uniform in [-2, 2] with the label's raised by up to 3.
 * Sigmoid (multi-label): each class present independently with probability 0.5/(c+1), logits
 * uniform in [-2, 2] shifted by up to +-2.5 towards the target.
 */
function familyInputs(spec: FamilyCaseSpec, shape: readonly number[], seed: number): CaseInputs {
  const { batch, classes, spatial } = familyDims(spec, shape);
  const channelsFirst = spec.layout === 'channels-first';
  const stride = channelsFirst ? spatial : 1;
  const base = (b: number, s: number) => (channelsFirst ? b * classes * spatial + s : (b * spatial + s) * classes);
  const random = mulberry32(seed);
  const elements = batch * classes * spatial;
  const pred = new Float32Array(elements);
  const labels = spec.target === 'u8' ? new Uint8Array(batch * spatial) : undefined;
  const dense = spec.target === 'dense' ? new Float32Array(elements) : undefined;
  const cumulative: number[] = [];
  let total = 0;
  for (let c = 0; c < classes; c++) cumulative.push((total += 1 / (c + 1)));
  for (let b = 0; b < batch; b++) {
    for (let s = 0; s < spatial; s++) {
      const o = base(b, s);
      if (spec.activation === 'softmax') {
        const draw = random() * total;
        let label = 0;
        while (label < classes - 1 && cumulative[label] < draw) label++;
        for (let c = 0; c < classes; c++) {
          pred[o + c * stride] = 4 * random() - 2 + (c === label ? 3 * random() : 0);
        }
        if (labels) labels[b * spatial + s] = label;
        else dense![o + label * stride] = 1;
      } else {
        for (let c = 0; c < classes; c++) {
          const positive = random() < 0.5 / (c + 1);
          pred[o + c * stride] = 4 * random() - 2 + (positive ? 2.5 : -2.5) * random();
          dense![o + c * stride] = positive ? 1 : 0; // sigmoid cases take dense targets
        }
      }
    }
  }
  return { pred, target: (labels ?? dense)! };
}

/** A loss-family case: engine.loss() with per-class Dice, mean reduction, smoothing 1e-5. */
function familyCase(
  name: string,
  summary: string,
  spec: FamilyCaseSpec,
  quick = false,
  fixedDims?: readonly number[],
): LossCase {
  const labels = spec.target === 'u8';
  const f16 = spec.predType === 'f16';
  return {
    name,
    summary,
    quick,
    fixedDims,
    layout: spec.layout,
    dtype: `${f16 ? 'f16' : 'f32'}${labels ? '/u8' : ''}`,
    passes: 'family',
    dims: (shape) => (spec.layout === 'channels-first' ? toChannelsFirst(shape) : [...shape]),
    bytesPerElement: (shape) => ({ pred: f16 ? 2 : 4, target: labels ? 1 / familyDims(spec, shape).classes : 4 }),
    makeInputs: (shape, seed) => {
      const inputs = familyInputs(spec, shape, seed);
      return f16 ? { ...inputs, pred: Float32Array.from(fromFloat16Bits(toFloat16Bits(inputs.pred))) } : inputs;
    },
    ...(f16 ? { predUpload: (pred: Float32Array) => toFloat16Bits(pred) } : {}),
    create: (engine, shape) =>
      familyLoss(engine, {
        shape,
        layout: spec.layout,
        activation: spec.activation,
        target: spec.target,
        ...(f16 ? { predType: 'f16' as const } : {}),
        label: `bench ${name}`,
      }),
    reference: (inputs, shape) =>
      familyBenchReference(inputs.pred, inputs.target, {
        shape,
        layout: spec.layout,
        activation: spec.activation,
        target: labels ? 'labels' : 'dense',
      }),
    tfjsInputs: (tf, inputs, shape) => {
      const { batch, spatialDims } = familyDims(spec, shape);
      return {
        yTrue: labels
          ? tf.tensor(Int32Array.from(inputs.target), [batch, ...spatialDims], 'int32')
          : tf.tensor(inputs.target, [...shape], 'float32'),
        yPred: tf.tensor(inputs.pred, [...shape], 'float32'),
      };
    },
    tfjs: familyTfjsLoss(spec),
  };
}

/** Every loss the benchmark knows. Add new loss families here. */
export const LOSS_CASES: readonly LossCase[] = [
  {
    ...f32Seed,
    name: 'seed-global',
    summary: "the global Dice loss: one Dice per sample over H, W, C (reduce 'global')",
    quick: true,
    create: (engine, shape) => seedLoss(engine, { shape, reduce: 'global', label: 'bench seed-global' }),
    reference: (inputs, shape) => seedReference(inputs, shape, { reduce: 'global' }),
    tfjs: seedTfjsLosses.global,
    tfjsLibrary: async () => (await tfjsEntry()).diceLoss(),
  },
  {
    ...f32Seed,
    name: 'seed-weighted',
    summary:
      "the class-weighted Dice loss: per-class Dice, sum_c w_c * mean_b(1 - dice) (reduce 'per-class' + weights)",
    quick: true,
    create: (engine, shape) =>
      seedLoss(engine, {
        shape,
        reduce: 'per-class',
        weights: seedClassWeights(classesOf(shape)),
        label: 'bench seed-weighted',
      }),
    reference: (inputs, shape) =>
      seedReference(inputs, shape, { reduce: 'per-class', weights: seedClassWeights(classesOf(shape)) }),
    tfjs: (tf, yTrue, yPred) => seedTfjsLosses.weighted(tf, yTrue, yPred, seedClassWeights(classesOf(yTrue.shape))),
    tfjsLibrary: async (shape) => (await tfjsEntry()).weightedDiceLoss(seedClassWeights(classesOf(shape))),
  },
  {
    ...f32Seed,
    name: 'seed-multiclass',
    summary: "the multi-class softmax Dice loss: per-class Dice, mean over classes and batch (reduce 'per-class')",
    quick: true,
    create: (engine, shape) => seedLoss(engine, { shape, reduce: 'per-class', label: 'bench seed-multiclass' }),
    reference: (inputs, shape) => seedReference(inputs, shape, { reduce: 'per-class' }),
    tfjs: seedTfjsLosses.multiclass,
    tfjsLibrary: async () => (await tfjsEntry()).multiclassDiceLoss(),
  },
  {
    ...familyCase(
      'softmax-u8',
      'loss family: softmax Dice from logits, u8 label map, channels-last; per-class Dice, mean',
      { layout: 'channels-last', activation: 'softmax', target: 'u8' },
      true,
    ),
    // In tfjs the label map is an int32 tensor, read by the passes as u32 labels.
    tfjsLibrary: async () => (await tfjsEntry()).tfjsLoss({ activation: 'softmax', target: 'label-map' }),
  },
  familyCase(
    'softmax-u8-f16',
    'loss family: softmax Dice from f16 logits (predType f16), u8 label map, channels-last; per-class Dice, mean',
    { layout: 'channels-last', activation: 'softmax', target: 'u8', predType: 'f16' },
    true,
  ),
  familyCase('softmax-u8-cf', 'loss family: softmax Dice from logits, u8 label map, channels-first [B, C, H, W]', {
    layout: 'channels-first',
    activation: 'softmax',
    target: 'u8',
  }),
  familyCase(
    'sigmoid-dense-cf',
    'loss family: sigmoid Dice from logits, dense f32 multi-label target, channels-first',
    { layout: 'channels-first', activation: 'sigmoid', target: 'dense' },
    true,
  ),
  familyCase(
    'softmax-u8-3d',
    'loss family: softmax Dice from logits, u8 label map, a 3D volume [2, 96, 96, 96, 4] channels-last',
    { layout: 'channels-last', activation: 'softmax', target: 'u8' },
    true,
    [2, 96, 96, 96, 4],
  ),
];

/**
 * clDice (`npm run bench:cldice`, bench/cldice.ts): MONAI's iter_ and the channels-last
 * [B, H, W, C] / [B, D, H, W, C] shapes it is measured at.
 */
export const CLDICE_BENCH = {
  iterations: 3,
  shapes: [
    [2, 512, 512, 2],
    [1, 128, 128, 128, 2],
  ],
} as const satisfies { iterations: number; shapes: readonly (readonly number[])[] };

/**
 * The surface rows (bench/surface.ts, `npm run bench -- --surface`): the distance transform and
 * HD95 + ASD + NSD of a label-map pair with `labels` labels (background included) at each spatial
 * shape; NSD at `tolerance` voxels, HD at `percentile`. A GPU suite runs the same list.
 */
export const SURFACE_BENCH = {
  labels: 4,
  percentile: 95,
  tolerance: 1,
  shapes: [
    [128, 128, 128],
    [256, 256, 256],
  ],
} as const satisfies { labels: number; percentile: number; tolerance: number; shapes: readonly (readonly number[])[] };

export interface BenchShape {
  readonly dims: readonly number[];
  /** Part of `--quick`. */
  readonly quick?: boolean;
  readonly why: string;
}

/**
 * Channels-last [B, H, W, C] shapes, smallest first (channels-first cases permute them: see
 * LossCase.dims). The default matrix takes every shape up to
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
