// Storage layouts as the peers' callers name them ("NCHW", "NHWC", "NDHWC", ...).

import { type Tensor, moveAxis } from './tensor.js';

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
