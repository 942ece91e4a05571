// Row-major N-d grids: sizes, strides, and walking every line along one axis.

import { numel, stridesOf } from '../../peers/tensor.js';

export { numel, stridesOf };

/** Throws unless `shape` is a non-empty list of positive integers (what `what` names). */
export function checkGridShape(shape: readonly number[], what: string): void {
  if (!Array.isArray(shape) || shape.length === 0 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new RangeError(
      `${what}: the shape must be a non-empty list of positive integers, got ${JSON.stringify(shape)}`,
    );
  }
}

/**
 * Calls `visit(start)` with the flat index of the first element of every line along `axis`
 * (the line's elements are start, start + stride, ..., start + (shape[axis] - 1) * stride).
 */
export function forEachLine(shape: readonly number[], axis: number, visit: (start: number) => void): void {
  const strides = stridesOf(shape);
  const stride = strides[axis];
  const blocks = numel(shape.slice(0, axis));
  const blockSize = stride * shape[axis];
  for (let block = 0; block < blocks; block++) {
    const base = block * blockSize;
    for (let offset = 0; offset < stride; offset++) visit(base + offset);
  }
}

/** Per-axis spacing from a number (every axis) or a list (one per axis), all finite and positive. */
export function spacingPerAxis(spacing: number | readonly number[] | undefined, dims: number, what: string): number[] {
  const s =
    spacing === undefined
      ? new Array<number>(dims).fill(1)
      : typeof spacing === 'number'
        ? new Array<number>(dims).fill(spacing)
        : [...spacing];
  if (s.length !== dims || !s.every((v) => typeof v === 'number' && Number.isFinite(v) && v > 0)) {
    throw new RangeError(
      `${what}: spacing must be a finite positive number or one per axis (${dims}), got ${JSON.stringify(spacing)}`,
    );
  }
  return s;
}

/** Steps `coord` to the next voxel in row-major order (the last axis fastest); wraps to 0 at the end. */
export function advance(coord: number[], shape: readonly number[]): void {
  for (let a = shape.length - 1; a >= 0; a--) {
    if (++coord[a] < shape[a]) return;
    coord[a] = 0;
  }
}
