// Shared pieces of the float64 peer references: option checking, activations, one-hot, layouts,
// reductions, MONAI's compute_tp_fp_fn, and torch's cross-entropy / BCE-with-logits.
// Formulas follow docs/peer-semantics.md.

import {
  type Tensor,
  map,
  moveAxis,
  normAxis,
  numel,
  offsetOf,
  scalar,
  stridesOf,
  sumAll,
  sumAxes,
  tensor,
  unravel,
  zip,
} from './tensor.js';

// ---------------------------------------------------------------------------------------------
// Options: each library's own (snake_case) names, checked against the constructor's signature.
// ---------------------------------------------------------------------------------------------

export type OptionValue = unknown;
export type Options = Record<string, OptionValue>;

/**
 * Merged options of one API call. `null` is kept as Python's `None` (it is *not* replaced by the
 * default: e.g. Keras `reduction=None` means "no reduction", not "sum_over_batch_size").
 */
export class Opts {
  readonly values: Options;
  constructor(
    readonly api: string,
    given: Options | null | undefined,
    defaults: Options,
  ) {
    const values: Options = { ...defaults };
    for (const [key, value] of Object.entries(given ?? {})) {
      if (!Object.prototype.hasOwnProperty.call(defaults, key)) {
        throw new Error(
          `${api}: unknown option '${key}'. Valid options are: ${Object.keys(defaults).join(', ')}`,
        );
      }
      if (value !== undefined) values[key] = value;
    }
    this.values = values;
  }

  private bad(key: string, what: string): never {
    throw new Error(`${this.api}: option '${key}' must be ${what}, got ${JSON.stringify(this.values[key])}`);
  }

  raw(key: string): OptionValue {
    if (!(key in this.values)) throw new Error(`${this.api}: internal error, no option '${key}'`);
    return this.values[key];
  }

  isNone(key: string): boolean {
    return this.raw(key) === null;
  }

  bool(key: string): boolean {
    const v = this.raw(key);
    if (typeof v === 'boolean') return v;
    if (v === 0 || v === 1) return v === 1;
    return this.bad(key, 'a boolean');
  }

  num(key: string): number {
    const v = this.raw(key);
    if (typeof v === 'number') return v;
    if (typeof v === 'boolean') return v ? 1 : 0;
    return this.bad(key, 'a number');
  }

  numOrNull(key: string): number | null {
    return this.raw(key) === null ? null : this.num(key);
  }

  str(key: string): string {
    const v = this.raw(key);
    if (typeof v === 'string') return v;
    return this.bad(key, 'a string');
  }

  strOrNull(key: string): string | null {
    return this.raw(key) === null ? null : this.str(key);
  }

  /** A number or a (flat) list of numbers, or null. */
  numOrList(key: string): number | number[] | null {
    const v = this.raw(key);
    if (v === null) return null;
    if (typeof v === 'number') return v;
    if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return v as number[];
    return this.bad(key, 'a number, a list of numbers or null');
  }

  /** An int, a list of ints, or null (axis / dims / classes style). */
  intsOrNull(key: string): number[] | null {
    const v = this.raw(key);
    if (v === null) return null;
    if (typeof v === 'number' && Number.isInteger(v)) return [v];
    if (Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isInteger(x))) return v as number[];
    return this.bad(key, 'an integer, a list of integers or null');
  }

  /** A nested numeric matrix (list of lists). */
  matrix(key: string): number[][] {
    const v = this.raw(key);
    if (Array.isArray(v) && v.every((row) => Array.isArray(row) && row.every((x) => typeof x === 'number'))) {
      return v as number[][];
    }
    return this.bad(key, 'a matrix (list of lists of numbers)');
  }

  dict(key: string): Options {
    const v = this.raw(key);
    if (v === null) return {};
    if (typeof v === 'object' && !Array.isArray(v)) return v as Options;
    return this.bad(key, 'an object of keyword arguments');
  }

  oneOf<T extends string>(key: string, allowed: readonly T[]): T {
    const v = this.raw(key);
    if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
    return this.bad(key, `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Scalar activations (numerically stable float64 forms)
// ---------------------------------------------------------------------------------------------

export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)). */
export function logSigmoid(x: number): number {
  return Math.min(x, 0) - Math.log1p(Math.exp(-Math.abs(x)));
}

// ---------------------------------------------------------------------------------------------
// Tensor activations along an axis
// ---------------------------------------------------------------------------------------------

/** Calls `f` on each 1-D fibre of `t` along `axis`; `f` returns the replacement fibre. */
function mapFibres(t: Tensor, axis: number, f: (fibre: number[]) => number[]): Tensor {
  const a = normAxis(axis, t.shape.length);
  const stride = stridesOf(t.shape)[a];
  const n = t.shape[a];
  const out = tensor(t.shape);
  const outer = numel(t.shape.slice(0, a));
  const inner = stride;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      const fibre: number[] = [];
      for (let k = 0; k < n; k++) fibre.push(t.data[base + k * stride]);
      const res = f(fibre);
      for (let k = 0; k < n; k++) out.data[base + k * stride] = res[k];
    }
  }
  return out;
}

export function logSoftmax(t: Tensor, axis = 1): Tensor {
  return mapFibres(t, axis, (v) => {
    const m = Math.max(...v);
    let s = 0;
    for (const x of v) s += Math.exp(x - m);
    const lse = m + Math.log(s);
    return v.map((x) => x - lse);
  });
}

export function softmax(t: Tensor, axis = 1): Tensor {
  return mapFibres(t, axis, (v) => {
    const m = Math.max(...v);
    const e = v.map((x) => Math.exp(x - m));
    let s = 0;
    for (const x of e) s += x;
    return e.map((x) => x / s);
  });
}

export const sigmoidT = (t: Tensor): Tensor => map(t, sigmoid);

/**
 * Activation given by name, as the vectors encode Python callables: "tanh", "sigmoid", "torch.tanh",
 * "softmax(dim=1)", "log_softmax(dim=1)", "F.logsigmoid", "relu", "exp", "identity", also written as
 * "lambda x: torch.log_softmax(x, dim=1)" or "torch.softmax(x, 1)".
 * softmax / log_softmax default to dim=1 (the class axis) when no dim is written.
 */
export function parseActivation(spec: string): (t: Tensor) => Tensor {
  const s = spec.replace(/\s+/g, '').replace(/^lambda[a-z_]*:/, '');
  const m = /^(?:torch\.nn\.functional\.|torch\.|nn\.functional\.|F\.|nn\.)?([A-Za-z_0-9]+)(?:\(([^()]*)\))?$/.exec(s);
  if (m === null) throw new Error(`unknown activation '${spec}'`);
  const args = (m[2] ?? '').split(',').filter((a) => a !== '' && !/^[a-z_]+$/.test(a)); // drop the tensor argument
  const dimArg = args.map((a) => a.replace(/^dim=/, '')).find((a) => /^-?\d+$/.test(a));
  const dim = dimArg === undefined ? 1 : Number(dimArg);
  const name = m[1].toLowerCase();
  switch (name) {
    case 'tanh':
      return (t) => map(t, Math.tanh);
    case 'sigmoid':
      return sigmoidT;
    case 'logsigmoid':
      return (t) => map(t, logSigmoid);
    case 'softmax':
    case 'softmax_helper_dim1':
      return (t) => softmax(t, dim);
    case 'log_softmax':
    case 'logsoftmax':
      return (t) => logSoftmax(t, dim);
    case 'relu':
      return (t) => map(t, (x) => Math.max(x, 0));
    case 'exp':
      return (t) => map(t, Math.exp);
    case 'abs':
      return (t) => map(t, Math.abs);
    case 'identity':
      return (t) => t;
    default:
      throw new Error(
        `unknown activation '${spec}' (known: tanh, sigmoid, logsigmoid, softmax(dim=k), log_softmax(dim=k), relu, exp, abs, identity)`,
      );
  }
}

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
// Layouts
// ---------------------------------------------------------------------------------------------

/**
 * Channel-first view of a tensor stored in `layout` ("NHWC", "NDHWC", "NCHW", ...): moves the 'C'
 * axis to position 1. Layouts without a 'C' axis ("flat", "NL") or already channel-first are
 * returned unchanged.
 */
export function toChannelFirst(t: Tensor, layout: string | undefined | null): Tensor {
  if (!layout) return t;
  const c = layout.indexOf('C');
  if (c < 0 || c === 1) return t;
  if (layout.length !== t.shape.length) {
    throw new Error(`layout '${layout}' does not match a tensor of rank ${t.shape.length}`);
  }
  return moveAxis(t, c, 1);
}

/** Channel-last view of a channel-first (N, C, ...) tensor. */
export function toChannelLast(t: Tensor): Tensor {
  return moveAxis(t, 1, -1);
}

/** True when the layout string puts channels last (NHWC, NDHWC, NWC). */
export function isChannelsLast(layout: string | undefined | null): boolean {
  return !!layout && layout.length > 2 && layout.endsWith('C') && layout.indexOf('C') === layout.length - 1;
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
    const tp = sumAxes(zip(p, g, (x, y) => x * y), axes);
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
      fp: sumAxes(zip(p, g, (x, y) => x * (1 - y)), axes),
      fn: sumAxes(zip(p, g, (x, y) => (1 - x) * y), axes),
    };
  }
  const P = sumAxes(map(p, (x) => Math.abs(x) ** ord), axes);
  const G = sumAxes(map(g, (x) => Math.abs(x) ** ord), axes);
  const D = sumAxes(zip(p, g, (x, y) => Math.abs(x - y) ** ord), axes);
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
    const posPart = zip(zip(x, t, (xv, tv) => -tv * logSigmoid(xv)), pwT, (a, w) => a * w);
    const negPart = zip(x, t, (xv, tv) => -(1 - tv) * logSigmoid(-xv));
    loss = zip(posPart, negPart, (a, b) => a + b);
  }
  if (opts.weight) loss = zip(loss, opts.weight, (a, w) => a * w);
  return reduce(loss, reduction);
}
