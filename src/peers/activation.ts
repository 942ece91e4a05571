// The peers' activations in float64 (numerically stable forms), and the activation options they
// take as names of Python callables ("torch.tanh", "softmax(dim=1)", ...).

import { type Tensor, map, normAxis, numel, stridesOf, tensor } from './tensor.js';

export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)). */
export function logSigmoid(x: number): number {
  return Math.min(x, 0) - Math.log1p(Math.exp(-Math.abs(x)));
}

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
