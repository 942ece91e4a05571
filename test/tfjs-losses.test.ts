// wgsl-dice/tfjs: the seed's three losses and tfjsLoss as TensorFlow.js ops on the webgpu
// backend (lavapipe), value and gradient through tf.valueAndGrad, against the float64
// references and against the seed's formulas written in plain tfjs ops (bench/tfjs-baseline.ts,
// line for line as the seed). Every case runs inside withValidation: any WebGPU error fails it.
//
// Tolerances (|a - e| <= atol + rtol |e|): against float64, those of test/tolerance.ts (loss
// atol 1e-6 rtol 1e-5; gradient atol 1e-5 max|e|, rtol 1e-5), and for family losses the central
// differences' 1e-4 as in test/family.test.ts. Against plain tfjs (f32 too, other summation
// order): loss atol 1e-6 rtol 1e-5, gradient atol 1e-5 max|e| rtol 1e-4.
import { beforeAll, describe, expect, it } from 'vitest';
import { seedTfjsLosses } from '../bench/tfjs-baseline.js';
import { WgslDiceError, type LossOptions } from '../src/index.js';
import { diceReference, familyReference, familyReferenceGradient } from '../src/reference/index.js';
import {
  diceLoss,
  MAX_SHAPES_PER_DEVICE,
  multiclassDiceLoss,
  tfjsLoss,
  weightedDiceLoss,
  type TfjsLossOptions,
} from '../src/tfjs/index.js';
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
  it(`keeps ${MAX_SHAPES_PER_DEVICE} shapes per loss and device: the least recently used is destroyed and recompiled on demand`, async () => {
    await withValidation(device, async () => {
      const loss = tfjsLoss({ activation: 'sigmoid' });
      const shapeOf = (k: number) => [1, 4, 4 + k, 2];
      for (let k = 0; k <= MAX_SHAPES_PER_DEVICE; k++) await loss.prepare(shapeOf(k));
      const evicted = tf.zeros(shapeOf(0));
      expect(() => loss(evicted, evicted)).toThrow(expect.objectContaining({ code: 'LOSS_NOT_READY' }));
      const kept = tf.zeros(shapeOf(MAX_SHAPES_PER_DEVICE));
      const value = loss(kept, kept);
      expect(Number.isFinite((await value.data())[0])).toBe(true);
      await loss.prepare(shapeOf(0)); // the evicted shape compiles again
      const again = loss(evicted, evicted);
      expect(Number.isFinite((await again.data())[0])).toBe(true);
      tf.dispose([evicted, kept, value, again]);
      loss.dispose();
    });
  });
});

describe('typed errors', () => {
  const expectCode = (fn: () => unknown, code: string, text: RegExp) => {
    let thrown: unknown;
    try {
      fn();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(WgslDiceError);
    expect((thrown as WgslDiceError).code).toBe(code);
    expect((thrown as WgslDiceError).message).toMatch(text);
  };

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

  it('an invalid option is reported by prepare() and by every later call', async () => {
    const loss = tfjsLoss({ formula: 'dicee' as 'dice' });
    await expect(loss.prepare([1, 4, 4, 2])).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    const y = tf.ones([1, 4, 4, 2]);
    expectCode(() => loss(y, y), 'INVALID_OPTION', /formula/);
    y.dispose();
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
