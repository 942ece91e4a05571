/**
 * The loss inside TensorFlow.js: `wgsl-dice/tfjs` (a tfjs op running wgsl-dice on the backend's
 * own buffers) against the same loss written in tfjs ops, both differentiated by tfjs, in the
 * same run on tfjs's WebGPU device. Two measurements:
 * - `tf.grad`: tf.valueAndGrad of the loss w.r.t. yPred, awaited (the loss's data() and the
 *   queue idle; the gradient is computed but not read back, as in training);
 * - `unet-step`: one optimizer step of a small U-Net-like model (2 levels, 8 output channels)
 *   with each loss, and with a stand-in loss of negligible cost (tf.mean), so the loss's share
 *   of the step is (step − stand-in step) / step.
 */
import type { Scalar, Tensor } from '@tensorflow/tfjs';
import { elementsOf, type CaseInputs, type LossCase, type ReferenceResult } from './cases.js';
import type { Impl, Row } from './report.js';
import type { TfjsBaseline, TfModule } from './tfjs-baseline.js';
import { summarize, timeHost } from './timing.js';
import { mulberry32 } from '../src/reference/random.js';

/** What the in-tfjs measurements need of the benchmark (main.ts's Bench, plus its checks). */
export interface TfjsIntegrationHost {
  base(impl: Impl, caseName: string, mode: string, shape: number[], extra: Partial<Row>): Row;
  measure(row: Row, run: () => Promise<Partial<Row>>): Promise<Row>;
  step(label: string): void;
  checkLoss(got: number, want: number, what: string): string;
  checkGrad(got: ArrayLike<number>, want: Float64Array, what: string): string;
  hostReps: number;
  warmup: number;
}

type Loss = (yTrue: Tensor, yPred: Tensor) => Tensor;

const GRAD_TIMING = 'wall-clock(tf.valueAndGrad+await)';
const STEP_TIMING = 'wall-clock(training step+await)';

/** The queue of tfjs's device, to await the work tfjs submitted. */
function tfjsQueue(tf: TfModule): GPUQueue {
  return (tf.backend() as unknown as { device: GPUDevice }).device.queue;
}

/** Times `run` after checking its first result; the row fails on a wrong result or a tensor leak. */
async function checkedTiming(
  host: TfjsIntegrationHost,
  baseline: TfjsBaseline,
  row: Row,
  run: () => Promise<void>,
  check: () => Promise<string>,
  extra: (median: number) => Partial<Row> = () => ({}),
  reps = host.hostReps,
): Promise<Row> {
  const { tf } = baseline;
  return host.measure(row, async () => {
    const problems = [await check(), ...baseline.takeErrors().map((e) => `tfjs GPU error: ${e}`)].filter(Boolean);
    if (problems.length) throw new Error(problems.join('; '));
    const tensorsBefore = tf.memory().numTensors;
    const ms = await timeHost(run, reps, Math.min(host.warmup, reps === host.hostReps ? 2 : 1));
    const leaked = tf.memory().numTensors - tensorsBefore;
    if (leaked > 0) throw new Error(`leaked ${leaked} tensors`);
    const { median, min } = summarize(ms);
    return { ms_median: median, ms_min: min, reps, ...extra(median) };
  });
}

/** `tf.grad` rows: wgsl-dice/tfjs and the tfjs-ops loss, value and dL/dpred, at one shape. */
export async function lossInTfjs(
  host: TfjsIntegrationHost,
  baseline: TfjsBaseline,
  lossCase: LossCase,
  shape: number[],
  inputs: CaseInputs,
  reference: ReferenceResult,
): Promise<void> {
  const { tf } = baseline;
  const library = await lossCase.tfjsLibrary!(shape);
  const { yTrue, yPred } = lossCase.tfjsInputs(tf, inputs, shape);
  const valueAndGrad = (loss: Loss) => tf.valueAndGrad((p: Tensor) => loss(yTrue, p) as Scalar)(yPred);
  const impls: [Impl, Loss][] = [
    ['wgsl-dice/tfjs', library],
    ['tfjs-webgpu', (t, p) => lossCase.tfjs(tf, t, p)],
  ];
  try {
    await library.prepare(shape);
    for (const [impl, loss] of impls) {
      host.step(`${impl} in tf.grad ${lossCase.name}`);
      const row = host.base(impl, lossCase.name, 'tf.grad', shape, {
        dtype: lossCase.dtype,
        layout: lossCase.layout,
        timing: GRAD_TIMING,
        note: 'tf.valueAndGrad w.r.t. yPred; await loss data() and queue idle (grad computed, not read back)',
      });
      const run = async () => {
        const { value, grad } = valueAndGrad(loss);
        await value.data();
        await tfjsQueue(tf).onSubmittedWorkDone();
        tf.dispose([value, grad]);
      };
      const check = async () => {
        const { value, grad } = valueAndGrad(loss);
        const [got, gotGrad] = await Promise.all([value.data(), grad.data()]);
        tf.dispose([value, grad]);
        return [
          host.checkLoss(got[0], reference.loss, 'loss vs reference'),
          host.checkGrad(gotGrad, reference.grad, 'grad vs reference'),
        ]
          .filter(Boolean)
          .join('; ');
      };
      await checkedTiming(host, baseline, row, run, check);
    }
    if (library.calls.tfjsOps > 0) throw new Error('wgsl-dice/tfjs fell back to tfjs ops after prepare()');
  } finally {
    library.dispose();
    tf.dispose([yTrue, yPred]);
  }
}

/**
 * Input and output of the U-Net-like model: [2, 64, 64, 3] images to [2, 64, 64, 8] (at
 * 128x128 one step takes about 6 s on lavapipe, nearly all of it tfjs's convolutions).
 */
export const UNET_INPUT = [2, 64, 64, 3];
export const UNET_OUTPUT = [2, 64, 64, 8];
/** Timed steps per unet-step row (each also gets one check step and one warm-up step). */
const UNET_REPS = 3;

/**
 * conv3x3(8) x2 -> maxpool -> conv3x3(16) x2 -> upsample -> concat with the first level ->
 * conv3x3(8) -> conv1x1(8, head), relu inside, seeded initial weights. The head is softmax
 * (probabilities, for the classic Dice losses) or linear (logits, for softmax Dice from logits).
 */
function unetLike(tf: TfModule, head: 'softmax' | 'linear') {
  let seed = 1;
  const conv = (filters: number, kernelSize: number, activation: 'relu' | 'softmax' | 'linear' = 'relu') =>
    tf.layers.conv2d({
      filters,
      kernelSize,
      padding: 'same',
      activation,
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed++ }),
    });
  const input = tf.input({ shape: UNET_INPUT.slice(1) });
  const level1 = conv(8, 3).apply(conv(8, 3).apply(input)) as Tensor;
  const pooled = tf.layers.maxPooling2d({ poolSize: 2 }).apply(level1);
  const level2 = conv(16, 3).apply(conv(16, 3).apply(pooled));
  const up = tf.layers.upSampling2d({ size: [2, 2] }).apply(level2);
  const merged = tf.layers.concatenate().apply([up as Tensor, level1]);
  const output = conv(UNET_OUTPUT[3], 1, head).apply(conv(8, 3).apply(merged));
  return tf.model({ inputs: input, outputs: output as never });
}

/**
 * `unet-step` rows for every case with a wgsl-dice/tfjs loss: a training step (SGD) with
 * wgsl-dice/tfjs, with the tfjs-ops loss and with tf.mean as a stand-in of negligible cost.
 */
export async function unetSteps(
  host: TfjsIntegrationHost,
  baseline: TfjsBaseline,
  cases: readonly LossCase[],
): Promise<void> {
  const { tf } = baseline;
  const random = mulberry32(20261127);
  const x = tf.tensor(
    Float32Array.from({ length: elementsOf(UNET_INPUT) }, () => random()),
    UNET_INPUT,
  );
  const models = new Map<string, ReturnType<typeof unetLike>>();
  const optimizer = tf.train.sgd(1e-3);
  const standIns = new Map<string, number>();
  try {
    for (const lossCase of cases) {
      const head = lossCase.passes === 'family' ? 'linear' : 'softmax';
      if (!models.has(head)) models.set(head, unetLike(tf, head));
      const model = models.get(head)!;
      const { yTrue } = lossCase.tfjsInputs(tf, lossCase.makeInputs(UNET_OUTPUT, 7), UNET_OUTPUT);
      const library = await lossCase.tfjsLibrary!(UNET_OUTPUT);
      await library.prepare(UNET_OUTPUT);
      const step = (loss: Loss) => async () => {
        const value = optimizer.minimize(() => loss(yTrue, model.apply(x) as Tensor) as Scalar, true)!;
        await value.data();
        await tfjsQueue(tf).onSubmittedWorkDone();
        value.dispose();
      };
      // Both losses on the same prediction must agree before either step is timed.
      const agree = async () => {
        const values = tf.tidy(() => {
          const yPred = model.apply(x) as Tensor;
          return [library(yTrue, yPred), lossCase.tfjs(tf, yTrue, yPred)];
        });
        const [a, b] = await Promise.all(values.map((v) => v.data()));
        tf.dispose(values);
        return host.checkLoss(a[0], b[0], 'wgsl-dice/tfjs vs tfjs-ops loss on the same prediction');
      };
      if (!standIns.has(head)) {
        host.step(`unet step, stand-in loss (${head} head)`);
        const row = host.base('tfjs-webgpu', `stand-in-mean-${head}`, 'unet-step', UNET_OUTPUT, {
          timing: STEP_TIMING,
          note: 'training step with loss = tf.mean(yPred): the model alone',
        });
        const measured = await checkedTiming(
          host,
          baseline,
          row,
          step((_, p) => tf.mean(p)),
          async () => '',
          undefined,
          UNET_REPS,
        );
        if (measured.ms_median !== null) standIns.set(head, measured.ms_median);
      }
      for (const [impl, loss] of [
        ['wgsl-dice/tfjs', library],
        ['tfjs-webgpu', (t: Tensor, p: Tensor) => lossCase.tfjs(tf, t, p)],
      ] as [Impl, Loss][]) {
        host.step(`unet step ${impl} ${lossCase.name}`);
        const row = host.base(impl, lossCase.name, 'unet-step', UNET_OUTPUT, {
          dtype: lossCase.dtype,
          timing: STEP_TIMING,
          note: `SGD step of a U-Net-like model ${UNET_INPUT.join('x')} -> ${UNET_OUTPUT.join('x')}, loss data() awaited`,
        });
        const standIn = standIns.get(head);
        await checkedTiming(
          host,
          baseline,
          row,
          step(loss),
          agree,
          (median) => {
            if (standIn === undefined) return {};
            const share = Number((100 * Math.max(0, (median - standIn) / median)).toFixed(1));
            return { loss_share_pct: share, note: `${row.note}; loss ≈ ${share}% of the step` };
          },
          UNET_REPS,
        );
      }
      library.dispose();
      yTrue.dispose();
    }
  } finally {
    for (const model of models.values()) model.dispose();
    optimizer.dispose();
    x.dispose();
  }
}
