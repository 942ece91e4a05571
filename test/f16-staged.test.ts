// clDice, the Hausdorff-DT loss and the family with a boundary term, with f16 predictions and
// gradients (predType / gradType 'f16', device feature shader-f16; src/program/f16-convert.ts
// stages them): pred is widened to
// f32 once per call (exactly: every f16 is an f32), every pass runs in f32, and an f16 gradient
// is the f32 one rounded as it is written. So, against the f32
// loss on the same (f16-rounded) values: the loss and an f32 gradient bitwise equal; an f16
// gradient within one f16 rounding (test/tolerance.ts's F16_ROUNDING, 2^-11 relative, 2^-25
// below f16's normal range). Against the float64 reference: the clDice tolerances of
// cldice.test.ts (value 1e-6 + 1e-4|e|; gradient 1e-4 max|e| + 1e-7, widened by the f16
// rounding for an f16 gradient as f16GradTolerance derives). Binding windows too, and the
// options' checks.
import { describe, expect, it } from 'vitest';
import { DiceEngine, fromFloat16Bits, toFloat16Bits, type HausdorffDTOptions, type LossOptions } from '../src/index.js';
import type { ClDiceOptions } from '../src/spec/cldice.js';
import { clDiceReference } from '../src/reference/index.js';
import { expectValueClose, moveChannels } from './helpers/cldice-cases.js';
import { expectClose, mulberry32, withValidation } from './helpers/gpu.js';
import { useTestEngine } from './helpers/test-engine.js';
import { F16_ROUNDING, f16GradTolerance } from './tolerance.js';

const gpu = useTestEngine();
// The GPU plans (one tiled pass per level) run on any adapter.
const gpuPlans = useTestEngine({ deviceClass: 'gpu' });

interface Case {
  name: string;
  options: ClDiceOptions;
}

const cases: Case[] = [
  {
    name: '2D channels-first, f16 pred, f32 gradient',
    options: { formula: 'cl-dice', shape: [2, 3, 14, 11], layout: 'channels-first', predType: 'f16' },
  },
  {
    name: '3D channels-last, f16 pred and gradient',
    options: {
      formula: 'cl-dice',
      shape: [1, 5, 7, 9, 2],
      skeletonIterations: 2,
      alpha: 0.5,
      predType: 'f16',
      gradType: 'f16',
    },
  },
  {
    name: '2D channels-last, f32 pred, f16 gradient',
    options: { formula: 'cl-dice', shape: [2, 9, 13, 3], skeletonIterations: 4, gradType: 'f16' },
  },
];

/** Probabilities over C (softmax of random logits, some quantised so pooling ties), thin-curve targets. */
function inputs(options: ClDiceOptions, seed: number) {
  const random = mulberry32(seed);
  const n = options.shape.reduce((a, b) => a * b, 1);
  const pred = Float32Array.from({ length: n }, () => (random() < 0.3 ? Math.round(random() * 8) / 8 : random()));
  const target = Float32Array.from({ length: n }, () => (random() < 0.25 ? 1 : 0));
  return { pred, target };
}

/** The float64 reference on channels-first copies; the gradient back in the case's layout. */
function reference(options: ClDiceOptions, pred: ArrayLike<number>, target: ArrayLike<number>) {
  const channelsFirst = options.layout === 'channels-first';
  const dims = options.shape;
  const [B, C] = channelsFirst ? [dims[0], dims[1]] : [dims[0], dims[dims.length - 1]];
  const spatial = channelsFirst ? dims.slice(2) : dims.slice(1, -1);
  const S = spatial.reduce((a, b) => a * b, 1);
  const first = (x: ArrayLike<number>) => (channelsFirst ? Float64Array.from(x) : moveChannels(x, B, C, S, true));
  const r = clDiceReference(first(pred), first(target), {
    shape: [B, C, ...spatial],
    iterations: options.skeletonIterations ?? 3,
    smooth: options.smooth ?? 1,
    alpha: options.alpha ?? 1,
  });
  return { loss: r.loss, grad: channelsFirst ? r.grad : moveChannels(r.grad, B, C, S) };
}

/** clDice's gradient tolerance (cldice.test.ts), as |a - e| <= atol + rtol |e|. */
function gradTolerance(expected: ArrayLike<number>, f16: boolean) {
  let max = 0;
  for (let i = 0; i < expected.length; i++) max = Math.max(max, Math.abs(expected[i]));
  const f32 = { atol: 1e-4 * max + 1e-7, rtol: 0 };
  return f16 ? f16GradTolerance(f32) : f32;
}

async function run(engine: DiceEngine, c: Case, seed: number) {
  const { pred, target } = inputs(c.options, seed);
  const bits = toFloat16Bits(pred);
  // What the f16 path sees: the f16 values, exactly, as f32.
  const seen = c.options.predType === 'f16' ? Float32Array.from(fromFloat16Bits(bits)) : pred;
  const f16 = await engine.loss(c.options);
  const f32 = await engine.loss({ ...c.options, predType: 'f32', gradType: 'f32' });
  // The conversions are passes of the program: pred widened first, the gradient rounded last.
  const passes = f16.program.passes.map((p) => p.kernel);
  expect(passes[0] === 'f16_widen').toBe(c.options.predType === 'f16');
  expect(passes[passes.length - 1] === 'f16_narrow').toBe(c.options.gradType === 'f16');
  try {
    const given = c.options.predType === 'f16' ? bits : pred;
    const got = await f16.compute(given, target, { grad: true });
    const plain = await f32.compute(seen, target, { grad: true });
    return { got, plain, seen, target };
  } finally {
    f16.destroy();
    f32.destroy();
  }
}

describe('clDice with f16 types', () => {
  const runs = [
    ...cases.map((c, index) => ({ c, index, plans: 'software plans', engine: () => gpu.engine })),
    ...cases.map((c, index) => ({ c, index, plans: 'GPU plans', engine: () => gpuPlans.engine })),
  ];
  runs.forEach(({ c, index, plans, engine }) => {
    it(`${c.name} (${plans})`, async () => {
      await withValidation(gpu.device, async () => {
        const { got, plain, seen, target } = await run(engine(), c, 400 + index);
        // Against the f32 loss on the values the f16 path saw.
        expect(got.loss).toBe(plain.loss);
        if (c.options.gradType === 'f16') {
          const limit = { atol: 2 ** -25, rtol: F16_ROUNDING };
          expectClose(got.grad!, plain.grad!, limit, 'f16 gradient vs the f32 one');
          // Every value is an f16 value.
          expect(Array.from(fromFloat16Bits(toFloat16Bits(got.grad!)))).toEqual(Array.from(got.grad!));
        } else {
          expect(Array.from(got.grad!)).toEqual(Array.from(plain.grad!));
        }
        // Against the float64 reference.
        const e = reference(c.options, seen, target);
        expectValueClose(got.loss, e.loss, 'loss');
        expectClose(got.grad!, e.grad, gradTolerance(e.grad, c.options.gradType === 'f16'), 'gradient');
        expect(got.grad!.some((g) => g !== 0)).toBe(true);
      });
    });
  });

  it('a Float32Array pred is rounded to f16 for you; binding windows give bitwise the same results', async () => {
    const c = cases[1];
    const small = await DiceEngine.create(gpu.device, { maxBindingBytes: 4096 });
    try {
      await withValidation(gpu.device, async () => {
        // 4096-byte windows: 1024 f32 elements; the case has 630, so a larger batch.
        const options = { ...c.options, shape: [4, 5, 7, 9, 2] };
        const { pred, target } = inputs(options, 77);
        const whole = await gpu.engine.loss(options);
        const windowed = await small.loss(options);
        // 2520 elements in windows of 1024: three dispatches each way.
        const conversions = windowed.program.passes.filter((p) => p.kernel.startsWith('f16_'));
        expect(conversions.map((p) => p.dispatches.length)).toEqual([3, 3]);
        const a = await whole.compute(toFloat16Bits(pred), target, { grad: true });
        const b = await windowed.compute(pred, target, { grad: true });
        expect(b.loss).toBe(a.loss);
        expect(Array.from(b.grad!)).toEqual(Array.from(a.grad!));
        whole.destroy();
        windowed.destroy();
      });
    } finally {
      small.destroy();
    }
  });

  it('checks predType and gradType', async () => {
    const shape = [1, 4, 4, 2];
    await expect(gpu.engine.loss({ formula: 'cl-dice', shape, predType: 'f64' as never })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: /predType/,
    });
    await expect(gpu.engine.loss({ formula: 'cl-dice', shape, gradType: 'bf16' as never })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: /gradType/,
    });
  });
});

describe('the Hausdorff-DT loss and the boundary term with f16 types', () => {
  const hdt: { name: string; options: HausdorffDTOptions | LossOptions }[] = [
    {
      name: 'softmax over 3 classes, u8 labels, 2D, f16 pred and gradient',
      options: {
        formula: 'hausdorff-dt',
        shape: [2, 12, 10, 3],
        activation: 'softmax',
        target: 'u8',
        predType: 'f16',
        gradType: 'f16',
      },
    },
    {
      name: 'sigmoid, dense target, 3D channels-first, log, f16 pred',
      options: {
        formula: 'hausdorff-dt',
        shape: [1, 2, 5, 6, 7],
        layout: 'channels-first',
        activation: 'sigmoid',
        log: true,
        predType: 'f16',
      },
    },
    {
      name: 'softmax Dice + boundary term (Kervadec), u8 labels, f16 pred and gradient',
      options: {
        shape: [2, 10, 12, 3],
        activation: 'softmax',
        target: 'u8',
        boundary: { lambda: 0.5 },
        predType: 'f16',
        gradType: 'f16',
      },
    },
  ];
  hdt.forEach((c, index) => {
    it(`${c.name}: the f32 loss on the same values, its gradient within one f16 rounding`, async () => {
      await withValidation(gpu.device, async () => {
        const random = mulberry32(600 + index);
        const n = c.options.shape.reduce((a, b) => a * b, 1);
        const classes = c.options.layout === 'channels-first' ? c.options.shape[1] : c.options.shape.at(-1)!;
        const logits = Float32Array.from({ length: n }, () => 4 * random() - 2);
        const target =
          c.options.target === 'u8'
            ? Uint8Array.from({ length: n / classes }, () => Math.floor(random() * classes))
            : Float32Array.from({ length: n }, () => (random() < 0.4 ? 1 : 0));
        const bits = toFloat16Bits(logits);
        const seen = Float32Array.from(fromFloat16Bits(bits));
        // One overload per formula; the cast picks the one these options satisfy.
        const make = (o: HausdorffDTOptions | LossOptions) => gpu.engine.loss(o as HausdorffDTOptions);
        const f16 = await make(c.options);
        const f32 = await make({ ...c.options, predType: 'f32', gradType: 'f32' });
        try {
          expect(f16.program.passes[0].kernel).toBe('f16_widen');
          const got = await f16.compute(bits, target, { grad: true });
          const plain = await f32.compute(seen, target, { grad: true });
          expect(got.loss).toBe(plain.loss);
          expect(Number.isFinite(got.loss) && got.loss > 0).toBe(true);
          if (c.options.gradType === 'f16') {
            expectClose(got.grad!, plain.grad!, { atol: 2 ** -25, rtol: F16_ROUNDING }, 'f16 gradient vs the f32 one');
            expect(Array.from(fromFloat16Bits(toFloat16Bits(got.grad!)))).toEqual(Array.from(got.grad!));
          } else {
            expect(Array.from(got.grad!)).toEqual(Array.from(plain.grad!));
          }
          expect(got.grad!.some((g) => g !== 0)).toBe(true);
        } finally {
          f16.destroy();
          f32.destroy();
        }
      });
    });
  });
});
