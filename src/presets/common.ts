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
import { closestName, describeValue, snapshotOptions } from '../core/validate.js';
import type { FamilyLoss, LossResult } from '../losses/family.js';
import type { ClDiceOptions } from '../spec/cldice.js';
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
 * Library options with the library's defaults; unknown names throw UNKNOWN_OPTION with the name
 * the caller probably meant. The options are snapshotted first (own properties only, each read
 * once, arrays and objects copied: a caller's later edits do not reach the preset), and value
 * types are checked now rather than at the first evaluate(): see {@link checkOptionValue}.
 */
export function parseOptions(api: string, options: unknown, defaults: Options): Opts {
  if (options !== undefined && options !== null && (typeof options !== 'object' || Array.isArray(options))) {
    throw new WgslDiceError('INVALID_OPTION', `${api}: options must be an object of keyword arguments.`);
  }
  const given = snapshotOptions(options);
  const own: Options = {};
  const known = Object.keys(defaults);
  for (const key of Object.keys((given ?? {}) as object)) {
    if (!Object.prototype.hasOwnProperty.call(defaults, key)) {
      const guess = closestName(key, known);
      throw new WgslDiceError(
        'UNKNOWN_OPTION',
        `${api}: unknown option '${key}'.${guess ? ` Did you mean '${guess}'?` : ''} Valid options are: ${known.join(', ')}.`,
      );
    }
    const value = (given as Options)[key];
    checkOptionValue(api, key, value, defaults[key]);
    own[key] = value;
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
 * number; any number must be finite; an array holds only finite numbers, only strings (a list of
 * names), or only arrays of finite numbers (a distance matrix): a string inside a nested array
 * would be read as a number later, and a NaN distance would reach the kernels. An object only
 * where the default is one (nnU-Net's *_kwargs, checked by the preset). Anything else is
 * INVALID_OPTION naming the option (and the offending element).
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
  if (Array.isArray(value)) {
    const problem = listProblem(value, key, true);
    if (problem) bad(`a list of numbers, of strings, or of lists of numbers, every number finite (${problem})`);
  }
}

/** What is wrong with an option list (`name[i][j] is ...`), or undefined: see {@link checkOptionValue}. */
function listProblem(list: readonly unknown[], name: string, outer: boolean): string | undefined {
  let kind: string | undefined;
  for (let i = 0; i < list.length; i++) {
    const v: unknown = list[i];
    const at = `${name}[${i}]`;
    let k: string;
    if (Array.isArray(v)) {
      if (!outer) return `${at} is a list nested too deep`;
      const inner = listProblem(v, at, false);
      if (inner) return inner;
      k = 'list';
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) return `${at} is ${v}`;
      k = 'number';
    } else if (typeof v === 'string' && outer) {
      k = 'string';
    } else {
      return `${at} is ${i in list ? describeValue(v) : 'a hole'}`;
    }
    if (kind !== undefined && k !== kind) return `${at} is a ${k} among ${kind}s`;
    kind = k;
  }
  return undefined;
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
  const leaf = nonNumericLeaf(x, name);
  if (leaf) {
    // fromNested would store '0.5' as 0.5 and an object as NaN: a silently different tensor.
    throw new WgslDiceError('INVALID_INPUT', `${leaf}; tensors hold numbers only (null stands for NaN).`);
  }
  try {
    return fromNested(x as Nested, shape ?? undefined);
  } catch (error) {
    throw new WgslDiceError('SHAPE_MISMATCH', `${name}: ${(error as Error).message}`);
  }
}

/** The first leaf of nested arrays that is not a number, a boolean or null (`name[i][j] is ...`), if any. */
function nonNumericLeaf(x: unknown, name: string): string | undefined {
  if (!Array.isArray(x)) {
    const ok = typeof x === 'number' || typeof x === 'boolean' || x === null;
    return ok ? undefined : `${name} is ${describeValue(x)}`;
  }
  for (let i = 0; i < x.length; i++) {
    const found = nonNumericLeaf(x[i], `${name}[${i}]`);
    if (found) return found;
  }
  return undefined;
}

/**
 * Throws INVALID_OPTION unless `layout` is null/undefined, "flat", or an upper-case string of
 * distinct axis letters ("NCHW", "NHWC", "NDHWC", "NL", ...) with one letter per axis of `rank`
 * (when known), naming the channel axis C where the preset reads one (`needsChannel`): a
 * lower-case, wrong-rank or channel-less layout would otherwise be ignored and NHWC data read as
 * NCHW.
 */
export function checkLayout(layout: unknown, rank: number | undefined, what: string, needsChannel = false): void {
  if (layout === null || layout === undefined || layout === 'flat') return;
  if (typeof layout !== 'string' || !/^[A-Z]+$/.test(layout) || new Set(layout).size !== layout.length) {
    const upper = typeof layout === 'string' ? layout.toUpperCase() : '';
    throw new WgslDiceError(
      'INVALID_OPTION',
      `${what}: layout must be an upper-case string of distinct axis letters (e.g. "NCHW", "NHWC", "NDHWC"; ` +
        `"flat" for flat data), got ${describeValue(layout)}${/^[A-Z]+$/.test(upper) ? `: did you mean "${upper}"?` : '.'}`,
    );
  }
  // A layout names every axis: otherwise the channel axis is guessed wrong.
  if (rank !== undefined && layout.length !== rank) {
    throw new WgslDiceError(
      'INVALID_OPTION',
      `${what}: layout "${layout}" has ${layout.length} axes but the input has ${rank}; name each axis once ` +
        `(e.g. "${rank === 5 ? 'NCDHW' : rank === 3 ? 'NCW' : 'NCHW'}" or "${rank === 5 ? 'NDHWC' : rank === 3 ? 'NWC' : 'NHWC'}").`,
    );
  }
  if (needsChannel && !layout.includes('C')) {
    throw new WgslDiceError(
      'INVALID_OPTION',
      `${what}: layout "${layout}" names no channel axis C, and this API reads one; put C where the channels are ` +
        '(e.g. "NCHW" or "NHWC").',
    );
  }
}

export function channelFirst(t: Tensor, layout: string | null | undefined): Tensor {
  if (!layout) return t;
  checkLayout(layout, t.shape.length, 'extras');
  return toChannelFirst(t, layout);
}

/**
 * The factory a torch preset's create() plans with, for data stored in `layout`: the presets
 * plan channel-first (`[B, C, ...spatial]`, engine layout 'channels-first'); the same data stored
 * channels-last (a layout ending in C, such as "NHWC": create() was given the channel-first shape
 * by src/presets/index.ts) is the same loss under the engine's 'channels-last' layout, every
 * group and every per-voxel term unchanged (label maps and masks hold no channel axis).
 */
export function storedIn(factory: LossFactory, layout: string | null | undefined): LossFactory {
  if (!layout || layout.indexOf('C') < 0 || layout.indexOf('C') === 1) return factory;
  const channelsLast = <O extends { shape: readonly number[]; layout?: string }>(o: O): O => {
    if (o.layout !== 'channels-first')
      throw new Error(`internal error: ${String(o.layout)} options for "${layout}" data`);
    const [B, C, ...spatial] = o.shape;
    return { ...o, shape: [B, ...spatial, C], layout: 'channels-last' };
  };
  return {
    loss: ((o: LossOptions | ClDiceOptions) => factory.loss(channelsLast(o) as LossOptions)) as LossFactory['loss'],
    metric: (o) => factory.metric(channelsLast(o)),
    wassersteinDice: (o) => factory.wassersteinDice(channelsLast(o)),
    distanceTransform: (o) => factory.distanceTransform(channelsLast(o)),
    surfaceMetrics: (o) => factory.surfaceMetrics(channelsLast(o)),
  };
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

/**
 * The engine groups for summing the `reduce` axes of a tensor of `shape` where it lies, without
 * moving memory: one group per index of the kept axes, in their row-major order. Two
 * arrangements exist: kept axes that lead and/or trail one reduced block, `[K, N, M]`
 * channels-last (a group per (k, m)); or one kept block between reduced ones, `[P, M, S]`
 * channels-first with the batch pooled (a group per m). Null for any other choice of axes (the
 * data would have to be transposed first).
 */
export function groupsInPlace(
  shape: readonly number[],
  reduce: readonly number[] | null,
): { shape: [number, number, number]; layout: 'channels-last' | 'channels-first'; batch: boolean } | null {
  const { kept, perm } = splitShape(shape, reduce);
  const rank = shape.length;
  const keep = new Set(perm.slice(0, kept.length));
  const size = (from: number, to: number) => prod(shape.slice(from, to));
  let lead = 0;
  while (lead < rank && keep.has(lead)) lead++;
  let trail = rank;
  while (trail > lead && keep.has(trail - 1)) trail--;
  const middleKept = [...keep].filter((a) => a >= lead && a < trail);
  if (middleKept.length === 0) {
    return { shape: [size(0, lead), size(lead, trail), size(trail, rank)], layout: 'channels-last', batch: false };
  }
  // One kept block [a, b) with reduced axes on both sides (lead = 0 and trail = rank here).
  const a = Math.min(...middleKept);
  const b = Math.max(...middleKept) + 1;
  if (lead !== 0 || trail !== rank || middleKept.length !== b - a) return null;
  return { shape: [size(0, a), size(a, b), size(b, rank)], layout: 'channels-first', batch: true };
}

/** The engine groups of {@link groupsInPlace}. */
export type InPlaceGroups = NonNullable<ReturnType<typeof groupsInPlace>>;

/**
 * evaluate() of a loss with one group per kept index of `pred` (the `reduce` axes summed): where
 * {@link groupsInPlace} allows it, on the data as it lies (what create() runs), else with the
 * kept axes moved first on the host (`[K, N, 1]` channels-last). `kept`: the kept axes' sizes,
 * K groups in all, in their row-major order.
 */
export async function computeGroups(
  cache: PresetLossCache,
  optionsFor: (groups: InPlaceGroups) => LossOptions,
  pred: Tensor,
  target: Tensor,
  reduce: readonly number[] | null,
): Promise<{ result: LossResult; kept: number[]; K: number }> {
  const { kept, K, N } = splitShape(pred.shape, reduce);
  const inPlace = groupsInPlace(pred.shape, reduce);
  const result = inPlace
    ? await (await cache.loss(optionsFor(inPlace))).compute(f32(pred), f32(target))
    : await (
        await cache.loss(optionsFor({ shape: [K, N, 1], layout: 'channels-last', batch: false }))
      ).compute(splitAxes(pred, reduce).data, splitAxes(target, reduce).data);
  return { result, kept, K };
}

/**
 * NOT_SUPPORTED for create() of a reduction whose kept axes {@link groupsInPlace} cannot group
 * where the data lies (`option` names the peer's argument: axis, dims).
 */
export function reductionNotInPlace(
  api: string,
  option: string,
  shape: readonly number[],
  reduce: readonly number[] | null,
): WgslDiceError {
  const { perm, kept } = splitShape(shape, reduce);
  return new WgslDiceError(
    'NOT_SUPPORTED',
    `${api}: create() with ${option}=[${reduce}] on [${shape}] keeps axes [${perm.slice(0, kept.length)}], which the ` +
      'GPU cannot group where the data lies: it groups kept axes that lead and/or trail the summed ones, or one ' +
      `block of kept axes between summed ones. Transpose the data so that the kept axes come first (and set ${option} ` +
      'to the trailing axes), or use evaluate(), which transposes on the host.',
  );
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
 * How many compiled losses each preset library keeps for its evaluate() calls (one per distinct
 * shape and option set; MONAI's Wasserstein and clDice presets have a cache of their own each).
 * Between calls a cached loss holds only its uniforms and scratch (group-sized: no buffer of the
 * input's size: compute() frees its uploads and readback when it returns); the least recently
 * used one beyond this bound is destroyed, every buffer it made included, once the calls already
 * queued on it have finished. create() losses are the caller's, never cached.
 */
export const PRESET_CACHE_SIZE = 8;

/** What the cache holds: any loss, destroyed once the calls queued on it have settled. */
interface CachedLoss {
  destroyWhenIdle(): void;
  /** Where the loss has it (every loss of the one runtime): compute() frees its tensor-sized buffers. */
  _freeComputeBuffersAfterEachCall?(): void;
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
      loss = make().then((made) => {
        made._freeComputeBuffersAfterEachCall?.();
        return made;
      });
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
