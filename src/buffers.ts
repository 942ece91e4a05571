import { WgslDiceError } from './errors.js';

/** A caller's buffer, whole or from an offset. */
export type BufferArg = GPUBuffer | { buffer: GPUBuffer; offset?: number };

/** A checked storage binding: exactly the bytes a kernel may touch. */
export interface Binding {
  readonly buffer: GPUBuffer;
  readonly offset: number;
  readonly size: number;
}

export function isGpuBuffer(value: unknown): value is GPUBuffer {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as GPUBuffer).usage === 'number' &&
    typeof (value as GPUBuffer).size === 'number' &&
    typeof (value as GPUBuffer).mapAsync === 'function'
  );
}

export function isBufferArg(value: unknown): value is BufferArg {
  return (
    isGpuBuffer(value) ||
    (typeof value === 'object' && value !== null && isGpuBuffer((value as { buffer?: unknown }).buffer))
  );
}

/**
 * Checks a caller's buffer against what a kernel needs (usage, size, offset alignment, the
 * device's binding limit) and returns the exact binding. Nothing is clamped: a buffer that
 * does not fit is an error that says which buffer and how to fix it.
 */
export function bindStorage(
  device: GPUDevice,
  name: string,
  arg: unknown,
  byteLength: number,
): Binding {
  if (!isBufferArg(arg)) {
    throw new WgslDiceError(
      'INVALID_INPUT',
      `${name} must be a GPUBuffer or { buffer: GPUBuffer, offset? }, got ${describe(arg)}.`,
    );
  }
  const buffer = isGpuBuffer(arg) ? arg : arg.buffer;
  const offset = isGpuBuffer(arg) ? 0 : (arg.offset ?? 0);
  if ((buffer.usage & GPUBufferUsage.STORAGE) === 0) {
    throw new WgslDiceError(
      'BUFFER_USAGE',
      `${name} buffer${label(buffer)} lacks GPUBufferUsage.STORAGE; create it with ` +
        `usage including STORAGE (and COPY_SRC / COPY_DST if you read it back or upload to it).`,
    );
  }
  const alignment = device.limits.minStorageBufferOffsetAlignment;
  if (!Number.isInteger(offset) || offset < 0 || offset % alignment !== 0) {
    throw new WgslDiceError(
      'MISALIGNED_OFFSET',
      `${name} offset ${offset} must be a non-negative multiple of ${alignment} ` +
        `(this device's minStorageBufferOffsetAlignment).`,
    );
  }
  if (offset + byteLength > buffer.size) {
    throw new WgslDiceError(
      'BUFFER_TOO_SMALL',
      `${name} buffer${label(buffer)} holds ${buffer.size - Math.min(offset, buffer.size)} bytes ` +
        `from offset ${offset}, but this loss needs ${byteLength}; allocate at least ` +
        `${offset + byteLength} bytes.`,
    );
  }
  if (byteLength > device.limits.maxStorageBufferBindingSize) {
    throw new WgslDiceError(
      'BINDING_TOO_LARGE',
      `${name} needs a ${byteLength}-byte binding but this device allows ` +
        `${device.limits.maxStorageBufferBindingSize}; request a higher maxStorageBufferBindingSize ` +
        `(requestNodeDevice does) or split the batch.`,
    );
  }
  return { buffer, offset, size: byteLength };
}

function label(buffer: GPUBuffer): string {
  return buffer.label ? ` "${buffer.label}"` : '';
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name} of length ${(value as unknown as ArrayLike<number>).length}`;
  if (typeof value === 'object') return `an object with keys [${Object.keys(value as object).join(', ')}]`;
  return `${typeof value} ${String(value)}`;
}

/** Stable small ids for buffers, so bind groups can be cached by the buffers they bind. */
const bufferIds = new WeakMap<GPUBuffer, number>();
let nextBufferId = 1;

export function bindingKey(bindings: readonly (Binding | undefined)[]): string {
  return bindings
    .map((b) => {
      if (!b) return '-';
      let id = bufferIds.get(b.buffer);
      if (id === undefined) {
        id = nextBufferId++;
        bufferIds.set(b.buffer, id);
      }
      return `${id}@${b.offset}`;
    })
    .join(',');
}
