// Shared machinery of the peer presets (engine.presets.<library>.<Api>): option checking with the
// library's own snake_case names and defaults, host tensors (nested arrays or typed arrays), layout
// moves, label-map packing, and a cache of compiled FamilyLoss objects per (options, shape).
//
// The presets compute on the GPU engine (DiceEngine.loss / DiceEngine.metric). Host work is limited
// to reshaping/transposing the input into the layout the engine takes, packing label maps, and
// elementwise pre-processing the engine has no switch for (documented where it happens), plus
// combining the GPU's per-group results into what the library returns.

import type { LossFactory } from '../losses/factory.js';
import { WgslDiceError } from '../core/errors.js';
import { describeValue } from '../core/validate.js';
import type { FamilyLoss, LossResult } from '../losses/family.js';
import type { LossOptions, MetricOptions } from '../spec/family.js';
import { type Options, Opts } from '../peers/options.js';
import { toChannelFirst } from '../peers/layout.js';
import {
  type Nested,
  type NestedArray,
  type Tensor,
  fromNested,
  tensor,
  toNested,
  transpose,
} from '../peers/tensor.js';

export type { Options } from '../peers/options.js';
export type { Tensor } from '../peers/tensor.js';

/** Host input of a preset: nested arrays, or a typed array with `inputShape`/`targetShape` in extras. */
export type HostInput = Nested | ArrayLike<number>;

export interface PresetExtras {
  /** MONAI MaskedDiceLoss mask / nnU-Net loss_mask (B1… or 11…). */
  mask?: HostInput | null;
  /** Storage layout of the arrays ("NCHW", "NHWC", "NCW", ...): torch presets move C to axis 1. */
  layout?: string | null;
  inputShape?: readonly number[] | null;
  targetShape?: readonly number[] | null;
  maskShape?: readonly number[] | null;
  /** Informational ("int64", "float32", ...). */
  targetDtype?: string | null;
}

/** Shapes a GPU-path preset is created for. */
export interface CreateExtras {
  /** Target shape as the library receives it (label map B1… / B…, or dense like pred). */
  targetShape?: readonly number[];
  /** Shape of the mask when one will be passed (B1… or 11…). */
  maskShape?: readonly number[];
  /** qsm: a layout string with C at axis 1 selects channels_first. */
  layout?: string;
}

export type PresetValue = number | NestedArray;

export interface Preset {
  readonly api: string;
  /** The library's options, defaults filled in. */
  readonly options: Options;
  /** pred first (even for Keras), shaped as the library receives it; returns what the library returns. */
  evaluate(pred: HostInput, target: HostInput, extras?: PresetExtras): Promise<PresetValue>;
  /**
   * The GPU path: the FamilyLoss this preset runs for pred of `shape` (channel-first for the torch
   * libraries, channel-last for Keras/qsm), for encode()/compute() on caller-owned buffers.
   */
  create(shape: readonly number[], extras?: CreateExtras): Promise<FamilyLoss>;
}

export function notImplemented(api: string, what = 'not implemented on the GPU yet'): never {
  throw new WgslDiceError('INVALID_OPTION', `${api}: ${what}.`);
}

/**
 * Library options with the library's defaults; unknown names throw UNKNOWN_OPTION. Only own
 * properties are read, arrays are copied (a caller's later edits do not reach the preset), and
 * value types are checked now rather than at the first evaluate(): see {@link checkOptionValue}.
 */
export function parseOptions(api: string, given: unknown, defaults: Options): Opts {
  if (given !== undefined && given !== null && (typeof given !== 'object' || Array.isArray(given))) {
    throw new WgslDiceError('INVALID_OPTION', `${api}: options must be an object of keyword arguments.`);
  }
  const own: Options = {};
  for (const key of Object.keys((given ?? {}) as object)) {
    if (!Object.prototype.hasOwnProperty.call(defaults, key)) {
      throw new WgslDiceError(
        'UNKNOWN_OPTION',
        `${api}: unknown option '${key}'. Valid options are: ${Object.keys(defaults).join(', ')}.`,
      );
    }
    const value = (given as Options)[key];
    checkOptionValue(api, key, value, defaults[key]);
    own[key] = copyOption(value);
  }
  try {
    return new Opts(api, own, defaults);
  } catch (error) {
    throw new WgslDiceError('INVALID_OPTION', (error as Error).message);
  }
}

/**
 * The types a peer option can take, judged from its default: a boolean option takes a boolean
 * (or torch's 0 / 1; MONAI's return_with_label also a list of names); a number option a finite
 * number; any number must be finite; an array holds only numbers, only strings, or only such
 * arrays (a distance matrix); an object only where the default is one (nnU-Net's *_kwargs, checked
 * by the preset). Anything else is INVALID_OPTION naming the option.
 */
function checkOptionValue(api: string, key: string, value: unknown, fallback: unknown): void {
  const bad = (what: string): never => {
    throw new WgslDiceError('INVALID_OPTION', `${api}: option '${key}' must be ${what}, got ${describeValue(value)}.`);
  };
  if (value === undefined || value === null) return;
  if (
    typeof fallback === 'boolean' &&
    typeof value !== 'boolean' &&
    value !== 0 &&
    value !== 1 &&
    !Array.isArray(value)
  )
    bad('true or false');
  if (typeof fallback === 'number' && typeof value !== 'number' && typeof value !== 'boolean') bad('a number');
  if (typeof value === 'number' && !Number.isFinite(value)) bad('a finite number');
  const objectDefault = typeof fallback === 'object' && fallback !== null && !Array.isArray(fallback);
  if (typeof value === 'object' && !Array.isArray(value) && !objectDefault)
    bad('a number, a string, a boolean or a list');
  if (Array.isArray(value) && !isUniformList(value)) bad('a list of numbers (or of strings, or of such lists)');
}

function isUniformList(list: readonly unknown[]): boolean {
  const kinds = new Set(
    Array.from(list, (v) =>
      Array.isArray(v)
        ? isUniformList(v)
          ? 'list'
          : 'bad'
        : typeof v === 'number' && Number.isFinite(v)
          ? 'number'
          : typeof v,
    ),
  );
  return (
    !kinds.has('bad') && kinds.size <= 1 && [...kinds].every((k) => k === 'number' || k === 'string' || k === 'list')
  );
}

function copyOption<V>(value: V): V {
  return (Array.isArray(value) ? value.map(copyOption) : value) as V;
}

/** Wraps the peer option parser's plain Errors (src/peers/options.ts: bad option values) as INVALID_OPTION. */
export function optionGuard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof WgslDiceError) throw error;
    throw new WgslDiceError('INVALID_OPTION', (error as Error).message);
  }
}

/** Throws INVALID_SHAPE unless `shape` is a dense array of positive integers (`what` names it). */
export function checkShape(shape: unknown, what: string, minRank = 1): asserts shape is readonly number[] {
  if (!Array.isArray(shape) || shape.length < minRank) {
    throw new WgslDiceError(
      'INVALID_SHAPE',
      `${what} must be an array of at least ${minRank} positive integers, got ${describeValue(shape)}.`,
    );
  }
  for (let axis = 0; axis < shape.length; axis++) {
    const d: unknown = shape[axis];
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 1) {
      throw new WgslDiceError(
        'INVALID_SHAPE',
        `${what}[${axis}] must be a positive integer, got ${d === undefined ? 'a hole' : describeValue(d)}.`,
      );
    }
  }
}

export function toTensor(x: HostInput, shape: readonly number[] | null | undefined, name: string): Tensor {
  if (ArrayBuffer.isView(x) || (typeof x === 'object' && x !== null && !Array.isArray(x) && 'length' in x)) {
    if (shape !== null && shape !== undefined) checkShape(shape, `${name} shape`);
    if (x instanceof BigInt64Array || x instanceof BigUint64Array || x instanceof DataView) {
      throw new WgslDiceError(
        'INVALID_DTYPE',
        `${name} is a ${x.constructor.name}; pass numbers (a Float32Array, an integer typed array or nested arrays).`,
      );
    }
    // A typed array holds numbers only; other array-likes are checked element by element (that
    // mapping form of Float64Array.from is ten times slower: 10 s for a one-hot 4 x 128^3).
    const data = ArrayBuffer.isView(x)
      ? Float64Array.from(x as ArrayLike<number>)
      : Float64Array.from(x as ArrayLike<number>, (v: unknown, i) => {
          // Float64Array.from would turn null into 0 and '2' into 2: a silently different tensor.
          if (typeof v !== 'number' && typeof v !== 'boolean') {
            throw new WgslDiceError(
              'INVALID_INPUT',
              `${name}[${i}] is ${describeValue(v)}; tensors hold numbers only.`,
            );
          }
          return Number(v);
        });
    const s = shape ? [...shape] : [data.length];
    if (s.reduce((a, b) => a * b, 1) !== data.length) {
      throw new WgslDiceError(
        'SHAPE_MISMATCH',
        `${name} has ${data.length} elements but its shape [${s}] needs more or fewer.`,
      );
    }
    return tensor(s, data);
  }
  try {
    return fromNested(x as Nested, shape ?? undefined);
  } catch (error) {
    throw new WgslDiceError('SHAPE_MISMATCH', `${name}: ${(error as Error).message}`);
  }
}

/**
 * Throws INVALID_OPTION unless `layout` is null/undefined, "flat", or an upper-case string of
 * distinct axis letters ("NCHW", "NHWC", "NDHWC", ...) that, when it names a channel axis C, has
 * one letter per axis of `rank`: a lower-case or wrong-rank layout would otherwise be ignored and
 * NHWC data read as NCHW.
 */
export function checkLayout(layout: unknown, rank: number | undefined, what: string): void {
  if (layout === null || layout === undefined || layout === 'flat') return;
  if (typeof layout !== 'string' || !/^[A-Z]+$/.test(layout) || new Set(layout).size !== layout.length) {
    const upper = typeof layout === 'string' ? layout.toUpperCase() : '';
    throw new WgslDiceError(
      'INVALID_OPTION',
      `${what}: layout must be an upper-case string of distinct axis letters (e.g. "NCHW", "NHWC", "NDHWC"; ` +
        `"flat" for flat data), got ${describeValue(layout)}${/^[A-Z]+$/.test(upper) ? `: did you mean "${upper}"?` : '.'}`,
    );
  }
  // A layout with channels must name every axis: otherwise the channel axis is guessed wrong.
  if (layout.includes('C') && rank !== undefined && layout.length !== rank) {
    throw new WgslDiceError(
      'INVALID_OPTION',
      `${what}: layout "${layout}" has ${layout.length} axes but the input has ${rank}.`,
    );
  }
}

export function channelFirst(t: Tensor, layout: string | null | undefined): Tensor {
  if (!layout) return t;
  checkLayout(layout, t.shape.length, 'extras');
  return toChannelFirst(t, layout);
}

export const f32 = (t: Tensor): Float32Array => Float32Array.from(t.data);

/** Label value → u32 label (torch `.long()`); `ignore` (any integer, e.g. -100) maps to IGNORE_SENTINEL. */
export const IGNORE_SENTINEL = 0xffffffff;
/**
 * The engine's ignoreIndex for a library's ignore label: the label itself when it is a u32, else
 * (e.g. torch's -100) a sentinel the host packs those voxels as (on the GPU path, pack them so too).
 */
export function engineIgnore(ignore: number): number {
  return Number.isInteger(ignore) && ignore >= 0 && ignore < IGNORE_SENTINEL ? ignore : IGNORE_SENTINEL;
}
export function labels(t: Tensor, ignore: number | null = null): Uint32Array {
  return Uint32Array.from(t.data, (v, i) => {
    if (ignore !== null && v === ignore) return engineIgnore(ignore);
    // NaN (also a null in nested arrays), ±Inf and labels past u32 would otherwise become a class
    // (Uint32Array wraps 2^32 + 1 to 1); IGNORE_SENTINEL itself is reserved for ignored voxels.
    const l = Math.trunc(v);
    if (!Number.isFinite(v) || l < 0 || l >= IGNORE_SENTINEL) {
      throw new WgslDiceError(
        'LABEL_OUT_OF_RANGE',
        `label ${v} at element ${i} is not a class index; labels must be finite integers in [0, ${IGNORE_SENTINEL - 1}] ` +
          '(or the ignore label).',
      );
    }
    return l;
  });
}

export const prod = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** The `reduce` axes of `shape` moved last: [kept shape, K kept elements, N reduced elements] and the axis order. */
export function splitShape(
  shape: readonly number[],
  reduce: readonly number[] | null,
): { kept: number[]; K: number; N: number; perm: number[] } {
  const rank = shape.length;
  const red = reduce === null ? [...shape.keys()] : [...new Set(reduce.map((a) => (a < 0 ? a + rank : a)))];
  for (const a of red) {
    if (a < 0 || a >= rank) throw new WgslDiceError('INVALID_OPTION', `axis ${a} is out of range for rank ${rank}.`);
  }
  const keptAxes = [...shape.keys()].filter((a) => !red.includes(a));
  const kept = keptAxes.map((a) => shape[a]);
  return { kept, K: prod(kept), N: prod(red.map((a) => shape[a])), perm: [...keptAxes, ...red.sort((a, b) => a - b)] };
}

/** {@link splitShape} plus the data permuted accordingly. */
export function splitAxes(
  t: Tensor,
  reduce: readonly number[] | null,
): { kept: number[]; K: number; N: number; data: Float32Array } {
  const { kept, K, N, perm } = splitShape(t.shape, reduce);
  return { kept, K, N, data: f32(transpose(t, perm)) };
}

export function nested(shape: readonly number[], values: ArrayLike<number>): PresetValue {
  return toNested(tensor([...shape], Float64Array.from(values)));
}

/**
 * How many compiled losses one preset keeps for its evaluate() calls (one per distinct shape and
 * option set). Each holds GPU scratch buffers, so the least recently used one beyond this bound is
 * destroyed (after the calls already queued on it).
 */
export const PRESET_CACHE_SIZE = 8;

/** What the cache holds: any loss, destroyed once the calls queued on it have settled. */
interface CachedLoss {
  destroyWhenIdle(): void;
}

/**
 * Caches compiled losses by (kind, options) so repeated evaluate() calls reuse pipelines and
 * buffers: a least-recently-used cache of {@link PRESET_CACHE_SIZE} entries that destroys what it
 * evicts.
 */
export class PresetLossCache {
  readonly #factory: LossFactory;
  /** In least- to most-recently-used order (a Map keeps insertion order). */
  readonly #losses = new Map<string, Promise<CachedLoss>>();
  constructor(factory: LossFactory) {
    this.#factory = factory;
  }
  loss(options: LossOptions): Promise<FamilyLoss> {
    return this.get('loss', options, () => this.#factory.loss(options));
  }
  metric(options: MetricOptions): Promise<FamilyLoss> {
    return this.get('metric', options, () => this.#factory.metric(options));
  }
  /** The loss of `kind` made by `make` for `options` (clDice, Wasserstein Dice: other loss classes). */
  get<L extends CachedLoss>(kind: string, options: object, make: () => Promise<L>): Promise<L> {
    const key = kind + JSON.stringify(options);
    let loss = this.#losses.get(key) as Promise<L> | undefined;
    if (loss) {
      this.#losses.delete(key); // re-inserted below as the most recently used
    } else {
      loss = make();
      loss.catch(() => {
        if (this.#losses.get(key) === loss) this.#losses.delete(key);
      });
    }
    this.#losses.set(key, loss);
    for (const [oldest, evicted] of this.#losses) {
      if (this.#losses.size <= PRESET_CACHE_SIZE) break;
      this.#losses.delete(oldest);
      evicted.then(
        (l) => l.destroyWhenIdle(),
        () => undefined,
      );
    }
    return loss;
  }
}

export async function run(
  cache: PresetLossCache,
  options: LossOptions,
  pred: Float32Array,
  target: Float32Array | Uint32Array,
  mask?: Float32Array,
): Promise<LossResult> {
  const loss = await cache.loss(options);
  return loss.compute(pred, target, mask ? { mask } : {});
}
