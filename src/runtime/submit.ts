import { describe, hostInputError, isBufferArg, submitError, type BufferArg } from './caller-buffers.js';
import type { DiceEngine } from '../engine.js';
import { describeValue, ownOptions, WgslDiceError } from '../core/errors.js';

/**
 * The host side of `compute()` and `readStatus()`, shared by every loss: one submit inside an
 * error scope, one readback, and the input problems the passes counted. The encode path never
 * comes here.
 */

/** Used by clDice, which has its own runtime (the other losses stage through src/program/runtime.ts). */
type TypedArrayConstructor =
  | Float32ArrayConstructor
  | Uint8ArrayConstructor
  | Uint16ArrayConstructor
  | Uint32ArrayConstructor;

/**
 * A host array written into `staging` (padded to whole words, as writeBuffer needs), or a
 * caller's buffer passed through; anything else is a typed error that names what was wrong.
 */
export function stageInput(
  device: GPUDevice,
  name: string,
  input: unknown,
  staging: GPUBuffer,
  types: readonly TypedArrayConstructor[],
  length: number,
  dims: readonly number[],
): BufferArg {
  if (ArrayBuffer.isView(input) && !(input instanceof DataView)) {
    if (!types.some((type) => input instanceof type)) {
      if (types.length === 1 && types[0] === Float32Array) throw hostInputError(name, input);
      throw new WgslDiceError(
        'INVALID_DTYPE',
        `${name} must be a ${types.map((t) => t.name).join(' or ')} for this loss, got ${describe(input)}.`,
      );
    }
    const array = input as Float32Array;
    if (array.length !== length) {
      throw new WgslDiceError(
        'SHAPE_MISMATCH',
        `${name} has ${array.length} elements but shape ${JSON.stringify(dims)} needs ${length}.`,
      );
    }
    const bytes = new Uint8Array(Math.ceil(array.byteLength / 4) * 4);
    bytes.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
    device.queue.writeBuffer(staging, 0, bytes);
    return staging;
  }
  if (isBufferArg(input)) return input;
  throw hostInputError(name, input);
}

/**
 * The arguments of a compute() call, checked and copied when the call is made, before any await:
 * the options object (own known keys only; `grad` must be a boolean) and every host typed array
 * (pred, target, options.mask). compute() calls of one loss queue behind each other, so without
 * the copy a caller that refills its arrays after calling compute() would change what a queued
 * call computes.
 */
export function snapshotCompute<P, T, O extends object>(
  pred: P,
  target: T,
  options: O,
  known: readonly string[],
): { pred: P; target: T; options: Partial<O> } {
  if (typeof options !== 'object' || options === null) {
    throw new WgslDiceError('INVALID_OPTION', `compute() options must be an object like { grad: true }, got ${describeValue(options)}.`);
  }
  const copy = ownOptions<O>('compute() option', options, known) as Partial<O> & { grad?: unknown; mask?: unknown };
  if (copy.grad !== undefined && typeof copy.grad !== 'boolean') {
    throw new WgslDiceError('INVALID_OPTION', `grad must be true or false, got ${describeValue(copy.grad)}.`);
  }
  if (copy.mask !== undefined) copy.mask = snapshotArray(copy.mask);
  return { pred: snapshotArray(pred), target: snapshotArray(target), options: copy };
}

function snapshotArray<V>(value: V): V {
  return ArrayBuffer.isView(value) && !(value instanceof DataView) ? ((value as unknown as Uint8Array).slice() as V) : value;
}

/**
 * Records `record` into a fresh encoder, submits it inside a validation error scope and maps
 * `readback`: a copy of its bytes comes back. A rejected submit names a destroyed caller
 * buffer when that was the cause; a loss destroyed or a device lost meanwhile rejects with
 * ENGINE_DESTROYED or DEVICE_LOST rather than a bare WebGPU error.
 */
export async function submitAndRead(options: {
  engine: DiceEngine;
  label: string;
  record: (encoder: GPUCommandEncoder) => void;
  readback: GPUBuffer;
  callerBuffers: Readonly<Record<string, unknown>>;
  assertUsable: () => void;
}): Promise<ArrayBuffer> {
  const { engine, readback, assertUsable } = options;
  const device = engine.device;
  device.pushErrorScope('validation');
  try {
    const encoder = device.createCommandEncoder({ label: options.label });
    options.record(encoder);
    device.queue.submit([encoder.finish()]);
  } catch (error) {
    // Leave the caller's error-scope stack as it was, even when recording rejects the call.
    void device.popErrorScope();
    throw error;
  }
  const error = await device.popErrorScope();
  if (error) throw await submitError(device, error, options.callerBuffers);
  assertUsable(); // destroy() may have come while the error scope was settling
  try {
    await engine._whileDeviceAlive(readback.mapAsync(GPUMapMode.READ));
  } catch (mapError) {
    // destroy() during the wait aborts the mapping: report that, not the bare DOMException.
    assertUsable();
    throw mapError;
  }
  const bytes = readback.getMappedRange().slice(0);
  readback.unmap();
  return bytes;
}

/**
 * Bytes of every loss's status buffer: 12 u32. Words 0-3 count the input faults the passes
 * found (labels out of range, non-finite pred, target and mask values), words 4-7 hold the
 * first global index of each (0xffffffff if none: see shaders/lib/faults.wgsl), words 8-11 the
 * f32 bits of the loss and, where the loss has them, its Dice, cross-entropy and focal parts.
 */
export const STATUS_BYTES = 48;

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
const NEAR_F32_LIMIT = 3.4028234663852886e38 / 4;

/**
 * Throws NON_FINITE_INPUT when a loss whose inputs were all finite (no fault counted) came out
 * NaN or infinite because they were too large: some group sum `sums` is past f32's range or
 * within a factor 4 of it (3e38 doubled in 2·tp). A non-finite loss from small sums (0/0 of an
 * empty group with no smoothing, MONAI's metric NaN) is left to the callers' own checks.
 */
export function rejectOverflow(loss: number, sums: readonly ArrayLike<number>[]): void {
  if (Number.isFinite(loss)) return;
  const overflowing = sums.some((column) => Array.prototype.some.call(column, (v: number) => !(Math.abs(v) <= NEAR_F32_LIMIT)));
  if (!overflowing) return;
  throw new WgslDiceError(
    'NON_FINITE_INPUT',
    `The loss came out ${loss} although every input value is finite: values this large (near f32's limit, 3.4e38) ` +
      'overflow f32 in the sums (Σp·t, Σp + Σt, Σp²). Rescale pred and target, or pass logits with an activation.',
  );
}

/** Copies a status buffer back (for the encode path, after the caller's submit). */
export async function readStatusBuffer(
  engine: DiceEngine,
  label: string,
  statusBuffer: GPUBuffer,
  readback: GPUBuffer,
  assertUsable: () => void,
): Promise<InputStatus> {
  const bytes = await submitAndRead({
    engine,
    label,
    record: (encoder) => encoder.copyBufferToBuffer(statusBuffer, 0, readback, 0, STATUS_BYTES),
    readback,
    callerBuffers: {},
    assertUsable,
  });
  return decodeStatus(new Uint32Array(bytes, 0, STATUS_BYTES / 4));
}
