/**
 * Option checks shared by every entry point: each throws a {@link WgslDiceError} that names the
 * option, what it must be and what it got, and none clamps or coerces a value.
 */
import { WgslDiceError } from './errors.js';
import { F32_MAX, F32_MIN_NORMAL } from './limits.js';

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
 * A deep copy of an options value in which every property and element was read exactly once:
 * plain objects (own enumerable keys), arrays (holes kept) and typed arrays are copied, at any
 * depth; anything else (numbers, strings, functions, class instances) is kept as it is. Every
 * entry point snapshots its options first and then validates and uses only the copy, so a getter
 * (or a Proxy) that answers differently on each read cannot pass validation with one value and
 * reach the kernels with another, and a caller's later edits never reach a loss.
 */
export function snapshotOptions<T>(value: T): T {
  return snapshot(value, new Map()) as T;
}

function snapshot(value: unknown, copies: Map<object, unknown>): unknown {
  if (typeof value !== 'object' || value === null) return value;
  // A cycle (or a shared sub-object) maps to its one copy.
  if (copies.has(value)) return copies.get(value);
  if (Array.isArray(value)) {
    const length = value.length;
    const copy = new Array<unknown>(length);
    copies.set(value, copy);
    for (let i = 0; i < length; i++) if (i in value) copy[i] = snapshot(value[i], copies);
    return copy;
  }
  if (ArrayBuffer.isView(value)) {
    const copy = value instanceof DataView ? value : (value as unknown as Float64Array).slice();
    copies.set(value, copy);
    return copy;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  const copy = Object.create(proto as object | null) as Record<string, unknown>;
  copies.set(value, copy);
  for (const key of Object.keys(value)) {
    // defineProperty, not assignment: an own "__proto__" key (from JSON.parse) stays a key.
    const entry = snapshot((value as Record<string, unknown>)[key], copies);
    Object.defineProperty(copy, key, { value: entry, enumerable: true, writable: true, configurable: true });
  }
  return copy;
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
export function closestName(name: string, known: readonly string[]): string | undefined {
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

/** An optional string option from a fixed list, or `fallback` when absent. */
export function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) {
    throw new WgslDiceError(
      'INVALID_OPTION',
      `${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(value)}.`,
    );
  }
  return value as T;
}

/** An optional f32 option (see {@link requireF32}), or `fallback` when absent. */
export function optionalF32(name: string, value: unknown, fallback: number): number {
  return value === undefined ? fallback : requireF32(name, value);
}

/** An optional f32 option >= 0 (see {@link requireNonNegative}), or `fallback` when absent. */
export function optionalNonNegative(name: string, value: unknown, fallback: number): number {
  return value === undefined ? fallback : requireNonNegative(name, value);
}

/** An optional boolean option, or `fallback` when absent. */
export function optionalBoolean(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    throw new WgslDiceError('INVALID_OPTION', `${name} must be true or false, got ${describeValue(value)}.`);
  }
  return value;
}

/** One f32 weight >= 0 per class, as an array or typed array of exactly `classes` entries. */
export function classWeights(name: string, value: unknown, classes: number): Float64Array {
  if (!Array.isArray(value) && !(ArrayBuffer.isView(value) && !(value instanceof DataView))) {
    throw new WgslDiceError('INVALID_WEIGHTS', `${name} must be an array of ${classes} numbers.`);
  }
  const list = Array.from(value as ArrayLike<number>);
  if (list.length !== classes) {
    throw new WgslDiceError(
      'INVALID_WEIGHTS',
      `${name} has ${list.length} entries but there are C = ${classes} classes; pass one weight per class.`,
    );
  }
  list.forEach((w: unknown, c) => {
    if (typeof w !== 'number' || w < 0 || !isF32Representable(w)) {
      throw new WgslDiceError(
        'INVALID_WEIGHTS',
        `${name}[${c}] must be a finite number >= 0, got ${describeValue(w)} (the kernels read f32: 0, or 1.2e-38 to 3.4e38).`,
      );
    }
  });
  return Float64Array.from(list);
}
