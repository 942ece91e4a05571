// Seeded fuzz of the loss family: random shapes x layouts x activations x target dtypes x
// every option, on the GPU against the float64 reference (value) and against central
// differences of it (gradient w.r.t. probabilities or logits). 80 cases per run by default (each
// draws its own pipeline modes, and a software adapter compiles every new mode for seconds);
// WGSL_DICE_FUZZ_FAMILY=N runs N, WGSL_DICE_FUZZ_FAMILY_SEED=S replays one case. A failure
// prints its seed and options.
//
// Tolerance: loss |a - e| <= 1e-5 + 1e-4 |e| (the fuzz reaches -log of small scores, powers and
// compound terms, where f32 rounding is amplified beyond the 1e-5 of plain Dice); gradient
// |a - e| <= 1e-4 * max|e| + 1e-6 + 1e-3 |e| (central differences carry ~1e-8 of their own).
import { describe, expect, it } from 'vitest';
import { WgslDiceError, type LossOptions } from '../src/index.js';
import { familyReference, familyReferenceGradient } from '../src/reference/index.js';
import { expectClose, mulberry32, withValidation } from './helpers/gpu.js';
import { useTestEngine } from './helpers/test-engine.js';

const COUNT = Number(process.env.WGSL_DICE_FUZZ_FAMILY ?? 80);
const ONLY = process.env.WGSL_DICE_FUZZ_FAMILY_SEED;

const gpu = useTestEngine();

type Inputs = {
  pred: Float32Array;
  target: Float32Array | Uint8Array | Uint16Array | Uint32Array;
  mask?: Float32Array;
};

function randomCase(seed: number): { options: LossOptions; inputs: Inputs } {
  const random = mulberry32(seed);
  const chance = (p: number) => random() < p;
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)];
  const channelsFirst = chance(0.5);
  const B = 1 + Math.floor(random() * 3);
  const C = pick([1, 2, 3, 4, 5]);
  const spatial = Array.from({ length: 1 + Math.floor(random() * 2) }, () => 1 + Math.floor(random() * 6));
  const S = spatial.reduce((a, b) => a * b, 1);
  const shape = channelsFirst ? [B, C, ...spatial] : [B, ...spatial, C];
  const activation = pick(['none', 'sigmoid', 'softmax'] as const);
  const target = C > 1 && chance(0.5) ? pick(['u8', 'u16', 'u32'] as const) : 'dense';
  const o: LossOptions = { shape, layout: channelsFirst ? 'channels-first' : 'channels-last', activation, target };
  const ignore = target === 'u8' ? 250 : target === 'u16' ? 60000 : 7;
  if (target !== 'dense' && chance(0.4)) o.ignoreIndex = ignore;
  const mask = activation !== 'none' && chance(0.15) ? 'logits' : chance(0.2) ? 'weight' : 'none';
  if (mask !== 'none') {
    o.mask = mask;
    o.maskShape = chance(0.5) ? 'per-sample' : 'shared';
  }
  o.formula = pick(['dice', 'dice', 'jaccard', 'tversky', 'f-beta', 'generalized-dice'] as const);
  if (o.formula === 'tversky') {
    o.alpha = random();
    o.beta = random();
  }
  if (o.formula === 'f-beta') o.fBeta = 0.5 + random() * 2;
  if (o.formula === 'generalized-dice') o.gdlWeight = pick(['square', 'simple', 'uniform'] as const);
  if (o.formula !== 'generalized-dice' && chance(0.2)) o.groups = 'global';
  if (chance(0.3)) o.batch = true;
  if (C > 1 && chance(0.2)) o.includeBackground = false;
  if (C > 2 && chance(0.15)) o.classes = [1, C - 1];
  const form = random();
  if (form < 0.15) o.squared = true;
  else if (form < 0.3) o.softLabel = true;
  o.smoothNumerator = pick([0, 1e-5, 1e-3, 1]);
  o.smoothDenominator = pick([1e-5, 1e-3, 1]);
  if (chance(0.2)) o.denominatorMin = 1e-7;
  o.value = pick(['one-minus', 'one-minus', 'negative-log', 'negative'] as const);
  if (chance(0.2)) o.gamma = 0.5 + random() * 1.5;
  const perClassGroups = o.formula !== 'generalized-dice' && o.groups !== 'global';
  if (perClassGroups && chance(0.3))
    o.weights = chance(0.3) ? 'inverse-frequency' : Array.from({ length: C }, () => random() * 2);
  o.reduction = pick(['mean', 'mean', 'sum', 'weighted-mean', 'batch-mean', 'none'] as const);
  if (chance(0.2)) o.emptyClass = 'zero';
  if (activation !== 'none' && chance(0.25)) {
    o.crossEntropy = { lambda: random() * 2 };
    if (chance(0.5)) o.crossEntropy.weights = Array.from({ length: C }, () => 0.5 + random());
    if (activation === 'sigmoid' && chance(0.5)) o.crossEntropy.posWeight = 0.5 + random() * 2;
    if (activation === 'softmax' && chance(0.4)) o.crossEntropy.labelSmoothing = random() * 0.5;
  }
  if (activation !== 'none' && chance(0.15))
    o.focal = { gamma: pick([0, 1, 2]), useSoftmax: activation === 'softmax' && chance(0.5) };
  if (chance(0.1)) o.lambdaDice = random() * 2;

  const n = B * C * S;
  const logits = activation !== 'none';
  const pred = Float32Array.from({ length: n }, () => (logits ? random() * 6 - 3 : random()));
  let targetData: Inputs['target'];
  if (target === 'dense') {
    targetData = Float32Array.from({ length: n }, () => (o.softLabel ? random() : random() < 0.35 ? 1 : 0));
  } else {
    const labels = Array.from({ length: B * S }, () =>
      o.ignoreIndex !== undefined && random() < 0.15 ? ignore : Math.floor(random() * C),
    );
    targetData =
      target === 'u8'
        ? Uint8Array.from(labels)
        : target === 'u16'
          ? Uint16Array.from(labels)
          : Uint32Array.from(labels);
  }
  const maskData =
    mask === 'none'
      ? undefined
      : Float32Array.from({ length: o.maskShape === 'shared' ? S : B * S }, () => (random() < 0.3 ? 0 : random()));
  return { options: o, inputs: { pred, target: targetData, mask: maskData } };
}

describe(`loss family fuzz: ${COUNT} seeded cases against the float64 reference`, () => {
  const seeds = ONLY ? [Number(ONLY)] : Array.from({ length: COUNT }, (_, i) => 7000 + i);
  let valid = 0;
  let rejected = 0;
  it.each(seeds)('seed %i', async (seed) => {
    const { options, inputs } = randomCase(seed);
    const context = `seed ${seed}: ${JSON.stringify(options)}`;
    let loss;
    try {
      loss = await gpu.engine.loss(options);
    } catch (error) {
      // Option combinations a peer would also refuse (e.g. focal alpha rules) must be typed errors.
      expect(error, context).toBeInstanceOf(WgslDiceError);
      expect((error as WgslDiceError).code, context).toMatch(/^INVALID_OPTION|INVALID_WEIGHTS$/);
      rejected++;
      return;
    }
    valid++;
    try {
      const got = await withValidation(gpu.device, () =>
        loss.compute(inputs.pred, inputs.target, { grad: true, mask: inputs.mask }),
      );
      const want = familyReference(inputs.pred, inputs.target, options, inputs.mask);
      expectClose([got.loss], [want.loss], { atol: 1e-5, rtol: 1e-4 }, `loss, ${context}`);
      const fd = familyReferenceGradient(inputs.pred, inputs.target, options, inputs.mask);
      const max = fd.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      expectClose(got.grad!, fd, { atol: 1e-4 * max + 1e-6, rtol: 1e-3 }, `gradient, ${context}`);
    } finally {
      loss.destroy();
    }
  });
  it('most generated cases are valid losses', () => {
    if (ONLY) return;
    expect(valid).toBeGreaterThan(COUNT * 0.8);
    expect(valid + rejected).toBe(COUNT);
  });
});
