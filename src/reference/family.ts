/**
 * Float64 reference of the Dice-family losses that {@link DiceEngine.loss} computes, written
 * from the definitions with plain per-voxel loops (independently of the WGSL kernels). The
 * gradient is the central difference of this function in float64, so it checks the GPU's
 * closed-form chain rules against nothing but the definition.
 */
import type { LossOptions } from '../spec/family.js';

export interface FamilyReferenceResult {
  loss: number;
  diceLoss: number;
  crossEntropy: number;
  /** The focal term before its lambda. */
  focal: number;
  /** Per (sample, class): the focal terms' sum times alpha and the class weight, before the reduction. */
  pairFocal: Float64Array;
  /** Per group, as the engine orders them (sample-major, then class). */
  score: Float64Array;
  value: Float64Array;
  tp: Float64Array;
  predSum: Float64Array;
  targetSum: Float64Array;
}

export function familyReference(
  pred: ArrayLike<number>,
  target: ArrayLike<number>,
  options: LossOptions,
  mask?: ArrayLike<number>,
): FamilyReferenceResult {
  const channelsFirst = options.layout === 'channels-first';
  const dims = options.shape;
  const B = dims[0];
  const C = channelsFirst ? dims[1] : dims[dims.length - 1];
  const spatialDims = channelsFirst ? dims.slice(2) : dims.slice(1, -1);
  const S = spatialDims.reduce((a, b) => a * b, 1);
  const at = (b: number, s: number, c: number) => (channelsFirst ? (b * C + c) * S + s : (b * S + s) * C + c);
  const labels = (options.target ?? 'dense') !== 'dense';
  const activation = options.activation ?? 'none';
  const maskMode = options.mask ?? 'none';
  const order = options.squared ? 2 : 1;
  const softAbs = options.softLabel === 'absolute';
  const ceForm = options.crossEntropy?.form ?? (activation === 'softmax' ? 'softmax' : 'binary');

  // Per (b, c): I, P, G, D, target mass M, and cross-entropy numerator / weight mass.
  const pairs = B * C;
  const I = new Float64Array(pairs),
    P = new Float64Array(pairs),
    G = new Float64Array(pairs);
  const D = new Float64Array(pairs),
    M = new Float64Array(pairs);
  let ceNum = 0;
  let ceDen = 0;
  const ceWeights = options.crossEntropy?.weights;
  const posWeight = options.crossEntropy?.posWeight ?? 1;
  const focal = options.focal;
  const focalFirst = options.includeBackground === false ? 1 : 0;
  const focalGamma = focal?.gamma ?? 2;
  const pairFocal = new Float64Array(pairs);
  const logSigmoid = (x: number) => (x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x)));
  /** MONAI's alpha factor of class c (sigmoid form: on g; softmax form: on the whole term). */
  const focalAlpha = (c: number, g: number): number => {
    const a = focal?.alpha;
    if (a === undefined) return 1;
    if (typeof a !== 'number')
      return focal!.useSoftmax ? a[c - focalFirst] : g * a[c - focalFirst] + (1 - g) * (1 - a[c - focalFirst]);
    if (focal!.useSoftmax) return c === 0 ? 1 - a : a;
    return g * a + (1 - g) * (1 - a);
  };
  for (let b = 0; b < B; b++) {
    for (let s = 0; s < S; s++) {
      const m = maskMode === 'none' ? 1 : mask![options.maskShape === 'shared' ? s : b * S + s];
      const logitScale = maskMode === 'logits' ? m : 1;
      let w = maskMode === 'weight' ? m : 1;
      const z = Array.from({ length: C }, (_, c) => pred[at(b, s, c)] * logitScale);
      let g: number[];
      // Per element: the voxel weight, 0 where a dense target holds the ignore value.
      let we: number[];
      if (labels) {
        // Mask-the-logits mode masks the label map as MONAI does: one-hot of trunc(label * m).
        const raw = target[b * S + s];
        if (options.ignoreIndex !== undefined && raw === options.ignoreIndex) w = 0;
        const label = maskMode === 'logits' ? Math.trunc(raw * m) : raw;
        g = Array.from({ length: C }, (_, c) => (label === c && w !== 0 ? 1 : 0));
        we = g.map(() => w);
      } else {
        const ignored = (c: number) =>
          options.ignoreIndex !== undefined && Math.fround(target[at(b, s, c)]) === Math.fround(options.ignoreIndex);
        g = Array.from({ length: C }, (_, c) => (ignored(c) ? 0 : target[at(b, s, c)] * logitScale));
        we = g.map((_, c) => (ignored(c) ? 0 : w));
      }
      const top = Math.max(...z);
      const logp = z.map((x) => x - (top + Math.log(z.reduce((acc, y) => acc + Math.exp(y - top), 0))));
      let p: number[];
      if (activation === 'softmax') {
        p = logp.map(Math.exp);
      } else if (activation === 'sigmoid') {
        p = z.map((x) => 1 / (1 + Math.exp(-x)));
      } else if (activation === 'tanh') {
        p = z.map(Math.tanh);
      } else {
        p = z;
      }
      for (let c = 0; c < C; c++) {
        const k = b * C + c;
        const wc = we[c];
        I[k] += wc * p[c] * g[c];
        P[k] += wc * (softAbs ? Math.abs(p[c]) : p[c] ** order);
        G[k] += wc * (softAbs ? Math.abs(g[c]) : g[c] ** order);
        D[k] += wc * Math.abs(p[c] - g[c]);
        M[k] += wc * g[c];
        if (options.crossEntropy) {
          const cw = ceWeights ? ceWeights[c] : 1;
          if (ceForm === 'softmax') {
            // torch label smoothing: the target is (1 - e) g + e / C; the class-index mean
            // divides by the weights of the true (unsmoothed) classes.
            const smoothing = options.crossEntropy.labelSmoothing ?? 0;
            ceNum += wc * cw * -(g[c] * (1 - smoothing) + smoothing / C) * logp[c];
            ceDen += wc * cw * g[c];
          } else {
            // torch BCEWithLogitsLoss(pos_weight): -[k g log sigmoid(x) + (1 - g) log(1 - sigmoid(x))].
            const x = z[c];
            ceNum += wc * cw * -(posWeight * g[c] * logSigmoid(x) + (1 - g[c]) * logSigmoid(-x));
          }
        }
      }
      if (focal) {
        let focalLse = 0;
        if (focal.useSoftmax) {
          const kept = z.slice(focalFirst);
          const top = Math.max(...kept);
          focalLse = top + Math.log(kept.reduce((acc, x) => acc + Math.exp(x - top), 0));
        }
        for (let c = focalFirst; c < C; c++) {
          let term: number;
          if (focal.useSoftmax) {
            const ls = z[c] - focalLse;
            term = -((1 - Math.exp(ls)) ** focalGamma) * ls * g[c];
          } else {
            const x = z[c];
            const t = g[c];
            term = (x - x * t - logSigmoid(x)) * Math.exp(focalGamma * logSigmoid(-x * (2 * t - 1)));
          }
          pairFocal[b * C + c] += we[c] * (focal.weights ? focal.weights[c] : 1) * focalAlpha(c, g[c]) * term;
        }
      }
    }
  }

  const included = Array.from({ length: C }, (_, c) => (options.classes ? options.classes.includes(c) : true));
  if (options.includeBackground === false) included[0] = false;
  const formula = options.formula ?? 'dice';
  const gdl = formula === 'generalized-dice';
  const poolClasses = options.groups === 'global' || gdl;
  const poolBatch = options.batch === true;
  const alpha = options.alpha ?? 0.5;
  const beta = options.beta ?? 0.5;
  const fb2 = (options.fBeta ?? 1) ** 2;
  const coef =
    options.score ??
    (formula === 'jaccard'
      ? { numTp: 1, denTp: 1, denFp: 1, denFn: 1 }
      : formula === 'tversky'
        ? { numTp: 1, denTp: 1, denFp: alpha, denFn: beta }
        : formula === 'f-beta'
          ? { numTp: 1 + fb2, denTp: 1 + fb2, denFp: 1, denFn: fb2 }
          : { numTp: 2, denTp: 2, denFp: 1, denFn: 1 });
  const snr = options.smoothNumerator ?? 1e-5;
  const sdr = options.smoothDenominator ?? 1e-5;
  const denMin = options.denominatorMin ?? -Infinity;
  const logEps = options.logEps ?? 1e-7;

  const GB = poolBatch ? 1 : B;
  const GC = poolClasses ? 1 : C;
  const massOf = (gb: number, c: number) => {
    let mass = 0;
    for (let b = 0; b < B; b++) if (poolBatch || b === gb) mass += M[b * C + c];
    return mass;
  };
  // Inverse class frequency over the batch, normalised over the included classes.
  const inverse = new Float64Array(C);
  if (options.weights === 'inverse-frequency') {
    let total = 0;
    for (let c = 0; c < C; c++) {
      let mass = 0;
      for (let b = 0; b < B; b++) mass += M[b * C + c];
      inverse[c] = included[c] ? 1 / Math.max(mass, 1) : 0;
      total += inverse[c];
    }
    for (let c = 0; c < C; c++) inverse[c] /= total;
  }
  const fixed = Array.isArray(options.weights) ? options.weights : undefined;
  const reduction = options.reduction ?? 'mean';
  const includedCount = included.filter(Boolean).length;
  // Sum of the group weights of one sample: one weight-1 group when classes are pooled.
  let weightSum = poolClasses ? 1 : 0;
  if (!poolClasses) for (let c = 0; c < C; c++) if (included[c]) weightSum += fixed ? fixed[c] : 1;
  const norm =
    reduction === 'mean'
      ? GB * (poolClasses ? 1 : includedCount)
      : reduction === 'weighted-mean'
        ? GB * (weightSum || 1)
        : reduction === 'batch-mean'
          ? GB
          : 1;

  const groups = GB * GC;
  const score = new Float64Array(groups),
    value = new Float64Array(groups);
  const tpOut = new Float64Array(groups),
    pOut = new Float64Array(groups),
    gOut = new Float64Array(groups);
  let total = 0;
  for (let gb = 0; gb < GB; gb++) {
    for (let gc = 0; gc < GC; gc++) {
      const members = poolClasses ? [...Array(C).keys()] : [gc];
      let gdlMax = 0;
      const gdlWeight = (c: number) => {
        const mass = massOf(gb, c);
        const kind = options.gdlWeight ?? 'square';
        return kind === 'square' ? 1 / (mass * mass) : kind === 'simple' ? 1 / mass : 1;
      };
      if (gdl)
        for (const c of members)
          if (included[c] && Number.isFinite(gdlWeight(c))) gdlMax = Math.max(gdlMax, gdlWeight(c));
      let sI = 0,
        sP = 0,
        sG = 0,
        sD = 0,
        mass = 0;
      for (const c of members) {
        if (!included[c]) continue;
        const mw = gdl ? (Number.isFinite(gdlWeight(c)) ? gdlWeight(c) : gdlMax) : 1;
        for (let b = 0; b < B; b++) {
          if (!poolBatch && b !== gb) continue;
          const k = b * C + c;
          sI += mw * I[k];
          sP += mw * P[k];
          sG += mw * G[k];
          sD += mw * D[k];
          mass += M[k];
        }
      }
      const tp = options.softLabel ? (sP + sG - sD) / 2 : sI;
      const fp = sP - tp;
      const fn = sG - tp;
      // nnU-Net clip_tp: the tp terms see the clipped tp, fp and fn the plain one.
      const tpc = Math.max(tp, options.tpMin ?? -Infinity);
      const den = Math.max(coef.denTp * tpc + coef.denFp * fp + coef.denFn * fn + sdr, denMin);
      const sc = (coef.numTp * tpc + snr) / den;
      let v =
        options.value === 'negative-log'
          ? -Math.log(Math.max(sc, logEps))
          : options.value === 'negative'
            ? -sc
            : 1 - sc;
      if (options.emptyClass === 'zero' && mass === 0) v = 0;
      let weight = poolClasses ? 1 : included[gc] ? (fixed ? fixed[gc] : 1) : 0;
      weight /= norm;
      if (options.weights === 'inverse-frequency') weight *= inverse[gc];
      const g = gb * GC + gc;
      score[g] = sc;
      value[g] = v;
      tpOut[g] = tp;
      pOut[g] = sP;
      gOut[g] = sG;
      if (weight !== 0) total += weight * v;
    }
  }
  const gamma = options.gamma ?? 1;
  const diceLoss = gamma === 1 ? total : Math.max(total, 0) ** gamma;
  let crossEntropy = 0;
  if (options.crossEntropy) {
    const divisor =
      options.crossEntropy.reduction === 'sum' ? 1 : ceForm === 'binary' ? B * C * S : labels ? ceDen : B * S;
    crossEntropy = divisor > 0 ? ceNum / divisor : 0;
  }
  let focalLoss = 0;
  if (focal) {
    const reductionOfFocal = focal.reduction ?? 'mean';
    const count = reductionOfFocal === 'mean' ? B * (C - focalFirst) * S : reductionOfFocal === 'sum-of-means' ? S : 1;
    focalLoss = pairFocal.reduce((a, x) => a + x, 0) / count;
  }
  const lambdaDice = options.lambdaDice ?? 1;
  const loss =
    (lambdaDice === 0 ? 0 : lambdaDice * diceLoss) +
    (options.crossEntropy ? (options.crossEntropy.lambda ?? 1) : 0) * crossEntropy +
    (focal ? (focal.lambda ?? 1) : 0) * focalLoss;
  return {
    loss,
    diceLoss,
    crossEntropy,
    focal: focalLoss,
    pairFocal,
    score,
    value,
    tp: tpOut,
    predSum: pOut,
    targetSum: gOut,
  };
}

/** Central-difference gradient of {@link familyReference}'s loss w.r.t. pred, in float64. */
export function familyReferenceGradient(
  pred: ArrayLike<number>,
  target: ArrayLike<number>,
  options: LossOptions,
  mask?: ArrayLike<number>,
  h = 1e-6,
): Float64Array {
  const x = Float64Array.from(pred);
  const grad = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const saved = x[i];
    x[i] = saved + h;
    const up = familyReference(x, target, options, mask).loss;
    x[i] = saved - h;
    const down = familyReference(x, target, options, mask).loss;
    x[i] = saved;
    grad[i] = (up - down) / (2 * h);
  }
  return grad;
}
