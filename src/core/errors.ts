/**
 * Every error wgsl-dice throws on purpose is a {@link WgslDiceError} with a stable `code`, so
 * callers can branch on the code and tests can assert it without matching message text. The
 * message says what was wrong and how to fix the call. Codes are never renamed or reused;
 * new ones are only added.
 *
 * | code                | thrown when                                                                |
 * | ------------------- | -------------------------------------------------------------------------- |
 * | `INVALID_SHAPE`     | `shape` is not `[B, ...spatial, C]` of positive integers, or too large      |
 * | `SHAPE_MISMATCH`    | a host array's length differs from the loss's shape                        |
 * | `INVALID_OPTION`    | an option has the wrong type or value (`reduce`, `epsilon`, `grad`, ...)   |
 * | `UNKNOWN_OPTION`    | an option, buffer or field name is not one wgsl-dice knows (misspelt)      |
 * | `INVALID_WEIGHTS`   | `weights` has the wrong length, a negative / non-finite entry, or no use   |
 * | `INVALID_INPUT`     | an argument is not what the call takes (GPUBuffer, encoder, device, ...);  |
 * |                     | also a finished encoder or a buffer of another GPUDevice given to          |
 * |                     | encode(), which WebGPU reports later: thrown by `checkEncodes()`,          |
 * |                     | `readStatus()` or the loss's next `encode()` / `compute()`                 |
 * | `INVALID_DTYPE`     | host data is an array or typed array other than a Float32Array            |
 * | `BUFFER_TOO_SMALL`  | a caller's buffer holds fewer bytes (from its offset) than the loss needs  |
 * | `BUFFER_USAGE`      | a caller's buffer lacks `GPUBufferUsage.STORAGE`                           |
 * | `BUFFER_MAPPED`     | a caller's buffer is mapped or has a map pending                           |
 * | `BUFFER_DESTROYED`  | a caller's buffer was destroyed (detected by `compute()` at submit)        |
 * | `BUFFER_OVERLAP`    | an output would overwrite an input or another output                       |
 * | `MISALIGNED_OFFSET` | an offset is not a non-negative multiple of minStorageBufferOffsetAlignment |
 * | `BINDING_TOO_LARGE` | a binding (or one binding window's share) exceeds the device's limit      |
 * | `GRID_TOO_LARGE`    | the work needs more workgroups than the device allows (kept; not thrown    |
 * |                     | by the seed losses since binding windows lifted the batch limit)           |
 * | `ENGINE_DESTROYED`  | the engine or the loss was destroyed (also while a `compute()` was pending) |
 * | `DEVICE_LOST`       | the GPU device was lost, before or while a call was waiting on it          |
 * | `GPU_ERROR`         | WebGPU reported an error wgsl-dice could not attribute to the call         |
 * | `LABEL_OUT_OF_RANGE`| a label map holds labels >= C (not ignoreIndex): count and first voxel     |
 * | `NON_FINITE_INPUT`  | pred holds NaN or infinity: count and first element (also a finite logit   |
 * |                     | times its mask beyond f32's range with `mask: 'logits'`, and finite values |
 * |                     | so large, ~3e38, that the sums overflow f32 and the loss is not finite)    |
 * | `FEATURE_MISSING`   | the option needs a device feature the device lacks (f16 needs shader-f16)  |
 * | `WRONG_BACKEND`     | `wgsl-dice/tfjs` ran while TensorFlow.js's active backend is not 'webgpu'  |
 * | `LOSS_NOT_READY`    | a `wgsl-dice/tfjs` loss met a shape it was not prepared for (await prepare) |
 * | `LIMIT_EXCEEDED`    | an option goes past a fixed limit of the kernels ({@link MAX_CLASSES}), or  |
 * |                     | a buffer of the loss's own would pass the device's maxBufferSize           |
 * | `NOT_SUPPORTED`     | a valid configuration the GPU path cannot run (a preset's JavaScript       |
 * |                     | activation runs in evaluate() only): the message names the alternatives   |
 */
export const WGSL_DICE_ERROR_CODES = [
  'INVALID_SHAPE',
  'SHAPE_MISMATCH',
  'INVALID_OPTION',
  'UNKNOWN_OPTION',
  'INVALID_WEIGHTS',
  'INVALID_INPUT',
  'INVALID_DTYPE',
  'BUFFER_TOO_SMALL',
  'BUFFER_USAGE',
  'BUFFER_MAPPED',
  'BUFFER_DESTROYED',
  'BUFFER_OVERLAP',
  'MISALIGNED_OFFSET',
  'BINDING_TOO_LARGE',
  'GRID_TOO_LARGE',
  'ENGINE_DESTROYED',
  'DEVICE_LOST',
  'GPU_ERROR',
  'LABEL_OUT_OF_RANGE',
  'NON_FINITE_INPUT',
  'FEATURE_MISSING',
  'LIMIT_EXCEEDED',
  'WRONG_BACKEND',
  'LOSS_NOT_READY',
  'NOT_SUPPORTED',
] as const;

export type WgslDiceErrorCode = (typeof WGSL_DICE_ERROR_CODES)[number];

export class WgslDiceError extends Error {
  readonly code: WgslDiceErrorCode;

  constructor(code: WgslDiceErrorCode, message: string) {
    super(message);
    this.name = 'WgslDiceError';
    this.code = code;
  }
}

/** The largest finite f32 and the smallest normal one: option values reach the kernels as f32. */
const F32_MAX = 3.4028234663852886e38;
const F32_MIN_NORMAL = 1.1754943508222875e-38;

/**
 * Throws `INVALID_OPTION` unless `value` is a number the kernels see unchanged as f32: finite,
 * and 0 or of magnitude in [1.18e-38, 3.4e38] (f32 turns larger values into infinity, and GPUs
 * flush subnormals such as 1e-46 to 0, which would make a "non-zero" smoothing divide 0 by 0).
 */
export function requireF32(name: string, value: unknown): number {
  if (!isF32Representable(value)) {
    throw new WgslDiceError(
      'INVALID_OPTION',
      `${name} must be a finite number representable in f32 (0, or magnitude between 1.2e-38 and 3.4e38), ` +
        `got ${describeValue(value)}.`,
    );
  }
  return value;
}

/** True for a number f32 holds unchanged enough to compute with: see {@link requireF32}. */
export function isF32Representable(value: unknown): value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) return false;
  const magnitude = Math.abs(value);
  return value === 0 || (magnitude >= F32_MIN_NORMAL && magnitude <= F32_MAX);
}

/** Throws `INVALID_OPTION` unless `value` is a finite number >= 0 that f32 represents (see {@link requireF32}). */
export function requireNonNegative(name: string, value: unknown): number {
  if (typeof value !== 'number' || value < 0) {
    throw new WgslDiceError('INVALID_OPTION', `${name} must be a finite number >= 0, got ${describeValue(value)}.`);
  }
  return requireF32(name, value);
}

/** The `label` option: a string (it names GPU objects and errors), or the default. */
export function optionalLabel(value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string') {
    throw new WgslDiceError('INVALID_OPTION', `label must be a string, got ${describeValue(value)}.`);
  }
  return value;
}

/** A value in an error message; never throws (String(Symbol()) does not, `${Symbol()}` does). */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n (a BigInt)`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object' && value !== null) return `an object (${Object.prototype.toString.call(value)})`;
  return String(value);
}

/**
 * Validates an options object like {@link rejectUnknownKeys} and returns a copy of its own known
 * properties on an object without a prototype. Options are read from the copy only: keys
 * inherited from a prototype (a polluted `Object.prototype`, a class's getters) never reach a
 * loss, and each getter runs once.
 */
export function ownOptions<T extends object>(what: string, value: unknown, known: readonly string[]): Partial<T> {
  rejectUnknownKeys(what, value, known);
  const copy = Object.create(null) as Record<string, unknown>;
  for (const key of known) {
    if (Object.hasOwn(value as object, key)) copy[key] = (value as Record<string, unknown>)[key];
  }
  return copy as Partial<T>;
}

/**
 * Rejects option names the caller misspelt instead of silently ignoring them, suggesting the
 * name they probably meant. `value` that is not an object at all is `INVALID_OPTION`.
 */
export function rejectUnknownKeys(what: string, value: unknown, known: readonly string[]): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new WgslDiceError(
      'INVALID_OPTION',
      `${what}s must be given as an object with some of: ${known.join(', ')}; got ${describeValue(value)}.`,
    );
  }
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      const guess = closestName(key, known);
      throw new WgslDiceError(
        'UNKNOWN_OPTION',
        `Unknown ${what} "${key}".${guess ? ` Did you mean "${guess}"?` : ''} Valid names: ${known.join(', ')}.`,
      );
    }
  }
}

/** The known name sharing a 3+ letter prefix with `name`, or within edit distance 2. */
function closestName(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestScore = 0;
  for (const candidate of known) {
    const other = candidate.toLowerCase();
    let prefix = 0;
    while (prefix < Math.min(lower.length, other.length) && lower[prefix] === other[prefix]) prefix++;
    const score = prefix >= 3 ? prefix : editDistance(lower, other) <= 2 ? 2 : 0;
    if (score > bestScore) {
      best = candidate;
      bestScore = score;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/** The `DEVICE_LOST` error for a device lost with `info`; `when` completes the sentence. */
export function deviceLostError(info: GPUDeviceLostInfo, when = ''): WgslDiceError {
  return new WgslDiceError(
    'DEVICE_LOST',
    `The GPU device was lost (${info.reason}: ${info.message})${when}; ` +
      'create a new device and a new DiceEngine on it.',
  );
}

/**
 * Watches one device for loss, shared by every engine on it (see {@link deviceLossGuard}).
 *
 * Why not `Promise.race([work, device.lost])`: each race leaves a reaction on `device.lost`,
 * which never settles while the device is healthy, so every call's promises stay reachable
 * for the life of the device (measured: about 480 bytes of heap per `compute()`, i.e. half a
 * gigabyte per million training steps). Here only the calls still waiting are held, in a set.
 */
export class DeviceLossGuard {
  #info: GPUDeviceLostInfo | undefined;
  readonly #waiting = new Set<(info: GPUDeviceLostInfo) => void>();

  constructor(device: GPUDevice) {
    // The reaction closes over this guard only, never over an engine, so engines that were
    // dropped can be collected while the device lives.
    void device.lost.then((info) => {
      this.#info = info;
      for (const onLost of [...this.#waiting]) onLost(info);
      this.#waiting.clear();
    });
  }

  /** Set once the device's `lost` promise has settled. */
  get lostInfo(): GPUDeviceLostInfo | undefined {
    return this.#info;
  }

  /**
   * Settles like `work`, except that it rejects with `DEVICE_LOST` as soon as the device is
   * lost, so no caller waits forever on a dead device.
   */
  whileAlive<T>(work: Promise<T>): Promise<T> {
    if (this.#info) return Promise.reject(deviceLostError(this.#info, ' before wgsl-dice could wait on it'));
    return new Promise<T>((resolve, reject) => {
      const onLost = (info: GPUDeviceLostInfo) =>
        reject(deviceLostError(info, ' while wgsl-dice was waiting on it'));
      this.#waiting.add(onLost);
      work.then(
        (value) => {
          this.#waiting.delete(onLost);
          resolve(value);
        },
        (error: unknown) => {
          // Losing the device also rejects a pending mapAsync, possibly just before `lost`
          // settles: give `lost` one macrotask to win, so the caller sees DEVICE_LOST.
          setTimeout(() => {
            this.#waiting.delete(onLost);
            reject(this.#info ? deviceLostError(this.#info, ' while wgsl-dice was waiting on it') : error);
          }, 0);
        },
      );
    });
  }
}

const guards = new WeakMap<GPUDevice, DeviceLossGuard>();

/** The one {@link DeviceLossGuard} of `device` (created on first use, collected with it). */
export function deviceLossGuard(device: GPUDevice): DeviceLossGuard {
  let guard = guards.get(device);
  if (!guard) {
    guard = new DeviceLossGuard(device);
    guards.set(device, guard);
  }
  return guard;
}
