// The loss-family cases (every option, layout, activation and target dtype) and their seeded
// inputs, shared by test/family.test.ts (Dawn) and the Deno conformance run (wgpu). Free of
// runtime imports so that Deno can load it as it is; the PRNG is passed in.
import type { LossOptions } from '../../src/index.js';

export type FamilyCase = {
  name: string;
  options: LossOptions;
  soft?: boolean;
  emptyClass?: number;
  maskValues?: boolean;
  rawScores?: boolean;
};

export const FAMILY_CASES: FamilyCase[] = [
  { name: 'dice on probabilities, channels-last', options: { shape: [2, 5, 3, 3] } },
  { name: 'dice, channels-first, batch Dice', options: { shape: [2, 3, 4, 5], layout: 'channels-first', batch: true } },
  {
    name: 'softmax + u8 labels + ignoreIndex',
    options: { shape: [2, 6, 5, 4], activation: 'softmax', target: 'u8', ignoreIndex: 255 },
  },
  {
    name: 'softmax + u16 labels, channels-first, no background',
    options: {
      shape: [2, 4, 3, 7],
      layout: 'channels-first',
      activation: 'softmax',
      target: 'u16',
      includeBackground: false,
    },
  },
  {
    name: 'sigmoid, channels-first, jaccard',
    options: { shape: [2, 2, 9], layout: 'channels-first', activation: 'sigmoid', formula: 'jaccard' },
  },
  {
    name: 'tversky 0.3/0.7, gamma 1.5, batch, sum',
    options: {
      shape: [3, 4, 4, 2],
      formula: 'tversky',
      alpha: 0.3,
      beta: 0.7,
      gamma: 1.5,
      batch: true,
      reduction: 'sum',
    },
  },
  { name: 'f-beta 2', options: { shape: [2, 7, 3], formula: 'f-beta', fBeta: 2 } },
  { name: 'squared denominators', options: { shape: [2, 3, 3, 3], squared: true } },
  { name: 'soft-label L1 form, soft targets', options: { shape: [2, 4, 4, 2], softLabel: true }, soft: true },
  {
    name: 'generalized dice (square) with an empty class',
    options: { shape: [2, 5, 5, 3], formula: 'generalized-dice' },
    emptyClass: 2,
  },
  {
    name: 'generalized dice (simple), batch',
    options: { shape: [2, 5, 5, 3], formula: 'generalized-dice', gdlWeight: 'simple', batch: true },
  },
  {
    name: 'generalized dice (uniform), softmax logits',
    options: { shape: [2, 4, 4, 3], formula: 'generalized-dice', gdlWeight: 'uniform', activation: 'softmax' },
  },
  {
    name: 'global groups, voxel mask per sample',
    options: { shape: [2, 4, 4, 3], groups: 'global', mask: 'weight' },
    maskValues: true,
  },
  {
    name: 'softmax, mask on logits (MONAI MaskedDiceLoss with softmax), per-sample mask',
    options: { shape: [2, 5, 4, 3], activation: 'softmax', mask: 'logits' },
    maskValues: true,
  },
  {
    name: 'sigmoid, mask on logits (MONAI MaskedDiceLoss), shared mask',
    options: {
      shape: [2, 2, 4, 4],
      layout: 'channels-first',
      activation: 'sigmoid',
      mask: 'logits',
      maskShape: 'shared',
    },
    maskValues: true,
  },
  {
    name: 'negative log, clamp, empty class zeroed (smp)',
    options: {
      shape: [2, 4, 4, 3],
      activation: 'softmax',
      target: 'u32',
      batch: true,
      smoothNumerator: 0,
      smoothDenominator: 0,
      denominatorMin: 1e-7,
      value: 'negative-log',
      emptyClass: 'zero',
    },
    emptyClass: 1,
  },
  {
    name: 'negative score (nnU-Net)',
    options: {
      shape: [2, 3, 3, 3],
      activation: 'softmax',
      value: 'negative',
      includeBackground: false,
      smoothNumerator: 1,
      smoothDenominator: 1,
      denominatorMin: 1e-8,
    },
  },
  {
    name: 'fixed weights, weighted mean',
    options: { shape: [2, 4, 4, 3], weights: [0.2, 1, 3], reduction: 'weighted-mean', batch: true },
  },
  {
    name: 'inverse-frequency weights on the GPU',
    options: { shape: [2, 6, 6, 4], activation: 'softmax', target: 'u8', weights: 'inverse-frequency' },
  },
  {
    name: 'Dice + weighted softmax cross-entropy with ignoreIndex',
    options: {
      shape: [2, 5, 4, 3],
      activation: 'softmax',
      target: 'u8',
      ignoreIndex: 9,
      crossEntropy: { lambda: 0.7, weights: [1, 2, 0.5] },
    },
  },
  {
    name: 'Dice + softmax cross-entropy with label smoothing and class weights',
    options: {
      shape: [2, 5, 4, 3],
      activation: 'softmax',
      target: 'u8',
      ignoreIndex: 9,
      crossEntropy: { lambda: 1, weights: [1, 2, 0.5], labelSmoothing: 0.3 },
    },
  },
  {
    name: 'Dice + binary cross-entropy (sigmoid)',
    options: { shape: [2, 1, 5, 5], layout: 'channels-first', activation: 'sigmoid', crossEntropy: {} },
  },
  { name: 'u32 labels, spatial rank 3', options: { shape: [1, 3, 4, 5, 3], activation: 'softmax', target: 'u32' } },
  {
    name: 'spatial rank 1, class subset, batch-mean with weights',
    options: { shape: [3, 17, 5], classes: [1, 3, 4], weights: [1, 2, 1, 0.5, 1.5], reduction: 'batch-mean' },
  },
  // Unactivated scores may be negative, and so may a denominator: no clamp unless asked
  // (MONAI divides as it is). Scores in [-3, -1] keep every denominator well below zero.
  {
    name: 'raw negative scores, no activation, negative denominators, no clamp',
    options: { shape: [2, 6, 3], smoothDenominator: 1 },
    rawScores: true,
  },
  { name: 'reduction none (gradient of the sum)', options: { shape: [2, 3, 3, 2], reduction: 'none' } },
  {
    name: 'binary cross-entropy with posWeight (torch pos_weight)',
    options: {
      shape: [2, 1, 5, 5],
      layout: 'channels-first',
      activation: 'sigmoid',
      crossEntropy: { posWeight: 0.5, lambda: 2 },
    },
  },
  {
    name: 'Dice + sigmoid focal, alpha and class weights',
    options: {
      shape: [2, 3, 4, 3],
      layout: 'channels-first',
      activation: 'sigmoid',
      focal: { alpha: 0.25, weights: [1, 2, 0.5] },
    },
  },
  {
    name: 'Dice + softmax focal over the foreground, per-class alpha, sum-of-means',
    options: {
      shape: [2, 5, 4, 3],
      activation: 'softmax',
      target: 'u8',
      includeBackground: false,
      focal: { useSoftmax: true, alpha: [0.3, 0.7], lambda: 0.5, gamma: 1.5, reduction: 'sum-of-means' },
    },
  },
  {
    name: 'softmax focal, scalar alpha, ignoreIndex and voxel mask',
    options: {
      shape: [2, 3, 3, 3],
      activation: 'softmax',
      target: 'u32',
      ignoreIndex: 7,
      mask: 'weight',
      focal: { useSoftmax: true, alpha: 0.25 },
    },
    maskValues: true,
  },
  {
    name: 'focal alone on raw input, gamma 0, soft targets, sum',
    options: { shape: [2, 4, 4, 2], lambdaDice: 0, focal: { gamma: 0, reduction: 'sum' } },
    soft: true,
  },
  {
    name: 'sigmoid focal with the mask on logits',
    options: {
      shape: [2, 2, 4, 4],
      layout: 'channels-first',
      activation: 'sigmoid',
      mask: 'logits',
      maskShape: 'shared',
      focal: { gamma: 3 },
    },
    maskValues: true,
  },
  // Peer parity (issue 10): MONAI's other_act=tanh with soft_label (absolute-value sums).
  {
    name: "tanh, soft-label 'absolute' (MONAI), soft targets",
    options: { shape: [2, 3, 4, 3], layout: 'channels-first', activation: 'tanh', softLabel: 'absolute' },
    soft: true,
  },
  {
    name: 'sigmoid Dice + softmax cross-entropy on the logits, CE sum, weights',
    options: {
      shape: [2, 3, 4, 3],
      layout: 'channels-first',
      activation: 'sigmoid',
      target: 'u8',
      crossEntropy: { form: 'softmax', reduction: 'sum', weights: [1, 3, 0.5] },
    },
  },
  {
    name: 'softmax cross-entropy on probability targets: torch mean over voxels, weights, smoothing',
    options: {
      shape: [2, 4, 4, 3],
      activation: 'softmax',
      crossEntropy: { weights: [0.5, 2, 1], labelSmoothing: 0.1 },
    },
    soft: true,
  },
  {
    name: 'no activation + binary cross-entropy on the raw input, C = 2',
    options: { shape: [2, 2, 5], layout: 'channels-first', crossEntropy: { form: 'binary', lambda: 0.5 } },
  },
  {
    name: 'dense target with an ignore value (smp multilabel ignore_index)',
    options: {
      shape: [2, 3, 4, 3],
      layout: 'channels-first',
      activation: 'sigmoid',
      ignoreIndex: 255,
      softLabel: true,
      batch: true,
    },
  },
  {
    name: 'tp clipped from below (nnU-Net clip_tp)',
    options: {
      shape: [2, 3, 4, 2],
      layout: 'channels-first',
      activation: 'softmax',
      value: 'negative',
      smoothNumerator: 1,
      smoothDenominator: 1,
      denominatorMin: 1e-8,
      tpMin: 1,
    },
  },
  {
    name: 'mask on logits with a label map: label * mask truncated (MONAI MaskedDiceLoss, to_onehot_y)',
    options: { shape: [2, 3, 4, 3], layout: 'channels-first', activation: 'softmax', target: 'u8', mask: 'logits' },
    maskValues: true,
  },
];

/** Seeded inputs for a case: pred (probabilities, logits or raw scores), target and mask. */
export function makeInputs(c: FamilyCase, random: () => number) {
  const o = c.options;
  const channelsFirst = o.layout === 'channels-first';
  const dims = o.shape;
  const B = dims[0];
  const C = channelsFirst ? dims[1] : dims[dims.length - 1];
  const S = (channelsFirst ? dims.slice(2) : dims.slice(1, -1)).reduce((a, b) => a * b, 1);
  const n = B * C * S;
  const logits = (o.activation ?? 'none') !== 'none';
  const pred = Float32Array.from({ length: n }, () =>
    logits ? random() * 6 - 3 : c.rawScores ? random() * 2 - 3 : random(),
  );
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
    // A dense ignore value (smp's multilabel ignore_index) replaces some elements.
    if (o.ignoreIndex !== undefined) target.forEach((_, i) => random() < 0.15 && (target[i] = o.ignoreIndex!));
  } else {
    const Type = kind === 'u8' ? Uint8Array : kind === 'u16' ? Uint16Array : Uint32Array;
    target = (Type as Uint32ArrayConstructor).from({ length: B * S }, () =>
      o.ignoreIndex !== undefined && random() < 0.15 ? o.ignoreIndex : labelOf(),
    );
  }
  const maskLength = o.maskShape === 'shared' ? S : B * S;
  const mask = c.maskValues
    ? Float32Array.from({ length: maskLength }, () => (random() < 0.3 ? 0 : random() < 0.5 ? 1 : random()))
    : undefined;
  return { pred, target, mask };
}
