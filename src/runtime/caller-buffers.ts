import { WgslDiceError } from '../core/errors.js';
import { ownOptions } from '../core/validate.js';

/** A caller's buffer, whole or from an offset. */
export type BufferArg = GPUBuffer | { buffer: GPUBuffer; offset?: number };

/** A checked storage binding: exactly the bytes a kernel may touch. */
export interface Binding {
  readonly buffer: GPUBuffer;
  readonly offset: number;
  readonly size: number;
}

/**
 * True for a real GPUBuffer: an instance of the `GPUBuffer` class where the platform defines one
 * (browsers, Deno, dawn.node after requestNodeDevice), so an object that only looks like a buffer
 * is an `INVALID_INPUT` error here instead of a TypeError deep inside WebGPU. Where no such global
 * exists, an object with a buffer's usage, size and mapAsync.
 */
export function isGpuBuffer(value: unknown): value is GPUBuffer {
  if (typeof value !== 'object' || value === null) return false;
  const GpuBufferClass = (globalThis as { GPUBuffer?: unknown }).GPUBuffer;
  if (typeof GpuBufferClass === 'function') return value instanceof GpuBufferClass;
  return (
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
 * Checks a caller's buffer against what a kernel needs (usage, map state, offset alignment,
 * the device's binding limit, size) and returns the exact binding. Nothing is clamped: a
 * buffer that does not fit is an error that says which buffer and how to fix it.
 *
 * A destroyed buffer cannot be recognised here. WebGPU has no `destroyed` flag (in Dawn a
 * destroyed buffer keeps its size and usage and reads `mapState === 'unmapped'`), and
 * `createBindGroup` accepts it; only the queue rejects it, at submit. `compute()` owns its
 * submit, so it names the culprit then ({@link findDestroyedBuffers}); `encode()` records into
 * the caller's encoder, so the caller's submit reports it as a WebGPU validation error.
 */
export function bindStorage(
  device: GPUDevice,
  name: string,
  arg: unknown,
  byteLength: number,
  /** The caller binds this tensor in binding windows (see src/program/grids.ts), so any size fits. */
  windowed = false,
): Binding {
  if (!isBufferArg(arg)) {
    throw new WgslDiceError(
      'INVALID_INPUT',
      `${name} must be a GPUBuffer or { buffer: GPUBuffer, offset? }, got ${describe(arg)}.`,
    );
  }
  const fields = isGpuBuffer(arg)
    ? { buffer: arg }
    : ownOptions<{ buffer: GPUBuffer; offset: number }>(`${name} binding field`, arg, ['buffer', 'offset']);
  const buffer = fields.buffer!;
  const offset = fields.offset ?? 0;
  if ((buffer.usage & GPUBufferUsage.STORAGE) === 0) {
    throw new WgslDiceError(
      'BUFFER_USAGE',
      `${name} buffer${label(buffer)} lacks GPUBufferUsage.STORAGE; create it with ` +
        `usage including STORAGE (and COPY_SRC / COPY_DST if you read it back or upload to it).`,
    );
  }
  // A storage buffer can only be mapped through mappedAtCreation; the queue rejects it until
  // it is unmapped, so say so now rather than at submit.
  if (buffer.mapState !== 'unmapped') {
    throw new WgslDiceError(
      'BUFFER_MAPPED',
      `${name} buffer${label(buffer)} is ${buffer.mapState === 'pending' ? 'being mapped' : 'mapped'}; ` +
        'call unmap() on it (after writing through getMappedRange) before passing it to wgsl-dice.',
    );
  }
  const alignment = device.limits.minStorageBufferOffsetAlignment;
  if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0 || offset % alignment !== 0) {
    throw new WgslDiceError(
      'MISALIGNED_OFFSET',
      `${name} offset ${describe(offset)} must be a non-negative integer multiple of ${alignment} ` +
        `(this device's minStorageBufferOffsetAlignment); move the data to an aligned offset.`,
    );
  }
  // Checked before the size: no buffer, however large, can be bound past this limit.
  if (!windowed && byteLength > device.limits.maxStorageBufferBindingSize) {
    throw new WgslDiceError(
      'BINDING_TOO_LARGE',
      `${name} needs a ${byteLength}-byte binding but this device allows ` +
        `${device.limits.maxStorageBufferBindingSize}; request a higher maxStorageBufferBindingSize ` +
        `(requestNodeDevice asks for the adapter's maximum) or split the batch.`,
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
  return { buffer, offset, size: byteLength };
}

/**
 * The error for host data that is not a Float32Array or a GPU buffer: `INVALID_DTYPE` for
 * arrays of the wrong element type (the kernels read f32 and never convert), `INVALID_INPUT`
 * for anything else.
 */
export function hostInputError(name: string, input: unknown): WgslDiceError {
  if (Array.isArray(input) || ArrayBuffer.isView(input) || input instanceof ArrayBuffer) {
    // Float32Array.from of nested arrays gives NaN for every row: flatten them first.
    const convert = Array.isArray(input) ? `Float32Array.from(${name}.flat(Infinity))` : `Float32Array.from(${name})`;
    return new WgslDiceError(
      'INVALID_DTYPE',
      `${name} is ${describe(input)}, but the kernels read f32: pass a Float32Array (${convert}) or a GPUBuffer ` +
        'holding f32 values.',
    );
  }
  return new WgslDiceError(
    'INVALID_INPUT',
    `${name} must be a Float32Array or a GPUBuffer (or { buffer, offset }), got ${describe(input)}.`,
  );
}

/**
 * The buffers object of an `encode()` call, checked: an object whose own keys are among `known`,
 * copied so that inherited or getter-backed fields are read once. `owned` are the loss's own
 * buffers (statusBuffer, statsBuffer): passing one as any argument but those named in `mayBeOwned`
 * is `BUFFER_OVERLAP`, since the passes write them.
 */
export function encodeBuffers<T extends object>(
  buffers: unknown,
  known: readonly string[],
  owned: Readonly<Record<string, GPUBuffer>>,
  mayBeOwned: readonly string[] = [],
): Partial<T> {
  if (typeof buffers !== 'object' || buffers === null) {
    const fields = known.map((k) => (['pred', 'target', 'loss'].includes(k) ? k : `${k}?`));
    throw new WgslDiceError(
      'INVALID_INPUT',
      `encode() needs { ${fields.join(', ')} } (GPU buffers), got ${String(buffers)}.`,
    );
  }
  const copy = ownOptions<T>('encode() buffer', buffers, known);
  for (const [name, arg] of Object.entries(copy)) {
    if (mayBeOwned.includes(name)) continue;
    const buffer = isGpuBuffer(arg) ? arg : (arg as { buffer?: unknown } | undefined)?.buffer;
    for (const [ownName, own] of Object.entries(owned)) {
      if (buffer === own) {
        throw new WgslDiceError(
          'BUFFER_OVERLAP',
          `${name} is this loss's own ${ownName}, which its passes write; pass a buffer of your own ` +
            `(copy from loss.${ownName} with copyBufferToBuffer to keep its contents).`,
        );
      }
    }
  }
  return copy;
}

/** What a set of bindings may share; names are those of `reads` and `writes`. */
export interface AliasingRules {
  /** (read, write) pairs that may overlap: the read is consumed before the write starts. */
  readonly inPlace?: readonly (readonly [string, string])[];
  /**
   * (read, write) pairs bound in one dispatch: they may not even share a buffer, since WebGPU
   * forbids a buffer being bound read-only and writable in one dispatch.
   */
  readonly sameDispatch?: readonly (readonly [string, string])[];
}

/**
 * Throws `BUFFER_OVERLAP` when an output would overwrite another output or an input, or
 * when a read and a write of one dispatch share a buffer (a WebGPU usage conflict that would
 * otherwise surface as an opaque validation error at the caller's submit).
 */
export function rejectOverlaps(
  reads: Readonly<Record<string, Binding | undefined>>,
  writes: Readonly<Record<string, Binding | undefined>>,
  rules: AliasingRules = {},
): void {
  const listed = (pairs: AliasingRules['inPlace'], r: string, w: string) =>
    (pairs ?? []).some(([a, b]) => a === r && b === w);
  const writeEntries = Object.entries(writes).filter((e): e is [string, Binding] => e[1] !== undefined);
  writeEntries.forEach(([name, binding], i) => {
    for (const [other, otherBinding] of writeEntries.slice(i + 1)) {
      if (overlaps(binding, otherBinding)) {
        throw new WgslDiceError(
          'BUFFER_OVERLAP',
          `${name} (${range(binding)}) and ${other} (${range(otherBinding)}) overlap, so one output ` +
            'would overwrite the other; give each output its own bytes.',
        );
      }
    }
    for (const [read, readBinding] of Object.entries(reads)) {
      if (!readBinding) continue;
      if (!listed(rules.inPlace, read, name) && overlaps(readBinding, binding)) {
        throw new WgslDiceError(
          'BUFFER_OVERLAP',
          `${name} (${range(binding)}) overlaps ${read} (${range(readBinding)}): writing ${name} would ` +
            `overwrite an input; give ${name} its own bytes.`,
        );
      }
      if (listed(rules.sameDispatch, read, name) && readBinding.buffer === binding.buffer) {
        throw new WgslDiceError(
          'BUFFER_OVERLAP',
          `${read} and ${name} share buffer${label(binding.buffer)}: one kernel reads ${read} while ` +
            `writing ${name}, and WebGPU forbids binding one buffer read-only and writable in the same ` +
            `dispatch, even at disjoint offsets; put ${name} in a separate buffer.`,
        );
      }
    }
  });
}

function overlaps(a: Binding, b: Binding): boolean {
  return a.buffer === b.buffer && a.offset < b.offset + b.size && b.offset < a.offset + a.size;
}

function range(b: Binding): string {
  return `bytes ${b.offset}..${b.offset + b.size} of buffer${label(b.buffer) || ' (unlabelled)'}`;
}

/**
 * Names the buffers among `buffers` that were destroyed, for a submit that failed validation.
 * Each one is bound, without a dispatch, in a pass of its own and submitted alone: the queue
 * rejects exactly the destroyed ones. Binding errors (a buffer from another device, say) are
 * caught in a separate scope, so they are never mistaken for destruction. Writes nothing.
 * Only for the error path: it costs a submit per buffer.
 */
export async function findDestroyedBuffers(
  device: GPUDevice,
  buffers: Readonly<Record<string, GPUBuffer | undefined>>,
): Promise<string[]> {
  const layout = device.createBindGroupLayout({
    label: 'wgsl-dice destroyed-buffer probe',
    entries: [{ binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'read-only-storage' } }],
  });
  const probes = Object.entries(buffers).map(async ([name, buffer]) => {
    if (!buffer || buffer.size < 4) return undefined;
    device.pushErrorScope('validation');
    const group = device.createBindGroup({
      label: 'wgsl-dice destroyed-buffer probe',
      layout,
      entries: [{ binding: 0, resource: { buffer, offset: 0, size: 4 } }],
    });
    const bindError = device.popErrorScope();
    device.pushErrorScope('validation');
    const encoder = device.createCommandEncoder({ label: 'wgsl-dice destroyed-buffer probe' });
    const pass = encoder.beginComputePass();
    pass.setBindGroup(0, group);
    pass.end();
    device.queue.submit([encoder.finish()]);
    const submitError = device.popErrorScope();
    return (await bindError) === null && (await submitError) !== null ? name : undefined;
  });
  return (await Promise.all(probes)).filter((name): name is string => name !== undefined);
}

/**
 * Turns a validation error of a submit wgsl-dice made into the most precise error it can:
 * `BUFFER_DESTROYED` naming the caller's buffers that were destroyed, else `GPU_ERROR`.
 */
export async function submitError(
  device: GPUDevice,
  error: GPUError,
  callerBuffers: Readonly<Record<string, unknown>>,
): Promise<WgslDiceError> {
  const candidates: Record<string, GPUBuffer | undefined> = {};
  for (const [name, arg] of Object.entries(callerBuffers)) {
    if (isBufferArg(arg)) candidates[name] = isGpuBuffer(arg) ? arg : arg.buffer;
  }
  const destroyed = await findDestroyedBuffers(device, candidates);
  if (destroyed.length > 0) {
    const which = destroyed.map((name) => `${name}${label(candidates[name]!)}`).join(', ');
    return new WgslDiceError(
      'BUFFER_DESTROYED',
      `The ${which} buffer${destroyed.length > 1 ? 's were' : ' was'} destroyed before wgsl-dice ` +
        'could use it; a destroyed GPUBuffer can never be used again, so pass a live one.',
    );
  }
  return new WgslDiceError('GPU_ERROR', `WebGPU rejected the Dice computation: ${error.message}`);
}

function label(buffer: GPUBuffer): string {
  return buffer.label ? ` "${buffer.label}"` : '';
}

/** A short description of a value for error messages: never its whole contents. */
export function describe(value: unknown): string {
  if (value === undefined) return 'undefined (missing)';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) {
    const length = (value as unknown as { length?: number }).length ?? value.byteLength;
    return `${article(value.constructor.name)} of length ${length}`;
  }
  if (value instanceof ArrayBuffer) return `an ArrayBuffer of ${value.byteLength} bytes`;
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'string')
    return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  if (typeof value === 'object') {
    const kind = (value as object).constructor?.name;
    if (kind && kind !== 'Object') return article(kind);
    return `an object with keys [${Object.keys(value as object).join(', ')}]`;
  }
  return `${typeof value} ${String(value)}`;
}

function article(noun: string): string {
  return `${/^[aeiou]/i.test(noun) ? 'an' : 'a'} ${noun}`;
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
