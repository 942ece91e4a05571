// The peer libraries' options as their own APIs take them: snake_case names checked against each
// constructor's signature and defaults, with Python's None kept as null.

export type OptionValue = unknown;

export type Options = Record<string, OptionValue>;

/**
 * Merged options of one API call. `null` is kept as Python's `None` (it is *not* replaced by the
 * default: e.g. Keras `reduction=None` means "no reduction", not "sum_over_batch_size").
 */
export class Opts {
  readonly values: Options;
  constructor(
    readonly api: string,
    given: Options | null | undefined,
    defaults: Options,
  ) {
    const values: Options = { ...defaults };
    for (const [key, value] of Object.entries(given ?? {})) {
      if (!Object.prototype.hasOwnProperty.call(defaults, key)) {
        throw new Error(`${api}: unknown option '${key}'. Valid options are: ${Object.keys(defaults).join(', ')}`);
      }
      if (value !== undefined) values[key] = value;
    }
    this.values = values;
  }

  private bad(key: string, what: string): never {
    throw new Error(`${this.api}: option '${key}' must be ${what}, got ${JSON.stringify(this.values[key])}`);
  }

  raw(key: string): OptionValue {
    if (!(key in this.values)) throw new Error(`${this.api}: internal error, no option '${key}'`);
    return this.values[key];
  }

  isNone(key: string): boolean {
    return this.raw(key) === null;
  }

  bool(key: string): boolean {
    const v = this.raw(key);
    if (typeof v === 'boolean') return v;
    if (v === 0 || v === 1) return v === 1;
    return this.bad(key, 'a boolean');
  }

  num(key: string): number {
    const v = this.raw(key);
    if (typeof v === 'number') return v;
    if (typeof v === 'boolean') return v ? 1 : 0;
    return this.bad(key, 'a number');
  }

  numOrNull(key: string): number | null {
    return this.raw(key) === null ? null : this.num(key);
  }

  str(key: string): string {
    const v = this.raw(key);
    if (typeof v === 'string') return v;
    return this.bad(key, 'a string');
  }

  strOrNull(key: string): string | null {
    return this.raw(key) === null ? null : this.str(key);
  }

  /** A number or a (flat) list of numbers, or null. */
  numOrList(key: string): number | number[] | null {
    const v = this.raw(key);
    if (v === null) return null;
    if (typeof v === 'number') return v;
    if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return v as number[];
    return this.bad(key, 'a number, a list of numbers or null');
  }

  /** An int, a list of ints, or null (axis / dims / classes style). */
  intsOrNull(key: string): number[] | null {
    const v = this.raw(key);
    if (v === null) return null;
    if (typeof v === 'number' && Number.isInteger(v)) return [v];
    if (Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isInteger(x))) return v as number[];
    return this.bad(key, 'an integer, a list of integers or null');
  }

  /** A nested numeric matrix (list of lists). */
  matrix(key: string): number[][] {
    const v = this.raw(key);
    if (Array.isArray(v) && v.every((row) => Array.isArray(row) && row.every((x) => typeof x === 'number'))) {
      return v as number[][];
    }
    return this.bad(key, 'a matrix (list of lists of numbers)');
  }

  dict(key: string): Options {
    const v = this.raw(key);
    if (v === null) return {};
    if (typeof v === 'object' && !Array.isArray(v)) return v as Options;
    return this.bad(key, 'an object of keyword arguments');
  }

  oneOf<T extends string>(key: string, allowed: readonly T[]): T {
    const v = this.raw(key);
    if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
    return this.bad(key, `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
  }
}
