// Shared helpers for GPU tests: one real device per test process, validation made fatal,
// buffer upload/readback; re-exports the tolerance check (close.ts) and the seeded PRNG.
import { requestNodeDevice, takeUncapturedErrors } from '../../src/node/index.js';
export { mulberry32 } from '../../src/reference/random.js';
export { expectClose } from './close.js';

let testDevice: Promise<GPUDevice> | undefined;

/**
 * The device for this test process (vitest forks: one process per worker). Rejects when there
 * is no adapter, so GPU tests fail rather than skip.
 */
export function getTestDevice(): Promise<GPUDevice> {
  testDevice ??= requestNodeDevice({ label: 'wgsl-dice test device' });
  return testDevice;
}

const ERROR_FILTERS: GPUErrorFilter[] = ['validation', 'out-of-memory', 'internal'];

/**
 * Runs `fn` inside validation, out-of-memory and internal error scopes, waits for the GPU to
 * finish what was submitted, and throws if any GPU error was raised, inside the scopes or
 * uncaptured (e.g. from earlier work outside any scope).
 */
export async function withValidation<T>(device: GPUDevice, fn: () => Promise<T> | T): Promise<T> {
  for (const filter of ERROR_FILTERS) device.pushErrorScope(filter);
  let result: T | undefined;
  let failure: { error: unknown } | undefined;
  try {
    result = await fn();
    await device.queue.onSubmittedWorkDone();
  } catch (error) {
    failure = { error };
  }

  // Always pop, even after a throw, so a failing test leaves the scope stack balanced.
  const messages: string[] = [];
  for (const filter of [...ERROR_FILTERS].reverse()) {
    const error = await device.popErrorScope();
    if (error) messages.push(`${filter} error: ${error.message}`);
  }
  messages.push(...uncapturedErrorMessages(device));

  if (messages.length > 0) {
    throw new Error(`GPU errors:\n${messages.join('\n')}`, failure && { cause: failure.error });
  }
  if (failure) throw failure.error;
  return result as T;
}

/** Takes the device's uncaptured GPU errors (see takeUncapturedErrors), one line each. */
export function uncapturedErrorMessages(device: GPUDevice): string[] {
  return takeUncapturedErrors(device).map((error) => `uncaptured ${error.constructor.name}: ${error.message}`);
}

const DEFAULT_USAGE = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

const alignTo4 = (byteLength: number) => Math.ceil(byteLength / 4) * 4;

/** A buffer holding a copy of `data`; its size is rounded up to a multiple of 4 (at least 4). */
export function createBufferFrom(
  device: GPUDevice,
  data: ArrayBufferView,
  usage: GPUBufferUsageFlags = DEFAULT_USAGE(),
  label = 'test input',
): GPUBuffer {
  const buffer = device.createBuffer({
    label,
    size: Math.max(4, alignTo4(data.byteLength)),
    usage,
    mappedAtCreation: true,
  });
  new Uint8Array(buffer.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  buffer.unmap();
  return buffer;
}

/** A zero-filled buffer of `byteLength` rounded up to a multiple of 4 (at least 4). */
export function createEmptyBuffer(
  device: GPUDevice,
  byteLength: number,
  usage: GPUBufferUsageFlags = DEFAULT_USAGE(),
  label = 'test output',
): GPUBuffer {
  return device.createBuffer({ label, size: Math.max(4, alignTo4(byteLength)), usage });
}

/** Copies the first `byteLength` bytes of `buffer` (needs COPY_SRC) back to the CPU. */
export async function readBuffer(
  device: GPUDevice,
  buffer: GPUBuffer,
  byteLength: number = buffer.size,
): Promise<ArrayBuffer> {
  const copySize = alignTo4(byteLength);
  const staging = device.createBuffer({
    label: `readback of ${buffer.label || 'buffer'}`,
    size: Math.max(4, copySize),
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  try {
    const encoder = device.createCommandEncoder({ label: 'readback' });
    encoder.copyBufferToBuffer(buffer, 0, staging, 0, copySize);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    // The mapped range is detached by unmap(), so copy it out first.
    return staging.getMappedRange(0, copySize).slice(0, byteLength);
  } finally {
    staging.destroy();
  }
}
