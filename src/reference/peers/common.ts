// Shared pieces of the float64 peer references: one-hot, reductions, MONAI's compute_tp_fp_fn,
// and torch's cross-entropy / BCE-with-logits. Formulas follow docs/peer-semantics.md. The peers'
// options, activations and layouts are src/peers/'s (the presets use them too).

import { logSigmoid, logSoftmax } from '../../peers/activation.js';
import {
  type Tensor,
  map,
  numel,
  offsetOf,
  scalar,
  sumAll,
  sumAxes,
  tensor,
  unravel,
  zip,
} from '../../peers/tensor.js';

// ---------------------------------------------------------------------------------------------
// One-hot from label maps
// ---------------------------------------------------------------------------------------------

/** Integer class of a stored label value (torch `.long()` truncates toward zero). */
export function labelOf(v: number): number {
  if (!Number.isFinite(v)) throw new Error(`label value ${v} is not finite`);
  return Math.trunc(v);
}

/**
 * MONAI `one_hot(labels, num_classes, dim=1)` / torch scatter: `labels` has a size-1 axis at `dim`
 * (a rank < dim+1 tensor gets trailing singleton axes first); that axis becomes `numClasses` wide.
 * Labels equal to `ignoreIndex` (if given) give an all-zero column; other out-of-range labels throw
 * (torch raises "index out of bounds").
 */
export function oneHot(labels: Tensor, numClasses: number, dim = 1, ignoreIndex: number | null = null): Tensor {
  let lab = labels;
  if (lab.shape.length < dim + 1) {
    lab = { shape: [...lab.shape, ...new Array<number>(dim + 1 - lab.shape.length).fill(1)], data: lab.data };
  }
  if (lab.shape[dim] !== 1) {
    throw new Error(
      `one_hot: labels should have a channel with length equal to one (got shape [${labels.shape.join(', ')}])`,
    );
  }
  const outShape = [...lab.shape];
  outShape[dim] = numClasses;
  const out = tensor(outShape);
  for (let i = 0; i < lab.data.length; i++) {
    const idx = unravel(lab.shape, i);
    const raw = lab.data[i];
    if (ignoreIndex !== null && raw === ignoreIndex) continue;
    const c = labelOf(raw);
    if (c < 0 || c >= numClasses) {
      throw new Error(`one_hot: label ${raw} out of range for ${numClasses} classes`);
    }
    idx[dim] = c;
    out.data[offsetOf(outShape, idx)] = 1;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reductions
// ---------------------------------------------------------------------------------------------

export type Reduction = 'none' | 'mean' | 'sum';

export function reduce(t: Tensor, reduction: Reduction): Tensor {
  if (reduction === 'none') return t;
  if (reduction === 'sum') return scalar(sumAll(t));
  return scalar(sumAll(t) / t.data.length);
}

/** Axes 2 .. rank-1 (the spatial axes of an (N, C, ...) tensor), plus 0 if `withBatch`. */
export function spatialAxes(rank: number, withBatch: boolean): number[] {
  const axes: number[] = withBatch ? [0] : [];
  for (let a = 2; a < rank; a++) axes.push(a);
  return axes;
}

// ---------------------------------------------------------------------------------------------
// MONAI compute_tp_fp_fn (monai/losses/utils.py)
// ---------------------------------------------------------------------------------------------

export interface TpFpFn {
  tp: Tensor;
  fp: Tensor;
  fn: Tensor;
}

/**
 * - ord == 1 and not soft_label: tp = Σ p·g; decoupled: fp = Σp − tp, fn = Σg − tp;
 *   not decoupled (Tversky): fp = Σ p(1−g), fn = Σ (1−p)g.
 * - otherwise: P = Σ|p|^ord, G = Σ|g|^ord, D = Σ|p−g|^ord; tp = (P+G−D)/2, fp = P − tp, fn = G − tp.
 */
export function computeTpFpFn(
  p: Tensor,
  g: Tensor,
  axes: readonly number[],
  ord: number,
  softLabel: boolean,
  decoupled = true,
): TpFpFn {
  if (ord === 1 && !softLabel) {
    const tp = sumAxes(
      zip(p, g, (x, y) => x * y),
      axes,
    );
    if (decoupled) {
      const sp = sumAxes(p, axes);
      const sg = sumAxes(g, axes);
      return {
        tp,
        fp: zip(sp, tp, (a, b) => a - b),
        fn: zip(sg, tp, (a, b) => a - b),
      };
    }
    return {
      tp,
      fp: sumAxes(
        zip(p, g, (x, y) => x * (1 - y)),
        axes,
      ),
      fn: sumAxes(
        zip(p, g, (x, y) => (1 - x) * y),
        axes,
      ),
    };
  }
  const P = sumAxes(
    map(p, (x) => Math.abs(x) ** ord),
    axes,
  );
  const G = sumAxes(
    map(g, (x) => Math.abs(x) ** ord),
    axes,
  );
  const D = sumAxes(
    zip(p, g, (x, y) => Math.abs(x - y) ** ord),
    axes,
  );
  const tp = tensor(P.shape);
  const fp = tensor(P.shape);
  const fn = tensor(P.shape);
  for (let i = 0; i < tp.data.length; i++) {
    tp.data[i] = (P.data[i] + G.data[i] - D.data[i]) / 2;
    fp.data[i] = P.data[i] - tp.data[i];
    fn.data[i] = G.data[i] - tp.data[i];
  }
  return { tp, fp, fn };
}

// ---------------------------------------------------------------------------------------------
// torch.nn.CrossEntropyLoss / BCEWithLogitsLoss (float64)
// ---------------------------------------------------------------------------------------------

export interface CrossEntropyOptions {
  weight?: number[] | null;
  reduction?: Reduction;
  labelSmoothing?: number;
  ignoreIndex?: number;
}

/**
 * torch.nn.functional.cross_entropy on logits (N, C, ...).
 * - class-index target (N, ...): l_n = −w_{y_n} log_softmax(x_n)[y_n]; mean = Σ l_n / Σ w_{y_n} over non-ignored;
 *   label_smoothing ε: (1−ε)·nll + (ε/C)·smooth, smooth_n = −Σ_c w_c log_softmax(x_n)[c] (same normaliser).
 * - probability target (N, C, ...): t' = t(1−ε) + ε/C; l_n = −Σ_c w_c t'_c log_softmax(x_n)[c];
 *   mean = Σ l_n / (numel / C).
 * 'none' returns the (N, ...) per-position losses.
 */
export function crossEntropy(logits: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const reduction = opts.reduction ?? 'mean';
  const eps = opts.labelSmoothing ?? 0;
  const ignoreIndex = opts.ignoreIndex ?? -100;
  const weight = opts.weight ?? null;
  const C = logits.shape[1];
  if (weight !== null && weight.length !== C) {
    throw new Error(`cross_entropy: weight has ${weight.length} entries for ${C} classes`);
  }
  const w = (c: number): number => (weight === null ? 1 : weight[c]);
  const ls = logSoftmax(logits, 1);
  const outShape = [logits.shape[0], ...logits.shape.slice(2)];
  const perPos = tensor(outShape);
  const probTarget = target.shape.length === logits.shape.length;
  const spatial = numel(logits.shape.slice(2));
  const lsAt = (b: number, c: number, s: number): number => ls.data[(b * C + c) * spatial + s];

  if (probTarget) {
    if (target.shape.some((d, i) => d !== logits.shape[i])) {
      throw new Error(`cross_entropy: target shape [${target.shape}] does not match input [${logits.shape}]`);
    }
    for (let b = 0; b < logits.shape[0]; b++) {
      for (let s = 0; s < spatial; s++) {
        let l = 0;
        for (let c = 0; c < C; c++) {
          const t = target.data[(b * C + c) * spatial + s];
          const ts = eps > 0 ? t * (1 - eps) + eps / C : t;
          l -= w(c) * ts * lsAt(b, c, s);
        }
        perPos.data[b * spatial + s] = l;
      }
    }
    if (reduction === 'none') return perPos;
    if (reduction === 'sum') return scalar(sumAll(perPos));
    return scalar(sumAll(perPos) / (numel(logits.shape) / C));
  }

  if (target.data.length !== perPos.data.length) {
    throw new Error(`cross_entropy: class-index target shape [${target.shape}] does not match input [${logits.shape}]`);
  }
  let nllSum = 0;
  let smoothSum = 0;
  let weightSum = 0;
  for (let b = 0; b < logits.shape[0]; b++) {
    for (let s = 0; s < spatial; s++) {
      const raw = target.data[b * spatial + s];
      if (raw === ignoreIndex) continue;
      const y = labelOf(raw);
      if (y < 0 || y >= C) throw new Error(`cross_entropy: target ${raw} out of bounds for ${C} classes`);
      const nll = -w(y) * lsAt(b, y, s);
      let smooth = 0;
      for (let c = 0; c < C; c++) smooth -= w(c) * lsAt(b, c, s);
      perPos.data[b * spatial + s] = (1 - eps) * nll + (eps / C) * smooth;
      nllSum += nll;
      smoothSum += smooth;
      weightSum += w(y);
    }
  }
  if (reduction === 'none') return perPos;
  if (reduction === 'sum') return scalar((1 - eps) * nllSum + (eps / C) * smoothSum);
  return scalar((1 - eps) * (nllSum / weightSum) + (eps / C) * (smoothSum / weightSum));
}

/**
 * torch.nn.BCEWithLogitsLoss(weight, pos_weight, reduction):
 * l = −w·[pw·t·logσ(x) + (1−t)·logσ(−x)], with `pos_weight` broadcast against the LAST axis (torch rule).
 */
export function bceWithLogits(
  x: Tensor,
  t: Tensor,
  opts: { posWeight?: number[] | null; weight?: Tensor | null; reduction?: Reduction } = {},
): Tensor {
  const reduction = opts.reduction ?? 'mean';
  const pw = opts.posWeight ?? null;
  let loss = zip(x, t, (xv, tv) => -(tv * logSigmoid(xv) + (1 - tv) * logSigmoid(-xv)));
  if (pw !== null) {
    const pwT = tensor([pw.length], pw);
    const posPart = zip(
      zip(x, t, (xv, tv) => -tv * logSigmoid(xv)),
      pwT,
      (a, w) => a * w,
    );
    const negPart = zip(x, t, (xv, tv) => -(1 - tv) * logSigmoid(-xv));
    loss = zip(posPart, negPart, (a, b) => a + b);
  }
  if (opts.weight) loss = zip(loss, opts.weight, (a, w) => a * w);
  return reduce(loss, reduction);
}
