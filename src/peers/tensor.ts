// Minimal dense float64 tensor for the peer-library reference implementations.
// Row-major ("C order") storage, like a contiguous torch / numpy array.
// Everything here is deliberately plain loops: this file is the ground truth other code is checked against.

/** A number or an arbitrarily nested array of numbers (booleans are accepted as 1 / 0 on input). */
export type Nested = number | boolean | null | Nested[];
/** A nested array (rank >= 1). */
export type NestedArray = Nested[];

export interface Tensor {
  shape: number[];
  data: Float64Array;
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides (in elements). */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

export function tensor(shape: readonly number[], data?: Float64Array | number[]): Tensor {
  const n = numel(shape);
  const d = data === undefined ? new Float64Array(n) : Float64Array.from(data);
  if (d.length !== n) throw new Error(`tensor: data length ${d.length} does not match shape [${shape.join(', ')}]`);
  return { shape: [...shape], data: d };
}

export function zeros(shape: readonly number[]): Tensor {
  return tensor(shape);
}

export function full(shape: readonly number[], value: number): Tensor {
  const t = tensor(shape);
  t.data.fill(value);
  return t;
}

export function scalar(value: number): Tensor {
  return tensor([], [value]);
}

export function clone(t: Tensor): Tensor {
  return { shape: [...t.shape], data: Float64Array.from(t.data) };
}

/** Flatten a nested array (and infer its shape). `shape`, when given, must hold the same number of elements. */
export function fromNested(nested: Nested, shape?: readonly number[]): Tensor {
  const inferred: number[] = [];
  let level: Nested = nested;
  while (Array.isArray(level)) {
    inferred.push(level.length);
    if (level.length === 0) break;
    level = level[0];
  }
  const values: number[] = [];
  const walk = (x: Nested, depth: number): void => {
    if (Array.isArray(x)) {
      if (depth >= inferred.length || x.length !== inferred[depth]) {
        throw new Error(`fromNested: ragged nested array (expected shape [${inferred.join(', ')}])`);
      }
      for (const y of x) walk(y, depth + 1);
    } else {
      if (depth !== inferred.length) throw new Error('fromNested: ragged nested array (scalar at the wrong depth)');
      if (typeof x === 'boolean') values.push(x ? 1 : 0);
      else if (x === null) values.push(Number.NaN);
      else values.push(x);
    }
  };
  walk(nested, 0);
  const t = tensor(inferred, values);
  if (shape !== undefined) {
    if (numel(shape) !== t.data.length) {
      throw new Error(
        `fromNested: declared shape [${shape.join(', ')}] does not match inferred [${inferred.join(', ')}]`,
      );
    }
    t.shape = [...shape];
  }
  return t;
}

/** Back to nested arrays; a rank-0 tensor becomes a plain number. */
export function toNested(t: Tensor): number | NestedArray {
  if (t.shape.length === 0) return t.data[0];
  const build = (dim: number, offset: number, strides: number[]): Nested[] => {
    const out: Nested[] = [];
    for (let i = 0; i < t.shape[dim]; i++) {
      const off = offset + i * strides[dim];
      out.push(dim === t.shape.length - 1 ? t.data[off] : build(dim + 1, off, strides));
    }
    return out;
  };
  return build(0, 0, stridesOf(t.shape));
}

/** Flat offset of a multi-index. */
export function offsetOf(shape: readonly number[], idx: readonly number[]): number {
  let off = 0;
  for (let i = 0; i < shape.length; i++) {
    if (idx[i] < 0 || idx[i] >= shape[i])
      throw new Error(`index ${idx[i]} out of range for axis ${i} of size ${shape[i]}`);
    off = off * shape[i] + idx[i];
  }
  return off;
}

/** Multi-index of a flat offset. */
export function unravel(shape: readonly number[], flat: number): number[] {
  const idx = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    idx[i] = flat % shape[i];
    flat = Math.floor(flat / shape[i]);
  }
  return idx;
}

export function get(t: Tensor, ...idx: number[]): number {
  return t.data[offsetOf(t.shape, idx)];
}

export function set(t: Tensor, value: number, ...idx: number[]): void {
  t.data[offsetOf(t.shape, idx)] = value;
}

/** Normalise a possibly negative axis. */
export function normAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new Error(`axis ${axis} out of range for rank ${rank}`);
  return a;
}

/** Same data, new shape (one entry may be -1). */
export function reshape(t: Tensor, shape: readonly number[]): Tensor {
  const s = [...shape];
  const minus = s.indexOf(-1);
  if (minus >= 0) {
    const rest = numel(s.filter((_, i) => i !== minus));
    s[minus] = rest === 0 ? 0 : t.data.length / rest;
  }
  if (numel(s) !== t.data.length || s.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`reshape: cannot view [${t.shape.join(', ')}] as [${shape.join(', ')}]`);
  }
  return { shape: s, data: t.data };
}

export function map(t: Tensor, f: (x: number, flat: number) => number): Tensor {
  const out = tensor(t.shape);
  for (let i = 0; i < t.data.length; i++) out.data[i] = f(t.data[i], i);
  return out;
}

/** numpy / torch broadcasting of two shapes. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = i < n - a.length ? 1 : a[i - (n - a.length)];
    const db = i < n - b.length ? 1 : b[i - (n - b.length)];
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`shapes [${a.join(', ')}] and [${b.join(', ')}] are not broadcastable`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Offset into `t` of the element that broadcasting maps `outIdx` (an index of `outShape`) to. */
function broadcastOffset(t: Tensor, outShape: readonly number[], outIdx: readonly number[]): number {
  const lead = outShape.length - t.shape.length;
  let off = 0;
  for (let i = 0; i < t.shape.length; i++) {
    const d = t.shape[i];
    off = off * d + (d === 1 ? 0 : outIdx[lead + i]);
  }
  return off;
}

/** Element-wise binary op with broadcasting. */
export function zip(a: Tensor, b: Tensor, f: (x: number, y: number) => number): Tensor {
  const shape = broadcastShapes(a.shape, b.shape);
  const out = tensor(shape);
  for (let i = 0; i < out.data.length; i++) {
    const idx = unravel(shape, i);
    out.data[i] = f(a.data[broadcastOffset(a, shape, idx)], b.data[broadcastOffset(b, shape, idx)]);
  }
  return out;
}

export const add = (a: Tensor, b: Tensor): Tensor => zip(a, b, (x, y) => x + y);
export const sub = (a: Tensor, b: Tensor): Tensor => zip(a, b, (x, y) => x - y);
export const mul = (a: Tensor, b: Tensor): Tensor => zip(a, b, (x, y) => x * y);
export const div = (a: Tensor, b: Tensor): Tensor => zip(a, b, (x, y) => x / y);
export const scale = (a: Tensor, k: number): Tensor => map(a, (x) => x * k);

/** Sum over `axes` (negative allowed); `keepdim` keeps them as size-1 axes. */
export function sumAxes(t: Tensor, axes: readonly number[], keepdim = false): Tensor {
  const rank = t.shape.length;
  const reduce = new Set(axes.map((a) => normAxis(a, rank)));
  const keptShape = t.shape.map((d, i) => (reduce.has(i) ? 1 : d));
  const out = tensor(keptShape);
  for (let i = 0; i < t.data.length; i++) {
    const idx = unravel(t.shape, i);
    for (const a of reduce) idx[a] = 0;
    out.data[offsetOf(keptShape, idx)] += t.data[i];
  }
  if (keepdim) return out;
  return reshape(
    out,
    t.shape.filter((_, i) => !reduce.has(i)),
  );
}

export function meanAxes(t: Tensor, axes: readonly number[], keepdim = false): Tensor {
  const rank = t.shape.length;
  let count = 1;
  for (const a of new Set(axes.map((x) => normAxis(x, rank)))) count *= t.shape[a];
  return scale(sumAxes(t, axes, keepdim), 1 / count);
}

export function sumAll(t: Tensor): number {
  let s = 0;
  for (let i = 0; i < t.data.length; i++) s += t.data[i];
  return s;
}

export function meanAll(t: Tensor): number {
  return sumAll(t) / t.data.length;
}

export function maxAll(t: Tensor): number {
  let m = -Infinity;
  for (let i = 0; i < t.data.length; i++) if (t.data[i] > m) m = t.data[i];
  return m;
}

/** Permute axes: out.shape[i] = t.shape[perm[i]]. */
export function transpose(t: Tensor, perm: readonly number[]): Tensor {
  if (perm.length !== t.shape.length) throw new Error('transpose: permutation rank mismatch');
  const outShape = perm.map((p) => t.shape[p]);
  const out = tensor(outShape);
  const srcIdx = new Array<number>(t.shape.length);
  for (let i = 0; i < out.data.length; i++) {
    const idx = unravel(outShape, i);
    for (let k = 0; k < perm.length; k++) srcIdx[perm[k]] = idx[k];
    out.data[i] = t.data[offsetOf(t.shape, srcIdx)];
  }
  return out;
}

/** Move one axis to a new position (like torch.movedim). */
export function moveAxis(t: Tensor, from: number, to: number): Tensor {
  const rank = t.shape.length;
  const f = normAxis(from, rank);
  const d = normAxis(to, rank);
  const order = [...Array(rank).keys()].filter((i) => i !== f);
  order.splice(d, 0, f);
  return transpose(t, order);
}

/** Select `indices` along `axis` (like torch.index_select); slicing is `take(t, axis, range)`. */
export function take(t: Tensor, axis: number, indices: readonly number[]): Tensor {
  const a = normAxis(axis, t.shape.length);
  const outShape = [...t.shape];
  outShape[a] = indices.length;
  const out = tensor(outShape);
  for (let i = 0; i < out.data.length; i++) {
    const idx = unravel(outShape, i);
    const src = indices[idx[a]] < 0 ? indices[idx[a]] + t.shape[a] : indices[idx[a]];
    idx[a] = src;
    out.data[i] = t.data[offsetOf(t.shape, idx)];
  }
  return out;
}

export function range(start: number, end: number): number[] {
  const r: number[] = [];
  for (let i = start; i < end; i++) r.push(i);
  return r;
}

/** t[:, start:end] style slice along one axis. */
export function sliceAxis(t: Tensor, axis: number, start: number, end?: number): Tensor {
  const a = normAxis(axis, t.shape.length);
  return take(t, a, range(start, end ?? t.shape[a]));
}

export function shapesEqual(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
