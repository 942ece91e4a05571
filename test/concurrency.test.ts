// Several losses and engines share one device: recorded into one command encoder in any
// order, spread over submits, or run as overlapping compute() calls, each must give exactly
// (bitwise) what it gives when run alone, and that must match the float64 reference.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiceLoss, DiceLossOptions, DiceResult } from '../src/index.js';
import { diceReference } from '../src/reference/index.js';
import { createBufferFrom, expectClose, mulberry32, readBuffer, withValidation } from './helpers/gpu.js';
import { useTestEngine } from './helpers/test-engine.js';
import { gradTolerance, LOSS_TOL, SUM_TOL } from './tolerance.js';

const STORAGE_IO = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

interface Job {
  name: string;
  loss: DiceLoss;
  options: DiceLossOptions;
  pred: Float32Array;
  target: Float32Array;
  alone: Bits;
}

interface Bits {
  loss: number;
  stats: Uint32Array;
  grad: Uint32Array;
}

const engines = [useTestEngine(), useTestEngine({ workgroupSize: 64, targetWorkgroups: 300 })];
const gpu = engines[0];
const jobs: Job[] = [];
const owned: GPUBuffer[] = [];

const SPECS: { name: string; engine: number; options: DiceLossOptions; soft: boolean; seed: number }[] = [
  {
    name: 'weighted per-class, vec4',
    engine: 0,
    options: { shape: [2, 48, 48, 4], reduce: 'per-class', weights: [0.2, 1, 3, 0.5] },
    soft: false,
    seed: 1,
  },
  { name: 'global, scalar', engine: 0, options: { shape: [3, 77, 5], reduce: 'global' }, soft: true, seed: 2 },
  {
    name: 'per-class mean, C = 7',
    engine: 1,
    options: { shape: [1, 60, 33, 7], reduce: 'per-class', epsilon: { numerator: 1e-4, denominator: 1e-3 } },
    soft: true,
    seed: 3,
  },
  {
    name: 'global, C = 1, several chunks',
    engine: 1,
    options: { shape: [2, 300, 200, 1], reduce: 'global' },
    soft: false,
    seed: 4,
  },
  // The same options as the first job, on the other engine and other data.
  {
    name: 'weighted per-class, vec4, engine 2',
    engine: 1,
    options: { shape: [2, 48, 48, 4], reduce: 'per-class', weights: [0.2, 1, 3, 0.5] },
    soft: true,
    seed: 5,
  },
  // The same loss object as the first job, with other data (see beforeAll).
];

function makeData(options: DiceLossOptions, soft: boolean, seed: number) {
  const random = mulberry32(seed);
  const n = options.shape.reduce((a, b) => a * b, 1);
  return {
    pred: Float32Array.from({ length: n }, () => random()),
    target: Float32Array.from({ length: n }, () => (soft ? random() : random() < 0.3 ? 1 : 0)),
  };
}

function bitsOf(result: DiceResult): Bits {
  const { dice, intersection, predSum, targetSum } = result.perClass;
  const stats = new Float32Array(dice.length * 4);
  dice.forEach((d, g) => stats.set([d, intersection[g], predSum[g], targetSum[g]], g * 4));
  return {
    loss: result.loss,
    stats: new Uint32Array(stats.buffer),
    grad: new Uint32Array(result.grad!.buffer.slice(0)),
  };
}

function expectSame(got: Bits, job: Job, how: string) {
  const what = `${job.name} (${how})`;
  expect(Object.is(got.loss, job.alone.loss), `${what}: loss ${got.loss} vs alone ${job.alone.loss}`).toBe(true);
  expect(
    Buffer.compare(Buffer.from(got.stats.buffer), Buffer.from(job.alone.stats.buffer)),
    `${what}: stats differ from the run alone`,
  ).toBe(0);
  expect(
    Buffer.compare(Buffer.from(got.grad.buffer), Buffer.from(job.alone.grad.buffer)),
    `${what}: grad differs from the run alone`,
  ).toBe(0);
}

beforeAll(async () => {
  await withValidation(gpu.device, async () => {
    for (const spec of SPECS) {
      const loss = await engines[spec.engine].engine.dice(spec.options);
      const { pred, target } = makeData(spec.options, spec.soft, spec.seed);
      const result = await loss.compute(pred, target, { grad: true });
      // What "alone" gives is itself checked against the reference.
      const want = diceReference(pred, target, spec.options);
      expectClose([result.loss], [want.loss], LOSS_TOL, `${spec.name}: loss`);
      expectClose(result.perClass.intersection, want.intersection, SUM_TOL, `${spec.name}: intersection`);
      expectClose(result.grad!, want.grad, gradTolerance(want.grad), `${spec.name}: grad`);
      jobs.push({ name: spec.name, loss, options: spec.options, pred, target, alone: bitsOf(result) });
    }
    const first = jobs[0];
    const other = makeData(first.options, true, 6);
    jobs.push({
      name: 'first loss object, other data',
      loss: first.loss,
      options: first.options,
      ...other,
      alone: bitsOf(await first.loss.compute(other.pred, other.target, { grad: true })),
    });
  });
});
afterAll(() => {
  for (const buffer of owned) buffer.destroy();
});

/** Caller buffers for one encoded run of `job`: its inputs and a fresh set of outputs. */
function encodeBuffers(job: Job) {
  const buffers = {
    pred: createBufferFrom(gpu.device, job.pred, STORAGE_IO(), `${job.name} pred`),
    target: createBufferFrom(gpu.device, job.target, STORAGE_IO(), `${job.name} target`),
    loss: gpu.device.createBuffer({ label: `${job.name} loss`, size: 16, usage: STORAGE_IO() }),
    stats: gpu.device.createBuffer({ label: `${job.name} stats`, size: job.loss.groupCount * 16, usage: STORAGE_IO() }),
    grad: gpu.device.createBuffer({ label: `${job.name} grad`, size: job.loss.elementCount * 4, usage: STORAGE_IO() }),
  };
  owned.push(...Object.values(buffers));
  return buffers;
}

async function readBits(buffers: ReturnType<typeof encodeBuffers>): Promise<Bits> {
  return {
    loss: new Float32Array(await readBuffer(gpu.device, buffers.loss, 4))[0],
    stats: new Uint32Array(await readBuffer(gpu.device, buffers.stats)),
    grad: new Uint32Array(await readBuffer(gpu.device, buffers.grad)),
  };
}

/** A fixed shuffle of `count` runs over the jobs, each job at least twice. */
function schedule(count: number, seed: number): Job[] {
  const random = mulberry32(seed);
  const order = Array.from({ length: count }, (_, i) => jobs[i % jobs.length]);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

describe('several losses and engines on one device', () => {
  it('interleaved in one command encoder: each as alone', async () => {
    await withValidation(gpu.device, async () => {
      const runs = schedule(jobs.length * 3, 11).map((job) => ({ job, buffers: encodeBuffers(job) }));
      const encoder = gpu.device.createCommandEncoder({ label: 'all losses' });
      for (const { job, buffers } of runs) job.loss.encode(encoder, buffers);
      gpu.device.queue.submit([encoder.finish()]);
      for (const { job, buffers } of runs) expectSame(await readBits(buffers), job, 'one encoder');
    });
  });

  it('across submits, with no wait between them: each as alone', async () => {
    await withValidation(gpu.device, async () => {
      const runs = schedule(jobs.length * 3, 12).map((job) => ({ job, buffers: encodeBuffers(job) }));
      for (let start = 0; start < runs.length; start += 4) {
        const encoder = gpu.device.createCommandEncoder({ label: `submit ${start / 4}` });
        for (const { job, buffers } of runs.slice(start, start + 4)) job.loss.encode(encoder, buffers);
        gpu.device.queue.submit([encoder.finish()]);
      }
      for (const { job, buffers } of runs) expectSame(await readBits(buffers), job, 'separate submits');
    });
  });

  it('several command buffers in one submit: each as alone', async () => {
    await withValidation(gpu.device, async () => {
      const runs = schedule(jobs.length * 2, 13).map((job) => ({ job, buffers: encodeBuffers(job) }));
      const commands = runs.map(({ job, buffers }) => {
        const encoder = gpu.device.createCommandEncoder();
        job.loss.encode(encoder, buffers);
        return encoder.finish();
      });
      gpu.device.queue.submit(commands);
      for (const { job, buffers } of runs) expectSame(await readBits(buffers), job, 'one submit, many command buffers');
    });
  });

  it('overlapping compute() calls on every loss (and several on one loss): each as alone', async () => {
    await withValidation(gpu.device, async () => {
      const runs = schedule(jobs.length * 4, 14);
      const results = await Promise.all(runs.map((job) => job.loss.compute(job.pred, job.target, { grad: true })));
      results.forEach((result, i) => expectSame(bitsOf(result), runs[i], `concurrent compute() #${i}`));
    });
  });

  it('compute() calls in flight while other losses are encoded and submitted: each as alone', async () => {
    await withValidation(gpu.device, async () => {
      const computed = schedule(jobs.length * 2, 15);
      const pending = computed.map((job) => job.loss.compute(job.pred, job.target, { grad: true }));
      const encoded = schedule(jobs.length * 2, 16).map((job) => ({ job, buffers: encodeBuffers(job) }));
      for (const { job, buffers } of encoded) {
        const encoder = gpu.device.createCommandEncoder();
        job.loss.encode(encoder, buffers);
        gpu.device.queue.submit([encoder.finish()]);
        await Promise.resolve(); // let compute() calls advance between submits
      }
      const results = await Promise.all(pending);
      results.forEach((result, i) => expectSame(bitsOf(result), computed[i], `compute() #${i} during encodes`));
      for (const { job, buffers } of encoded) expectSame(await readBits(buffers), job, 'encoded during compute()');
    });
  });
});
