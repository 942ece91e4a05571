// wgsl-dice/tfjs: the seed's three losses and tfjsLoss as TensorFlow.js ops on the webgpu
// backend (lavapipe), value and gradient through tf.valueAndGrad, against the float64
// references and against the seed's formulas written in plain tfjs ops (bench/tfjs-baseline.ts,
// line for line as the seed). Every case runs inside withValidation: any WebGPU error fails it.
//
// Tolerances (|a - e| <= atol + rtol |e|): against float64, those of test/tolerance.ts (loss
// atol 1e-6 rtol 1e-5; gradient atol 1e-5 max|e|, rtol 1e-5), and for family losses the central
// differences' 1e-4 as in test/family.test.ts. Against plain tfjs (f32 too, other summation
// order): loss atol 1e-6 rtol 1e-5, gradient atol 1e-5 max|e| rtol 1e-4.
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { seedTfjsLosses } from '../bench/tfjs-baseline.js';
import { WgslDiceError, type LossOptions } from '../src/index.js';
import { diceReference, familyReference, familyReferenceGradient } from '../src/reference/index.js';
import {
  diceLoss,
  MAX_SHAPES_PER_DEVICE,
  multiclassDiceLoss,
  tfjsLoss,
  weightedDiceLoss,
  type ClassicDiceLossOptions,
  type TfjsLossOptions,
  type WarmUpProgress,
} from '../src/tfjs/index.js';
import { useTfjsWebGPU } from '../src/node/index.js';
import { ensureBuilt } from './browser/dist.js';
import { expectClose, withValidation } from './helpers/gpu.js';
import { oneHot, seeded, seededLabels, tf, tfjsOnWebGPU } from './helpers/tfjs.js';
import { gradTolerance, LOSS_TOL } from './tolerance.js';

let device: GPUDevice;
beforeAll(async () => {
  device = await tfjsOnWebGPU();
});

const SHAPE = [2, 16, 12, 3];
const [B, H, W, C] = SHAPE;
const VOXELS = B * H * W;
const WEIGHTS = [0.2, 0.3, 0.5];
const VS_TFJS_GRAD = (expected: ArrayLike<number>) => ({ atol: gradTolerance(expected).atol, rtol: 1e-4 });

const SEED_CASES = [
  { name: 'diceLoss', make: () => diceLoss(), reference: { reduce: 'global' as const }, tfjs: seedTfjsLosses.global },
  {
    name: 'weightedDiceLoss',
    make: () => weightedDiceLoss(WEIGHTS),
    reference: { reduce: 'per-class' as const, weights: WEIGHTS },
    tfjs: (t: typeof tf, yTrue: tf.Tensor, yPred: tf.Tensor) => seedTfjsLosses.weighted(t, yTrue, yPred, WEIGHTS),
  },
  {
    name: 'multiclassDiceLoss',
    make: () => multiclassDiceLoss(),
    reference: { reduce: 'per-class' as const },
    tfjs: seedTfjsLosses.multiclass,
  },
];

/** Runs `fn` and checks that it threw a WgslDiceError with `code` and a message matching `text`. */
function expectCode(fn: () => unknown, code: string, text: RegExp): void {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, String(text)).toBeInstanceOf(WgslDiceError);
  expect((thrown as WgslDiceError).code).toBe(code);
  expect((thrown as WgslDiceError).message).toMatch(text);
}

/** Softmax probabilities computed by tfjs on the GPU (still pending in tfjs's encoder) and one-hot targets. */
function seedInputs(seed: number) {
  const logits = tf.tensor(seeded(seed, VOXELS * C, -3, 3), SHAPE);
  const yPred = tf.softmax(logits);
  const target = oneHot(seededLabels(seed + 1, VOXELS, C), C);
  return { logits, yPred, yTrue: tf.tensor(target, SHAPE), target };
}

async function valueAndGrad(
  loss: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Scalar,
  yTrue: tf.Tensor,
  yPred: tf.Tensor,
) {
  const { value, grad } = tf.valueAndGrad((p: tf.Tensor) => loss(yTrue, p))(yPred);
  const result = { value: (await value.data())[0], grad: await grad.data() };
  tf.dispose([value, grad]);
  return result;
}

describe('the seed losses through tf.valueAndGrad', () => {
  it.each(SEED_CASES)('$name: value and dL/dpred equal the float64 reference and the seed in tfjs ops', async (c) => {
    await withValidation(device, async () => {
      const loss = c.make();
      await loss.prepare(SHAPE);
      const { logits, yPred, yTrue, target } = seedInputs(1);
      const got = await valueAndGrad(loss, yTrue, yPred);
      expect(loss.calls).toEqual({ gpu: 1, tfjsOps: 0 });

      const want = diceReference(await yPred.data(), target, { shape: SHAPE, ...c.reference });
      expectClose([got.value], [want.loss], LOSS_TOL, 'loss vs float64');
      expectClose(got.grad, want.grad, gradTolerance(want.grad), 'dL/dpred vs float64');

      const plain = await valueAndGrad((t, p) => c.tfjs(tf, t, p), yTrue, yPred);
      expectClose([got.value], [plain.value], LOSS_TOL, 'loss vs tfjs ops');
      expectClose(got.grad, plain.grad, VS_TFJS_GRAD(plain.grad), 'dL/dpred vs tfjs ops');
      tf.dispose([logits, yPred, yTrue]);
      loss.dispose();
    });
  });

  it.each(SEED_CASES)(
    '$name: tfjs carries the chain rule on (dy scaling, softmax backward) as with the tfjs-ops loss',
    async (c) => {
      await withValidation(device, async () => {
        const loss = c.make();
        await loss.prepare(SHAPE);
        const { logits, yPred, yTrue } = seedInputs(2);
        // 3·loss(softmax(logits)): dy = 3 reaches the wgsl-dice gradient, then tfjs's softmax backward.
        const chained = (fn: (t: tf.Tensor, p: tf.Tensor) => tf.Scalar) => (z: tf.Tensor) =>
          tf.mul(3, fn(yTrue, tf.softmax(z))) as tf.Scalar;
        const got = await valueAndGrad((_, z) => chained(loss)(z), yTrue, logits);
        const plain = await valueAndGrad((_, z) => chained((t, p) => c.tfjs(tf, t, p))(z), yTrue, logits);
        expectClose([got.value], [plain.value], LOSS_TOL, '3·loss vs tfjs ops');
        expectClose(got.grad, plain.grad, VS_TFJS_GRAD(plain.grad), 'dL/dlogits vs tfjs ops');
        tf.dispose([logits, yPred, yTrue]);
        loss.dispose();
      });
    },
  );

  // The gradient function scales the call's saved coefficients by dy. Two calls of one loss in
  // one tape, each with its own target, dy and prediction, show that each backward pass reads
  // its own call's coefficients (the loss's scratch holds only the last forward's).
  it.each([[[1, 5, 5, 3]], [[2, 4, 4, 3]]])(
    'dy scales the gradient, and two calls in one tape keep their own coefficients, at shape %j',
    async (shape) => {
      await withValidation(device, async () => {
        const c = SEED_CASES[0];
        const loss = c.make();
        await loss.prepare(shape);
        const logits = tf.randomUniform(shape, -3, 3, 'float32', 11);
        const first = tf.tidy(() => tf.randomUniform(shape, 0, 1, 'float32', 12).greater(0.5).toFloat());
        const second = tf.tidy(() => tf.randomUniform(shape, 0, 1, 'float32', 13).greater(0.3).toFloat());
        const twice = (fn: (t: tf.Tensor, p: tf.Tensor) => tf.Scalar) => (_: tf.Tensor, z: tf.Tensor) =>
          tf.add(
            tf.mul(-2.5, fn(first, tf.sigmoid(z))),
            tf.mul(0.75, fn(second, tf.sigmoid(tf.mul(2, z)))),
          ) as tf.Scalar;
        const got = await valueAndGrad(twice(loss), first, logits);
        const plain = await valueAndGrad(
          twice((t, p) => c.tfjs(tf, t, p)),
          first,
          logits,
        );
        expect(loss.calls).toEqual({ gpu: 2, tfjsOps: 0 });
        expectClose([got.value], [plain.value], LOSS_TOL, '-2.5·L(t1, σ(z)) + 0.75·L(t2, σ(2z)) vs tfjs ops');
        expectClose(got.grad, plain.grad, VS_TFJS_GRAD(plain.grad), 'its dL/dlogits vs tfjs ops');
        tf.dispose([logits, first, second]);
        loss.dispose();
      });
    },
  );

  it('a shape not prepared yet is computed once with the same formula in tfjs ops while it compiles', async () => {
    await withValidation(device, async () => {
      const loss = multiclassDiceLoss();
      const { logits, yPred, yTrue, target } = seedInputs(3);
      const first = await valueAndGrad(loss, yTrue, yPred);
      expect(loss.calls).toEqual({ gpu: 0, tfjsOps: 1 });
      await loss.prepare(SHAPE);
      const second = await valueAndGrad(loss, yTrue, yPred);
      expect(loss.calls).toEqual({ gpu: 1, tfjsOps: 1 });
      const want = diceReference(await yPred.data(), target, { shape: SHAPE, reduce: 'per-class' });
      expectClose([first.value, second.value], [want.loss, want.loss], LOSS_TOL, 'loss, tfjs ops then GPU');
      expectClose(first.grad, want.grad, gradTolerance(want.grad), 'dL/dpred of the tfjs-ops call');
      tf.dispose([logits, yPred, yTrue]);
      loss.dispose();
    });
  });
});

describe('targets given as int32', () => {
  it("int32 one-hot targets and tf.cast(int32 -> float32) targets (and predictions) give the float tensors' loss and gradient", async () => {
    await withValidation(device, async () => {
      const loss = weightedDiceLoss(WEIGHTS);
      await loss.prepare(SHAPE);
      const { logits, yPred, yTrue, target } = seedInputs(4);
      const ints = tf.tensor(Int32Array.from(target), SHAPE, 'int32');
      // The cast trap: on the webgpu backend this "float32" tensor's buffer holds int32 bits.
      const castInts = tf.cast(ints, 'float32');
      const want = diceReference(await yPred.data(), target, { shape: SHAPE, reduce: 'per-class', weights: WEIGHTS });
      for (const [what, y] of [
        ['int32', ints],
        ['tf.cast of int32', castInts],
      ] as const) {
        const got = await valueAndGrad(loss, y, yPred);
        expectClose([got.value], [want.loss], LOSS_TOL, `loss with ${what} targets`);
        expectClose(got.grad, want.grad, gradTolerance(want.grad), `dL/dpred with ${what} targets`);
      }
      // Predictions cast from int32 too (the targets themselves, a perfect 0/1 prediction: loss
      // near 0, where unconverted int32 bytes would read as ~0 and give a loss near Σw).
      const perfect = diceReference(target, target, { shape: SHAPE, reduce: 'per-class', weights: WEIGHTS });
      const castPred = tf.cast(ints, 'float32'); // another tensor (the same int32 bytes)
      const gotCast = await valueAndGrad(loss, castInts, castPred);
      expectClose([gotCast.value], [perfect.loss], LOSS_TOL, 'loss with cast int32 predictions');
      expectClose(gotCast.grad, perfect.grad, gradTolerance(perfect.grad), 'dL/dpred with cast int32 predictions');
      tf.dispose([logits, yPred, yTrue, ints, castInts, castPred]);
      loss.dispose();
    });
  });
});

/** tfjsLoss cases: logits in, label maps as int32 or float, ignoreIndex, a mask. */
const FAMILY_SHAPE = [2, 6, 5, 3];
const FAMILY_VOXELS = 2 * 6 * 5;
const FAMILY_CASES: {
  name: string;
  options: TfjsLossOptions;
  labels: 'int32' | 'float32' | 'dense';
  mask?: boolean;
}[] = [
  { name: 'softmax, int32 label map', options: { activation: 'softmax', target: 'label-map' }, labels: 'int32' },
  // 'u32' is the core's name of the same thing (one label per 32-bit word).
  {
    name: "softmax, int32 label map as target 'u32'",
    options: { activation: 'softmax', target: 'u32' },
    labels: 'int32',
  },
  {
    name: 'softmax, float label map [B, H, W, 1], ignoreIndex 2',
    options: { activation: 'softmax', target: 'label-map', ignoreIndex: 2 },
    labels: 'float32',
  },
  {
    name: 'sigmoid, dense targets, weight mask',
    options: { activation: 'sigmoid', mask: 'weight' },
    labels: 'dense',
    mask: true,
  },
  {
    name: 'softmax, int32 labels, Dice + cross-entropy, batch Dice',
    options: { activation: 'softmax', target: 'label-map', batch: true, crossEntropy: {} },
    labels: 'int32',
  },
];

describe('tfjsLoss: engine.loss configurations as tfjs losses', () => {
  it.each(FAMILY_CASES)('$name: value and dL/dlogits equal the float64 reference', async (c) => {
    await withValidation(device, async () => {
      const loss = tfjsLoss(c.options);
      await loss.prepare(FAMILY_SHAPE);
      const logitValues = seeded(10, FAMILY_VOXELS * 3, -3, 3);
      const labels = seededLabels(11, FAMILY_VOXELS, 3);
      const maskValues = c.mask ? seeded(12, FAMILY_VOXELS) : undefined;
      const logits = tf.tensor(logitValues, FAMILY_SHAPE);
      const yTrue =
        c.labels === 'int32'
          ? tf.tensor(labels, [2, 6, 5], 'int32')
          : c.labels === 'float32'
            ? tf.tensor(Float32Array.from(labels), [2, 6, 5, 1])
            : tf.tensor(oneHot(labels, 3), FAMILY_SHAPE);
      const mask = maskValues ? tf.tensor(maskValues, [2, 6, 5]) : undefined;
      const { value, grad } = tf.valueAndGrad((z: tf.Tensor) => loss(yTrue, z, mask))(logits);
      const options: LossOptions = {
        ...c.options,
        shape: FAMILY_SHAPE,
        target: c.labels === 'dense' ? 'dense' : 'u32',
      };
      const target = c.labels === 'dense' ? oneHot(labels, 3) : labels;
      const want = familyReference(logitValues, target, options, maskValues);
      expectClose([(await value.data())[0]], [want.loss], LOSS_TOL, 'loss vs float64');
      const fd = familyReferenceGradient(logitValues, target, options, maskValues);
      const max = fd.reduce((m, g) => Math.max(m, Math.abs(g)), 0);
      expectClose(await grad.data(), fd, { atol: 1e-4 * max + 1e-7, rtol: 1e-4 }, 'dL/dlogits vs central differences');
      tf.dispose([logits, yTrue, value, grad, ...(mask ? [mask] : [])]);
      loss.dispose();
    });
  });
});

describe('tfjsLoss: two calls in one tape', () => {
  it("softmax + int32 label map: each backward pass uses its own call's coefficients and dy", async () => {
    await withValidation(device, async () => {
      const options: TfjsLossOptions = { activation: 'softmax', target: 'label-map', crossEntropy: {} };
      const loss = tfjsLoss(options);
      await loss.prepare(FAMILY_SHAPE);
      const logitValues = seeded(20, FAMILY_VOXELS * 3, -3, 3);
      const labels = [seededLabels(21, FAMILY_VOXELS, 3), seededLabels(22, FAMILY_VOXELS, 3)];
      const logits = tf.tensor(logitValues, FAMILY_SHAPE);
      const [first, second] = labels.map((l) => tf.tensor(l, [2, 6, 5], 'int32'));
      // L(t1, z) · 1.5 − L(t2, 0.5 z): the second call's logits are a function of z too.
      const { value, grad } = tf.valueAndGrad(
        (z: tf.Tensor) => tf.sub(tf.mul(1.5, loss(first, z)), loss(second, tf.mul(0.5, z))) as tf.Scalar,
      )(logits);
      const full: LossOptions = { ...options, shape: FAMILY_SHAPE, target: 'u32' };
      const halved = logitValues.map((z) => 0.5 * z);
      const want =
        1.5 * familyReference(logitValues, labels[0], full).loss - familyReference(halved, labels[1], full).loss;
      const g1 = familyReferenceGradient(logitValues, labels[0], full);
      const g2 = familyReferenceGradient(halved, labels[1], full);
      const wantGrad = g1.map((g, i) => 1.5 * g - 0.5 * g2[i]);
      const max = wantGrad.reduce((m, g) => Math.max(m, Math.abs(g)), 0);
      expect(loss.calls).toEqual({ gpu: 2, tfjsOps: 0 });
      expectClose([(await value.data())[0]], [want], LOSS_TOL, 'loss vs float64');
      expectClose(
        await grad.data(),
        wantGrad,
        { atol: 1e-4 * max + 1e-7, rtol: 1e-4 },
        'dL/dlogits vs central differences',
      );
      tf.dispose([logits, first, second, value, grad]);
      loss.dispose();
    });
  });
});

describe('the compiled-loss cache', () => {
  const shapeOf = (k: number) => [1, 4, 4 + k, 2];

  it(`prepared shapes are never evicted: ${MAX_SHAPES_PER_DEVICE + 2} prepared, 27 calls in rotation over 9 all run on the GPU`, async () => {
    await withValidation(device, async () => {
      const loss = tfjsLoss({ activation: 'sigmoid' });
      const count = MAX_SHAPES_PER_DEVICE + 2;
      for (let k = 0; k < count; k++) await loss.prepare(shapeOf(k));
      expect(loss.cache).toEqual({ shapes: count, prepared: count, evictions: 0 });
      const inputs = Array.from({ length: 9 }, (_, k) => tf.zeros(shapeOf(k)));
      for (let round = 0; round < 3; round++) {
        for (const y of inputs) {
          const value = loss(y, y);
          expect(Number.isFinite((await value.data())[0])).toBe(true);
          value.dispose();
        }
      }
      expect(loss.calls).toEqual({ gpu: 27, tfjsOps: 0 });
      expect(loss.cache.evictions).toBe(0);
      tf.dispose(inputs);
      loss.dispose();
    });
  });

  it(`keeps ${MAX_SHAPES_PER_DEVICE} unprepared shapes: the least recently used is dropped, counted, and named as dropped when met again`, async () => {
    await withValidation(device, async () => {
      const loss = tfjsLoss({ activation: 'sigmoid' });
      const inputs = Array.from({ length: MAX_SHAPES_PER_DEVICE + 2 }, (_, k) => tf.zeros(shapeOf(k)));
      for (const y of inputs) expect(() => loss(y, y)).toThrow(expect.objectContaining({ code: 'LOSS_NOT_READY' }));
      expect(loss.cache).toEqual({ shapes: MAX_SHAPES_PER_DEVICE, prepared: 0, evictions: 2 });
      // Shape 0 was dropped: the message says so and how to keep it.
      expect(() => loss(inputs[0], inputs[0])).toThrow(
        /compiled predictions of shape \[1, 4, 4, 2\] before, but dropped them.*await loss\.prepare/,
      );
      await loss.prepare(shapeOf(0));
      const value = loss(inputs[0], inputs[0]);
      expect(Number.isFinite((await value.data())[0])).toBe(true);
      tf.dispose([...inputs, value]);
      loss.dispose();
    });
  });
});

describe('options are checked at creation and at each new shape, before any tfjs op', () => {
  it('at creation: bad epsilon, NaN weights, misspelt options (did you mean), an unknown formula, clDice, a core target kind', () => {
    expectCode(() => diceLoss({ epsilon: -1 }), 'INVALID_OPTION', /epsilon must be a finite number >= 0, got -1/);
    expectCode(() => diceLoss({ epsilon: 'abc' as unknown as number }), 'INVALID_OPTION', /epsilon.*"abc"/);
    expectCode(
      () => multiclassDiceLoss({ epsilom: 1e-5 } as ClassicDiceLossOptions),
      'UNKNOWN_OPTION',
      /"epsilom".*Did you mean "epsilon"/,
    );
    expectCode(() => weightedDiceLoss([0.5, Number.NaN, 1]), 'INVALID_WEIGHTS', /weights\[1\].*NaN/);
    expectCode(() => weightedDiceLoss([]), 'INVALID_WEIGHTS', /no weights/);
    expectCode(
      () => tfjsLoss({ activaton: 'softmax' } as TfjsLossOptions),
      'UNKNOWN_OPTION',
      /"activaton".*Did you mean "activation"/,
    );
    expectCode(() => tfjsLoss({ formula: 'dicee' as 'dice' }), 'INVALID_OPTION', /formula/);
    expectCode(() => tfjsLoss({ weights: [1, -2] }), 'INVALID_WEIGHTS', /weights\[1\]/);
    // clDice: what the user passed, not an option they never gave ("target").
    let clDice: unknown;
    try {
      tfjsLoss({ formula: 'cl-dice' } as unknown as TfjsLossOptions);
    } catch (error) {
      clDice = error;
    }
    expect(clDice).toMatchObject({ code: 'NOT_SUPPORTED', message: expect.stringContaining("formula: 'cl-dice'") });
    expect((clDice as Error).message).not.toMatch(/target/);
    expectCode(() => tfjsLoss({ target: 'u8' as 'label-map' }), 'INVALID_OPTION', /"u8".*target: 'label-map'/);
    // The distance-field terms: their gradient needs the call's fields.
    expectCode(() => tfjsLoss({ boundary: { lambda: 0.1 } }), 'NOT_SUPPORTED', /boundary/);
    expectCode(
      () => tfjsLoss({ formula: 'hausdorff-dt' } as unknown as TfjsLossOptions),
      'NOT_SUPPORTED',
      /hausdorff-dt/,
    );
  });

  it('at a call: rank-1 and empty predictions, weights for another C, a mask of the right size but the wrong shape, disposed tensors', async () => {
    await withValidation(device, () => {
      const seed = multiclassDiceLoss();
      const flat = tf.zeros([6]);
      expectCode(() => seed(flat, flat), 'INVALID_SHAPE', /yPred has shape \[6\] \(rank 1\)/);
      const empty = tf.zeros([0, 4, 4, 3]);
      expectCode(() => seed(empty, empty), 'INVALID_SHAPE', /\[0, 4, 4, 3\], with no elements.*empty batch/);
      expect(seed.calls).toEqual({ gpu: 0, tfjsOps: 0 }); // no tfjs-ops fallback ran
      const yPred = tf.zeros(FAMILY_SHAPE);
      const weighted = tfjsLoss({ weights: [1, 2] });
      expectCode(() => weighted(yPred, yPred), 'INVALID_WEIGHTS', /2 entries but there are C = 3 classes/);
      const masked = tfjsLoss({ mask: 'weight' });
      const transposed = tf.ones([2, 5, 6]); // [B, W, H]: 60 values like [B, H, W]
      expectCode(
        () => masked(yPred, yPred, transposed),
        'SHAPE_MISMATCH',
        /the mask has shape \[2, 5, 6\].*\[2, 6, 5\]/,
      );
      const gone = tf.zeros(FAMILY_SHAPE);
      gone.dispose();
      expectCode(() => seed(yPred, gone), 'INVALID_INPUT', /yPred \(shape \[2, 6, 5, 3\]\) was disposed/);
      expectCode(() => seed(gone, yPred), 'INVALID_INPUT', /yTrue .*was disposed/);
      expect(seed.calls).toEqual({ gpu: 0, tfjsOps: 0 });
      tf.dispose([flat, empty, yPred, transposed]);
    });
  });

  it('prepare() and prepare(null) reject with INVALID_SHAPE saying what to pass', async () => {
    const loss = diceLoss();
    for (const bad of [undefined, null, [2, 0, 3], 'x']) {
      await expect(loss.prepare(bad as unknown as number[])).rejects.toMatchObject({
        code: 'INVALID_SHAPE',
        message: expect.stringMatching(/prepare\(predShape\)|no elements/),
      });
    }
  });
});

describe('input faults only the GPU sees', () => {
  const labelLoss = tfjsLoss({ activation: 'softmax', target: 'label-map' });
  const logits = () => tf.tensor(seeded(30, FAMILY_VOXELS * 3, -3, 3), FAMILY_SHAPE);

  it.each([
    ['float32', Number.NaN],
    ['float32', 2.7],
    ['float32', -1],
    ['float32', 3],
    ['int32', -1],
    ['int32', 3],
  ] as const)(
    'a %s label map holding %s: the value is NaN and checkInputs() rejects with LABEL_OUT_OF_RANGE at that voxel',
    async (dtype, bad) => {
      await withValidation(device, async () => {
        await labelLoss.prepare(FAMILY_SHAPE);
        const labels = Float32Array.from(seededLabels(31, FAMILY_VOXELS, 3));
        labels[7] = bad;
        const yTrue =
          dtype === 'int32' ? tf.tensor(Int32Array.from(labels), [2, 6, 5], 'int32') : tf.tensor(labels, [2, 6, 5, 1]);
        const z = logits();
        const value = labelLoss(yTrue, z);
        expect((await value.data())[0]).toBeNaN();
        await expect(labelLoss.checkInputs()).rejects.toMatchObject({
          code: 'LABEL_OUT_OF_RANGE',
          message: expect.stringMatching(/1 label-map voxel\(s\).*\[0, 3\).*first at voxel 7/),
        });
        tf.dispose([yTrue, z, value]);
      });
    },
  );

  it('an unchecked fault is thrown by the next call once it is known; good calls stay finite', async () => {
    await withValidation(device, async () => {
      await labelLoss.prepare(FAMILY_SHAPE);
      const good = tf.tensor(seededLabels(32, FAMILY_VOXELS, 3), [2, 6, 5], 'int32');
      const bad = tf.tensor(
        Int32Array.from(seededLabels(32, FAMILY_VOXELS, 3), (l, v) => (v === 3 ? 9 : l)),
        [2, 6, 5],
        'int32',
      );
      const z = logits();
      const fine = labelLoss(good, z);
      expect(Number.isFinite((await fine.data())[0])).toBe(true);
      await labelLoss.checkInputs();
      tf.dispose([fine, labelLoss(bad, z)]);
      let thrown: unknown;
      await vi.waitFor(
        () => {
          try {
            tf.dispose(labelLoss(good, z));
          } catch (error) {
            thrown = error;
            return;
          }
          throw new Error('the fault has not come back yet');
        },
        { timeout: 10_000, interval: 10 },
      );
      expect(thrown).toMatchObject({ code: 'LABEL_OUT_OF_RANGE', message: expect.stringMatching(/first at voxel 3/) });
      await labelLoss.checkInputs();
      tf.dispose([good, bad, z]);
    });
  });

  it('NaN logits with a sigmoid loss: NaN (not -Infinity), and NON_FINITE_INPUT naming the element', async () => {
    await withValidation(device, async () => {
      const loss = tfjsLoss({ activation: 'sigmoid' });
      await loss.prepare(FAMILY_SHAPE);
      const values = seeded(33, FAMILY_VOXELS * 3, -3, 3);
      values[11] = Number.NaN;
      const z = tf.tensor(values, FAMILY_SHAPE);
      const y = tf.tensor(oneHot(seededLabels(34, FAMILY_VOXELS, 3), 3), FAMILY_SHAPE);
      const value = loss(y, z);
      expect((await value.data())[0]).toBeNaN();
      await expect(loss.checkInputs()).rejects.toMatchObject({
        code: 'NON_FINITE_INPUT',
        message: expect.stringMatching(/1 yPred element\(s\) \(first at element 11\)/),
      });
      tf.dispose([z, y, value]);
      loss.dispose();
    });
  });
});

describe('warmUp', () => {
  it('runs every prepared shape once, forward and backward, reporting progress, without counting calls', async () => {
    await withValidation(device, async () => {
      const loss = tfjsLoss({ activation: 'softmax', target: 'label-map', mask: 'weight' });
      await expect(loss.warmUp()).rejects.toMatchObject({
        code: 'LOSS_NOT_READY',
        message: expect.stringMatching(/prepare\(predShape\) first/),
      });
      await loss.prepare([1, 4, 4, 3]);
      await loss.prepare([2, 3, 5, 3]);
      const events: WarmUpProgress[] = [];
      await loss.warmUp((event) => events.push(event));
      expect(events.map(({ done, total, shape }) => ({ done, total, shape }))).toEqual([
        { done: 1, total: 2, shape: [1, 4, 4, 3] },
        { done: 2, total: 2, shape: [2, 3, 5, 3] },
      ]);
      expect(events.every((e) => e.ms >= 0)).toBe(true);
      expect(loss.calls).toEqual({ gpu: 0, tfjsOps: 0 });
      await loss.checkInputs(); // zero inputs are valid input
      loss.dispose();
    });
  });
});

describe('useTfjsWebGPU', () => {
  it('a second call with @tensorflow/tfjs-core (and from a second copy of wgsl-dice/node) reuses the device; GPU tensors survive', async () => {
    const kept = tf.tidy(() => tf.mul(tf.tensor([1, 2, 3, 4]), 2));
    const tfjsCore = await import('@tensorflow/tfjs-core');
    expect(await useTfjsWebGPU(tfjsCore)).toBe(device);
    const [distNode] = await ensureBuilt(['dist/node.js']);
    const copy = (await import(pathToFileURL(distNode).href)) as typeof import('../src/node/index.js');
    expect(await copy.useTfjsWebGPU(tf)).toBe(device);
    expect(tf.getBackend()).toBe('webgpu');
    expect(Array.from(await kept.data())).toEqual([2, 4, 6, 8]);
    kept.dispose();
  });

  it('something that is not the TensorFlow.js module is a typed error saying what to pass and install', async () => {
    await expect(useTfjsWebGPU(undefined as never)).rejects.toMatchObject({
      code: 'WEBGPU_UNAVAILABLE',
      message: expect.stringMatching(
        /import \* as tf from '@tensorflow\/tfjs'.*npm install @tensorflow\/tfjs @tensorflow\/tfjs-backend-webgpu/s,
      ),
    });
  });
});

describe('typed errors', () => {
  it('WRONG_BACKEND when tfjs runs on another backend, saying how to select webgpu', async () => {
    const loss = diceLoss();
    await tf.setBackend('cpu');
    try {
      const y = tf.ones(SHAPE);
      expectCode(() => loss(y, y), 'WRONG_BACKEND', /"cpu".*setBackend\('webgpu'\).*useTfjsWebGPU/s);
      y.dispose();
    } finally {
      await tf.setBackend('webgpu');
    }
    expect(tf.getBackend()).toBe('webgpu');
  });

  it('SHAPE_MISMATCH for targets of another shape, INVALID_WEIGHTS for weights of another class count', async () => {
    await withValidation(device, () => {
      const yPred = tf.ones(SHAPE);
      const other = tf.ones([2, 16, 12, 4]);
      expectCode(() => diceLoss()(other, yPred), 'SHAPE_MISMATCH', /\[2, 16, 12, 4\].*\[2, 16, 12, 3\]/);
      expectCode(() => weightedDiceLoss([1, 2])(yPred, yPred), 'INVALID_WEIGHTS', /2 weights.*C = 3/);
      expectCode(
        () => tfjsLoss({ target: 'label-map' })(tf.ones([2, 16, 11], 'int32'), yPred),
        'SHAPE_MISMATCH',
        /\[2, 16, 12\]/,
      );
      expectCode(() => tfjsLoss({ mask: 'weight' })(yPred, yPred), 'INVALID_INPUT', /third argument/);
      tf.dispose([yPred, other]);
    });
  });

  it('LOSS_NOT_READY from tfjsLoss at a shape not prepared, naming the call that fixes it', async () => {
    await withValidation(device, async () => {
      const loss = tfjsLoss({ activation: 'softmax' });
      const y = tf.ones([1, 4, 4, 2]);
      expectCode(() => loss(y, y), 'LOSS_NOT_READY', /await loss\.prepare\(\[1, 4, 4, 2\]\)/);
      await loss.prepare([1, 4, 4, 2]);
      const value = loss(y, y);
      expect(Number.isFinite((await value.data())[0])).toBe(true);
      tf.dispose([y, value]);
      loss.dispose();
    });
  });

  it('the targets get no gradient: asking tfjs for one fails loudly instead of returning zeros', async () => {
    await withValidation(device, async () => {
      const loss = diceLoss();
      await loss.prepare(SHAPE);
      const { logits, yPred, yTrue } = seedInputs(5);
      expect(() => tf.grad((t: tf.Tensor) => loss(t, yPred))(yTrue)).toThrow(/shape/);
      tf.dispose([logits, yPred, yTrue]);
      loss.dispose();
    });
  });
});
