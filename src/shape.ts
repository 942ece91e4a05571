import { WgslDiceError } from './errors.js';

/**
 * A channels-last tensor shape `[B, ...spatial, C]` split into the three numbers the kernels
 * need. Spatial rank 0 is allowed (`[B, C]`: one voxel per sample).
 */
export interface NhwcShape {
  readonly batch: number;
  readonly spatial: number;
  readonly classes: number;
  readonly elements: number;
  readonly dims: readonly number[];
}

export function parseNhwcShape(shape: unknown): NhwcShape {
  if (!Array.isArray(shape) || shape.length < 2) {
    throw new WgslDiceError(
      'INVALID_SHAPE',
      `shape must be an array [B, ...spatial, C] with at least 2 entries, got ${JSON.stringify(shape)}.`,
    );
  }
  shape.forEach((dim, axis) => {
    if (typeof dim !== 'number' || !Number.isInteger(dim) || dim < 1) {
      throw new WgslDiceError(
        'INVALID_SHAPE',
        `shape[${axis}] must be a positive integer, got ${String(dim)} in ${JSON.stringify(shape)}.`,
      );
    }
  });
  const dims = shape as number[];
  const batch = dims[0];
  const classes = dims[dims.length - 1];
  const spatial = dims.slice(1, -1).reduce((a, b) => a * b, 1);
  const elements = batch * spatial * classes;
  if (elements > 2 ** 32 - 1) {
    throw new WgslDiceError(
      'INVALID_SHAPE',
      `shape ${JSON.stringify(dims)} has ${elements} elements; at most 2^32 - 1 are addressable.`,
    );
  }
  return { batch, spatial, classes, elements, dims: [...dims] };
}
