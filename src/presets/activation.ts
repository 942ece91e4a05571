// The activation a peer takes as a callable (MONAI other_act, nnU-Net apply_nonlin): the named
// ones run inside the GPU passes; any other (a JavaScript function, or a name the kernels have no
// mode for) runs on the host in evaluate() only, and create() rejects it with NOT_SUPPORTED.

import { WgslDiceError } from '../core/errors.js';
import { parseActivation } from '../peers/activation.js';
import { type Tensor, tensor } from '../peers/tensor.js';
import { optionGuard } from './common.js';

export type KernelActivation = 'none' | 'sigmoid' | 'softmax' | 'tanh';

/**
 * A JavaScript activation: called with the channel-first input (float64, flat) and its shape,
 * returns the activated values (same length).
 */
export type ActivationFunction = (data: Float64Array, shape: readonly number[]) => ArrayLike<number>;

/** The names the kernels run, in the string forms the peers' callables take. */
const KERNEL_NAMES: Record<string, KernelActivation> = {
  tanh: 'tanh',
  sigmoid: 'sigmoid',
  softmax: 'softmax',
  softmax_helper_dim1: 'softmax',
  identity: 'none',
};

/**
 * "torch.tanh", "torch.sigmoid", "lambda x: torch.softmax(x, dim=1)", "softmax_helper_dim1",
 * "nn.Identity()" ... → the kernels' activation; null for anything else (softmax over a dim
 * other than the channels included).
 */
export function kernelActivation(spec: unknown): KernelActivation | null {
  if (typeof spec !== 'string') return null;
  const s = spec.replace(/\s+/g, '').replace(/^lambda[a-z_]*:/, '');
  const m =
    /^(?:torch\.nn\.functional\.|torch\.nn\.|torch\.|nn\.functional\.|F\.|nn\.)?([A-Za-z_0-9]+)(?:\(([^()]*)\))?$/.exec(
      s,
    );
  if (m === null) return null;
  const name = m[1].toLowerCase();
  const kind = KERNEL_NAMES[name];
  if (kind !== 'softmax') return kind ?? null;
  // softmax(x, dim=1), softmax(dim=1), softmax(x, 1) or plain softmax: over the channels.
  const dims = (m[2] ?? '')
    .split(',')
    .map((a) => a.replace(/^dim=/, ''))
    .filter((a) => /^-?\d+$/.test(a));
  return dims.length === 0 || (dims.length === 1 && dims[0] === '1') ? 'softmax' : null;
}

/** The host form of an activation the kernels do not run (evaluate only). */
export function hostActivation(api: string, spec: unknown): (t: Tensor) => Tensor {
  if (typeof spec === 'function') {
    const fn = spec as ActivationFunction;
    return (t) => {
      const out = fn(Float64Array.from(t.data), [...t.shape]);
      if (out == null || out.length !== t.data.length) {
        throw new WgslDiceError(
          'INVALID_OPTION',
          `${api}: the activation function must return ${t.data.length} values, one per input element.`,
        );
      }
      return tensor([...t.shape], Float64Array.from(out));
    };
  }
  if (typeof spec !== 'string') {
    throw new WgslDiceError(
      'INVALID_OPTION',
      `${api}: an activation must be a name (e.g. "torch.tanh") or a function, got ${JSON.stringify(spec)}.`,
    );
  }
  return optionGuard(() => parseActivation(spec));
}

/** create()'s answer to an activation only the host runs. */
export function hostOnlyActivation(api: string, option: string, spec: unknown): never {
  const what = typeof spec === 'function' ? 'a JavaScript function' : `'${String(spec)}'`;
  throw new WgslDiceError(
    'NOT_SUPPORTED',
    `${api}: ${option}=${what} runs on the host only (evaluate()); the GPU path runs tanh, sigmoid, softmax over ` +
      `the channels (dim=1) and identity in its kernels. Pass one of those (e.g. "torch.tanh"), or apply the ` +
      `activation yourself and create the loss with ${option}=None.`,
  );
}
