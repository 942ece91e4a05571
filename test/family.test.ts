// Every loss-family option against the float64 reference (values) and against central
// differences of the reference (gradients w.r.t. probabilities and w.r.t. logits), on a real
// WebGPU device. Tolerances: see test/tolerance.ts; gradients are compared with a looser
// rtol 1e-4 because the finite differences themselves carry ~1e-8 absolute error.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiceEngine, WgslDiceError, type LossOptions } from '../src/index.js';
import { familyReference, familyReferenceGradient } from '../src/reference/index.js';
import { expectClose, getTestDevice, mulberry32, withValidation } from './helpers/gpu.js';
import { LOSS_TOL, RTOL } from './tolerance.js';

let device: GPUDevice;
let engine: DiceEngine;

beforeAll(async () => {
  device = await getTestDevice();
  engine = await DiceEngine.create(device);
});
afterAll(() => engine?.destroy());

type Case = { name: string; options: LossOptions; soft?: boolean; emptyClass?: number; maskValues?: boolean; rawScores?: boolean };

const cases: Case[] = [
  { name: 'dice on probabilities, channels-last', options: { shape: [2, 5, 3, 3] } },
  { name: 'dice, channels-first, batch Dice', options: { shape: [2, 3, 4, 5], layout: 'channels-first', batch: true } },
  { name: 'softmax + u8 labels + ignoreIndex', options: { shape: [2, 6, 5, 4], activation: 'softmax', target: 'u8', ignoreIndex: 255 } },
  { name: 'softmax + u16 labels, channels-first, no background', options: { shape: [2, 4, 3, 7], layout: 'channels-first', activation: 'softmax', target: 'u16', includeBackground: false } },
  { name: 'sigmoid, channels-first, jaccard', options: { shape: [2, 2, 9], layout: 'channels-first', activation: 'sigmoid', formula: 'jaccard' } },
  { name: 'tversky 0.3/0.7, gamma 1.5, batch, sum', options: { shape: [3, 4, 4, 2], formula: 'tversky', alpha: 0.3, beta: 0.7, gamma: 1.5, batch: true, reduction: 'sum' } },
  { name: 'f-beta 2', options: { shape: [2, 7, 3], formula: 'f-beta', fBeta: 2 } },
  { name: 'squared denominators', options: { shape: [2, 3, 3, 3], squared: true } },
  { name: 'soft-label L1 form, soft targets', options: { shape: [2, 4, 4, 2], softLabel: true }, soft: true },
  { name: 'generalized dice (square) with an empty class', options: { shape: [2, 5, 5, 3], formula: 'generalized-dice' }, emptyClass: 2 },
  { name: 'generalized dice (simple), batch', options: { shape: [2, 5, 5, 3], formula: 'generalized-dice', gdlWeight: 'simple', batch: true } },
  { name: 'generalized dice (uniform), softmax logits', options: { shape: [2, 4, 4, 3], formula: 'generalized-dice', gdlWeight: 'uniform', activation: 'softmax' } },
  { name: 'global groups, voxel mask per sample', options: { shape: [2, 4, 4, 3], groups: 'global', mask: 'weight' }, maskValues: true },
  { name: 'softmax, mask on logits (MONAI MaskedDiceLoss with softmax), per-sample mask', options: { shape: [2, 5, 4, 3], activation: 'softmax', mask: 'logits' }, maskValues: true },
  { name: 'sigmoid, mask on logits (MONAI MaskedDiceLoss), shared mask', options: { shape: [2, 2, 4, 4], layout: 'channels-first', activation: 'sigmoid', mask: 'logits', maskShape: 'shared' }, maskValues: true },
  { name: 'negative log, clamp, empty class zeroed (smp)', options: { shape: [2, 4, 4, 3], activation: 'softmax', target: 'u32', batch: true, smoothNumerator: 0, smoothDenominator: 0, denominatorMin: 1e-7, value: 'negative-log', emptyClass: 'zero' }, emptyClass: 1 },
  { name: 'negative score (nnU-Net)', options: { shape: [2, 3, 3, 3], activation: 'softmax', value: 'negative', includeBackground: false, smoothNumerator: 1, smoothDenominator: 1, denominatorMin: 1e-8 } },
  { name: 'fixed weights, weighted mean', options: { shape: [2, 4, 4, 3], weights: [0.2, 1, 3], reduction: 'weighted-mean', batch: true } },
  { name: 'inverse-frequency weights on the GPU', options: { shape: [2, 6, 6, 4], activation: 'softmax', target: 'u8', weights: 'inverse-frequency' } },
  { name: 'Dice + weighted softmax cross-entropy with ignoreIndex', options: { shape: [2, 5, 4, 3], activation: 'softmax', target: 'u8', ignoreIndex: 9, crossEntropy: { lambda: 0.7, weights: [1, 2, 0.5] } } },
  { name: 'Dice + softmax cross-entropy with label smoothing and class weights', options: { shape: [2, 5, 4, 3], activation: 'softmax', target: 'u8', ignoreIndex: 9, crossEntropy: { lambda: 1, weights: [1, 2, 0.5], labelSmoothing: 0.3 } } },
  { name: 'Dice + binary cross-entropy (sigmoid)', options: { shape: [2, 1, 5, 5], layout: 'channels-first', activation: 'sigmoid', crossEntropy: {} } },
  { name: 'u32 labels, spatial rank 3', options: { shape: [1, 3, 4, 5, 3], activation: 'softmax', target: 'u32' } },
  { name: 'spatial rank 1, class subset, batch-mean with weights', options: { shape: [3, 17, 5], classes: [1, 3, 4], weights: [1, 2, 1, 0.5, 1.5], reduction: 'batch-mean' } },
  // Unactivated scores may be negative, and so may a denominator: no clamp unless asked
  // (MONAI divides as it is). Scores in [-3, -1] keep every denominator well below zero.
  { name: 'raw negative scores, no activation, negative denominators, no clamp', options: { shape: [2, 6, 3], smoothDenominator: 1 }, rawScores: true },
  { name: 'reduction none (gradient of the sum)', options: { shape: [2, 3, 3, 2], reduction: 'none' } },
  { name: 'binary cross-entropy with posWeight (torch pos_weight)', options: { shape: [2, 1, 5, 5], layout: 'channels-first', activation: 'sigmoid', crossEntropy: { posWeight: 0.5, lambda: 2 } } },
  { name: 'Dice + sigmoid focal, alpha and class weights', options: { shape: [2, 3, 4, 3], layout: 'channels-first', activation: 'sigmoid', focal: { alpha: 0.25, weights: [1, 2, 0.5] } } },
  { name: 'Dice + softmax focal over the foreground, per-class alpha, sum-of-means', options: { shape: [2, 5, 4, 3], activation: 'softmax', target: 'u8', includeBackground: false, focal: { useSoftmax: true, alpha: [0.3, 0.7], lambda: 0.5, gamma: 1.5, reduction: 'sum-of-means' } } },
  { name: 'softmax focal, scalar alpha, ignoreIndex and voxel mask', options: { shape: [2, 3, 3, 3], activation: 'softmax', target: 'u32', ignoreIndex: 7, mask: 'weight', focal: { useSoftmax: true, alpha: 0.25 } }, maskValues: true },
  { name: 'focal alone on raw input, gamma 0, soft targets, sum', options: { shape: [2, 4, 4, 2], lambdaDice: 0, focal: { gamma: 0, reduction: 'sum' } }, soft: true },
  { name: 'sigmoid focal with the mask on logits', options: { shape: [2, 2, 4, 4], layout: 'channels-first', activation: 'sigmoid', mask: 'logits', maskShape: 'shared', focal: { gamma: 3 } }, maskValues: true },
  // Peer parity (issue 10): MONAI's other_act=tanh with soft_label (absolute-value sums).
  { name: "tanh, soft-label 'absolute' (MONAI), soft targets", options: { shape: [2, 3, 4, 3], layout: 'channels-first', activation: 'tanh', softLabel: 'absolute' }, soft: true },
  { name: 'sigmoid Dice + softmax cross-entropy on the logits, CE sum, weights', options: { shape: [2, 3, 4, 3], layout: 'channels-first', activation: 'sigmoid', target: 'u8', crossEntropy: { form: 'softmax', reduction: 'sum', weights: [1, 3, 0.5] } } },
  { name: 'softmax cross-entropy on probability targets: torch mean over voxels, weights, smoothing', options: { shape: [2, 4, 4, 3], activation: 'softmax', crossEntropy: { weights: [0.5, 2, 1], labelSmoothing: 0.1 } }, soft: true },
  { name: 'no activation + binary cross-entropy on the raw input, C = 2', options: { shape: [2, 2, 5], layout: 'channels-first', crossEntropy: { form: 'binary', lambda: 0.5 } } },
  { name: 'dense target with an ignore value (smp multilabel ignore_index)', options: { shape: [2, 3, 4, 3], layout: 'channels-first', activation: 'sigmoid', ignoreIndex: 255, softLabel: true, batch: true } },
  { name: 'tp clipped from below (nnU-Net clip_tp)', options: { shape: [2, 3, 4, 2], layout: 'channels-first', activation: 'softmax', value: 'negative', smoothNumerator: 1, smoothDenominator: 1, denominatorMin: 1e-8, tpMin: 1 } },
  { name: 'mask on logits with a label map: label * mask truncated (MONAI MaskedDiceLoss, to_onehot_y)', options: { shape: [2, 3, 4, 3], layout: 'channels-first', activation: 'softmax', target: 'u8', mask: 'logits' }, maskValues: true },
];

function makeInputs(c: Case, seed: number) {
  const random = mulberry32(seed);
  const o = c.options;
  const channelsFirst = o.layout === 'channels-first';
  const dims = o.shape;
  const B = dims[0];
  const C = channelsFirst ? dims[1] : dims[dims.length - 1];
  const S = (channelsFirst ? dims.slice(2) : dims.slice(1, -1)).reduce((a, b) => a * b, 1);
  const n = B * C * S;
  const logits = (o.activation ?? 'none') !== 'none';
  const pred = Float32Array.from({ length: n }, () => (logits ? random() * 6 - 3 : c.rawScores ? random() * 2 - 3 : random()));
  const at = (b: number, s: number, k: number) => (channelsFirst ? (b * C + k) * S + s : (b * S + s) * C + k);
  const labelOf = () => {
    let label = Math.floor(random() * C);
    if (c.emptyClass !== undefined && label === c.emptyClass) label = (label + 1) % C;
    return label;
  };
  let target: Float32Array | Uint8Array | Uint16Array | Uint32Array;
  const kind = o.target ?? 'dense';
  if (kind === 'dense') {
    target = new Float32Array(n);
    for (let b = 0; b < B; b++) {
      for (let s = 0; s < S; s++) {
        if (c.soft || C === 1) {
          for (let k = 0; k < C; k++) target[at(b, s, k)] = c.soft ? random() : random() < 0.4 ? 1 : 0;
        } else {
          target[at(b, s, labelOf())] = 1;
        }
      }
    }
    if (o.ignoreIndex !== undefined) target.forEach((_, i) => random() < 0.15 && (target[i] = o.ignoreIndex!));
  } else {
    const Type = kind === 'u8' ? Uint8Array : kind === 'u16' ? Uint16Array : Uint32Array;
    target = (Type as Uint32ArrayConstructor).from({ length: B * S }, () => (o.ignoreIndex !== undefined && random() < 0.15 ? o.ignoreIndex : labelOf()));
  }
  const maskLength = o.maskShape === 'shared' ? S : B * S;
  const mask = c.maskValues ? Float32Array.from({ length: maskLength }, () => (random() < 0.3 ? 0 : random() < 0.5 ? 1 : random())) : undefined;
  return { pred, target, mask };
}

describe('loss family against the float64 reference and its finite differences', () => {
  cases.forEach((c, index) => {
    it(c.name, async () => {
      const { pred, target, mask } = makeInputs(c, 1000 + index);
      const got = await withValidation(device, async () => {
        const loss = await engine.loss(c.options);
        try {
          return await loss.compute(pred, target, { grad: true, mask });
        } finally {
          loss.destroy();
        }
      });
      const want = familyReference(pred, target, c.options, mask);
      expectClose([got.loss], [want.loss], LOSS_TOL, 'loss');
      expectClose([got.crossEntropy], [want.crossEntropy], LOSS_TOL, 'cross-entropy');
      expectClose([got.focal], [want.focal], LOSS_TOL, 'focal');
      if (c.options.focal) expectClose(got.pairFocal!, want.pairFocal, { atol: 1e-5, rtol: RTOL }, 'focal per pair');
      expectClose(got.groups.tp, want.tp, { atol: 1e-5, rtol: RTOL }, 'tp');
      expectClose(got.groups.score, want.score, { atol: 1e-5, rtol: RTOL }, 'score');
      const fd = familyReferenceGradient(pred, target, c.options, mask);
      const max = fd.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      expectClose(got.grad!, fd, { atol: 1e-4 * max + 1e-7, rtol: 1e-4 }, 'gradient vs central differences');
    });
  });
});

describe('bad input is reported, not silently folded into the loss', () => {
  it('labels >= C throw LABEL_OUT_OF_RANGE with the count and first voxel', async () => {
    const loss = await engine.loss({ shape: [1, 4, 4, 3], activation: 'softmax', target: 'u8' });
    const labels = new Uint8Array(16);
    labels[5] = 7;
    labels[9] = 3;
    const error = await loss.compute(new Float32Array(48), labels).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WgslDiceError);
    expect((error as WgslDiceError).code).toBe('LABEL_OUT_OF_RANGE');
    expect((error as WgslDiceError).message).toMatch(/2 label-map voxel\(s\).*first at voxel 5/);
    loss.destroy();
  });

  it('NaN and infinite predictions throw NON_FINITE_INPUT; the encode path exposes the status', async () => {
    const loss = await engine.loss({ shape: [1, 8, 2] });
    const pred = new Float32Array(16).fill(0.5);
    pred[3] = NaN;
    pred[11] = Infinity;
    const error = await loss.compute(pred, new Float32Array(16)).catch((e: unknown) => e);
    expect((error as WgslDiceError).code).toBe('NON_FINITE_INPUT');
    expect((error as WgslDiceError).message).toMatch(/2 pred element\(s\).*first at element 3/);
    expect(await loss.readStatus()).toEqual({ badLabels: 0, firstBadLabelVoxel: null, nonFinite: 2, firstNonFiniteElement: 3, nonFiniteTarget: 0, firstNonFiniteTargetElement: null, nonFiniteMask: 0, firstNonFiniteMaskIndex: null });
    loss.destroy();
  });
});

describe('hard metrics from the same sums', () => {
  it('argmax Dice and IoU per (sample, class) match a direct count', async () => {
    const shape = [2, 6, 5, 3];
    const random = mulberry32(5);
    const pred = Float32Array.from({ length: 180 }, () => random());
    const labels = Uint8Array.from({ length: 60 }, () => Math.floor(random() * 3));
    const metric = await engine.metric({ shape, target: 'u8', binarize: 'argmax' });
    const got = await withValidation(device, () => metric.compute(pred, labels));
    metric.destroy();
    for (let b = 0; b < 2; b++) {
      for (let c = 0; c < 3; c++) {
        let tp = 0, predCount = 0, targetCount = 0;
        for (let s = 0; s < 30; s++) {
          const row = pred.subarray((b * 30 + s) * 3, (b * 30 + s) * 3 + 3);
          const argmax = row.indexOf(Math.max(...row));
          const hit = argmax === c;
          const truth = labels[b * 30 + s] === c;
          tp += hit && truth ? 1 : 0;
          predCount += hit ? 1 : 0;
          targetCount += truth ? 1 : 0;
        }
        const g = b * 3 + c;
        expect([got.groups.tp[g], got.groups.predSum[g], got.groups.targetSum[g]]).toEqual([tp, predCount, targetCount]);
        expect(got.groups.score[g]).toBeCloseTo((2 * tp) / (predCount + targetCount), 6);
      }
    }
  });
});
