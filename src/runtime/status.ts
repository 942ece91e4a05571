import { WgslDiceError } from '../core/errors.js';
import { F32_MAX, STATUS_BYTES } from '../core/limits.js';
import type { LossHost } from './host.js';
import { submitAndRead } from './submit.js';

/**
 * The status protocol every loss program shares with its kernels (shaders/lib/faults.wgsl,
 * lib/fault_fold.wgsl; the layout is {@link STATUS_BYTES}'s): what the passes counted wrong in
 * their input, decoded and turned into typed errors.
 */

/** What the passes found wrong in their input (see `statusBuffer`). */
export interface InputStatus {
  /** Label-map voxels whose label is >= C (and not ignoreIndex); they match no class. */
  badLabels: number;
  firstBadLabelVoxel: number | null;
  /** pred elements that are NaN or infinite. */
  nonFinite: number;
  firstNonFiniteElement: number | null;
  /** Dense target elements that are NaN or infinite. */
  nonFiniteTarget: number;
  firstNonFiniteTargetElement: number | null;
  /** Mask values that are NaN or infinite (a mask shared by the batch counts once). */
  nonFiniteMask: number;
  firstNonFiniteMaskIndex: number | null;
}

const NONE = 0xffffffff;

/** The fault words of a status buffer. */
export function decodeStatus(words: Uint32Array): InputStatus {
  const first = (k: number) => (words[k] > 0 && words[k + 4] !== NONE ? words[k + 4] : null);
  return {
    badLabels: words[0],
    firstBadLabelVoxel: first(0),
    nonFinite: words[1],
    firstNonFiniteElement: first(1),
    nonFiniteTarget: words[2],
    firstNonFiniteTargetElement: first(2),
    nonFiniteMask: words[3],
    firstNonFiniteMaskIndex: first(3),
  };
}

/**
 * Throws LABEL_OUT_OF_RANGE or NON_FINITE_INPUT when the passes counted bad input. `predHint`
 * follows "are NaN or infinite" when pred values were counted (what else makes a pred value so).
 */
export function rejectBadInput(status: InputStatus, classes: number, labelHint: string, predHint = ''): void {
  if (status.badLabels > 0) {
    throw new WgslDiceError(
      'LABEL_OUT_OF_RANGE',
      `${status.badLabels} label-map voxel(s) hold a label >= C = ${classes} ` +
        `(first at voxel ${status.firstBadLabelVoxel}); ${labelHint}`,
    );
  }
  const found = [
    [status.nonFinite, 'pred element', status.firstNonFiniteElement],
    [status.nonFiniteTarget, 'target element', status.firstNonFiniteTargetElement],
    [status.nonFiniteMask, 'mask value', status.firstNonFiniteMaskIndex],
  ] as const;
  const bad = found.filter(([count]) => count > 0);
  if (bad.length > 0) {
    throw new WgslDiceError(
      'NON_FINITE_INPUT',
      `${bad.map(([count, what, first]) => `${count} ${what}(s) (first at ${what.split(' ')[1]} ${first})`).join(', ')} ` +
        `are NaN or infinite${status.nonFinite > 0 ? predHint : ''}; the loss would be NaN. Check the inputs for overflow or uninitialised memory.`,
    );
  }
}

/** A quarter of f32's largest value: a sum beyond it overflows once doubled or added to. */
const NEAR_F32_LIMIT = F32_MAX / 4;

/**
 * Throws NON_FINITE_INPUT when a loss whose inputs were all finite (no fault counted) came out
 * NaN or infinite because they were too large: some group sum `sums` is past f32's range or
 * within a factor 4 of it (3e38 doubled in 2·tp). A non-finite loss from small sums (0/0 of an
 * empty group with no smoothing, MONAI's metric NaN) is left to the callers' own checks.
 */
export function rejectOverflow(loss: number, sums: readonly ArrayLike<number>[]): void {
  if (Number.isFinite(loss)) return;
  const overflowing = sums.some((column) =>
    Array.prototype.some.call(column, (v: number) => !(Math.abs(v) <= NEAR_F32_LIMIT)),
  );
  if (!overflowing) return;
  throw new WgslDiceError(
    'NON_FINITE_INPUT',
    `The loss came out ${loss} although every input value is finite: values this large (near f32's limit, 3.4e38) ` +
      'overflow f32 in the sums (Σp·t, Σp + Σt, Σp²). Rescale pred and target, or pass logits with an activation.',
  );
}

/** Copies a status buffer back (for the encode path, after the caller's submit). */
export async function readStatusBuffer(
  host: LossHost,
  label: string,
  statusBuffer: GPUBuffer,
  readback: GPUBuffer,
  assertUsable: () => void,
): Promise<InputStatus> {
  const bytes = await submitAndRead({
    host,
    label,
    record: (encoder) => encoder.copyBufferToBuffer(statusBuffer, 0, readback, 0, STATUS_BYTES),
    readback,
    callerBuffers: {},
    assertUsable,
  });
  return decodeStatus(new Uint32Array(bytes, 0, STATUS_BYTES / 4));
}
