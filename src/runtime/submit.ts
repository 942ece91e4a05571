import { WgslDiceError } from '../core/errors.js';
import { describeValue, ownOptions } from '../core/validate.js';
import { submitError } from './caller-buffers.js';
import type { LossHost } from './host.js';
import { sleep, type RunPacing } from './pacing.js';

/**
 * The host side of `compute()`, shared by every loss: the call's arguments copied when it is
 * made, and one submit inside an error scope with one readback. The encode path never comes
 * here. What the passes report back is read in ./status.ts.
 */

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
    throw new WgslDiceError(
      'INVALID_OPTION',
      `compute() options must be an object like { grad: true }, got ${describeValue(options)}.`,
    );
  }
  const copy = ownOptions<O>('compute() option', options, known) as Partial<O> & { grad?: unknown; mask?: unknown };
  if (copy.grad !== undefined && typeof copy.grad !== 'boolean') {
    throw new WgslDiceError('INVALID_OPTION', `grad must be true or false, got ${describeValue(copy.grad)}.`);
  }
  if (copy.mask !== undefined) copy.mask = snapshotArray(copy.mask);
  return { pred: snapshotArray(pred), target: snapshotArray(target), options: copy };
}

function snapshotArray<V>(value: V): V {
  return ArrayBuffer.isView(value) && !(value instanceof DataView)
    ? ((value as unknown as Uint8Array).slice() as V)
    : value;
}

/**
 * Records `record` into a fresh encoder, submits it inside a validation error scope and maps
 * `readback`: a copy of its bytes comes back. A rejected submit names a destroyed caller
 * buffer when that was the cause; a loss destroyed or a device lost meanwhile rejects with
 * ENGINE_DESTROYED or DEVICE_LOST rather than a bare WebGPU error.
 */
export async function submitAndRead(options: {
  host: LossHost;
  label: string;
  record: (encoder: GPUCommandEncoder) => void;
  readback: GPUBuffer;
  callerBuffers: Readonly<Record<string, unknown>>;
  assertUsable: () => void;
  /** The calling loss's pacing: the host sleeps through most of the run before awaiting it. */
  pacing?: RunPacing;
}): Promise<ArrayBuffer> {
  const { host, readback, assertUsable } = options;
  const device = host.device;
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
  const submitted = performance.now();
  const error = await device.popErrorScope();
  if (error) throw await submitError(device, error, options.callerBuffers);
  assertUsable(); // destroy() may have come while the error scope was settling
  const rest = (options.pacing?.sleepMs ?? 0) - (performance.now() - submitted);
  if (rest > 0) {
    await sleep(rest);
    assertUsable();
  }
  const awaited = performance.now();
  try {
    await host._whileDeviceAlive(readback.mapAsync(GPUMapMode.READ));
  } catch (mapError) {
    // destroy() during the wait aborts the mapping: report that, not the bare DOMException.
    assertUsable();
    throw mapError;
  }
  options.pacing?.record(awaited - submitted, performance.now() - awaited);
  const bytes = readback.getMappedRange().slice(0);
  readback.unmap();
  return bytes;
}
