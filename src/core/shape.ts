import { WgslDiceError } from './errors.js';
import { describeValue } from './validate.js';

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

/** Kernels index elements with u32. */
const MAX_ELEMENTS = 2 ** 32 - 1;

export function parseNhwcShape(shape: unknown): NhwcShape {
  if (!Array.isArray(shape) || shape.length < 2) {
    throw new WgslDiceError(
      'INVALID_SHAPE',
      `shape must be a plain array [B, ...spatial, C] with at least 2 entries (e.g. [2, 128, 128, 4]), ` +
        `got ${formatShape(shape)}.`,
    );
  }
  // An index loop, not forEach: forEach skips the holes of a sparse array such as [2, , 3].
  for (let axis = 0; axis < shape.length; axis++) {
    const dim: unknown = shape[axis];
    if (typeof dim !== 'number' || !Number.isInteger(dim) || dim < 1) {
      const role = axis === 0 ? 'the batch size B' : axis === shape.length - 1 ? 'the class count C' : 'a spatial size';
      throw new WgslDiceError(
        'INVALID_SHAPE',
        `shape[${axis}] (${role}) must be a positive integer, got ${formatDim(dim)} in ${formatShape(shape)}.`,
      );
    }
  }
  const dims = shape as number[];
  const batch = dims[0];
  const classes = dims[dims.length - 1];
  const spatial = dims.slice(1, -1).reduce((a, b) => a * b, 1);
  const elements = batch * spatial * classes;
  if (elements > MAX_ELEMENTS) {
    throw new WgslDiceError(
      'INVALID_SHAPE',
      `shape ${formatShape(dims)} has ${elements} elements; at most 2^32 - 1 are addressable, ` +
        'so split the batch or the volume into several losses.',
    );
  }
  return { batch, spatial, classes, elements, dims: [...dims] };
}

/**
 * A tensor shape in either layout, `[B, ...spatial, C]` (channels-last) or `[B, C, ...spatial]`
 * (channels-first), as the family, Wasserstein and clDice losses take it.
 */
export interface LayoutShape {
  readonly dims: readonly number[];
  readonly batch: number;
  readonly classes: number;
  /** Voxels per sample: the product of the spatial sizes (1 with no spatial axis). */
  readonly spatial: number;
  readonly elements: number;
  readonly channelsFirst: boolean;
}

export function parseLayoutShape(shape: unknown, channelsFirst: boolean): LayoutShape {
  if (!Array.isArray(shape) || shape.length < 2) {
    throw new WgslDiceError(
      'INVALID_SHAPE',
      `shape must be [B, ...spatial, C] or [B, C, ...spatial] with at least 2 entries, got ${JSON.stringify(shape)}.`,
    );
  }
  // An index loop, not forEach: forEach skips the holes of a sparse array such as [2, , 3].
  for (let axis = 0; axis < shape.length; axis++) {
    const d: unknown = shape[axis];
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 1) {
      throw new WgslDiceError('INVALID_SHAPE', `shape[${axis}] must be a positive integer, got ${describeValue(d)}.`);
    }
  }
  const dims = shape as number[];
  const classes = channelsFirst ? dims[1] : dims[dims.length - 1];
  const spatialDims = channelsFirst ? dims.slice(2) : dims.slice(1, -1);
  const spatial = spatialDims.reduce((a, b) => a * b, 1);
  const elements = dims[0] * classes * spatial;
  if (elements > MAX_ELEMENTS) {
    throw new WgslDiceError('INVALID_SHAPE', `shape ${JSON.stringify(dims)} has more than 2^32 - 1 elements.`);
  }
  return { dims: [...dims], batch: dims[0], classes, spatial, elements, channelsFirst };
}

// JSON.stringify would print NaN and Infinity as null.
function formatShape(shape: unknown): string {
  if (Array.isArray(shape)) return `[${Array.from(shape, formatDim).join(', ')}]`;
  if (ArrayBuffer.isView(shape)) return `a ${shape.constructor.name} (use a plain array)`;
  return typeof shape === 'string' ? JSON.stringify(shape) : String(shape);
}

function formatDim(dim: unknown): string {
  return typeof dim === 'string' ? JSON.stringify(dim) : dim === undefined ? 'a hole (undefined)' : String(dim);
}
