// The surfaces MONAI measures distances between.
//
// Voxel edges (MONAI's default): a voxel is an edge voxel when it is in the mask and one of its
// 2*d face neighbours is not, a neighbour outside the image counting as not in the mask (MONAI:
// mask XOR scipy's binary_erosion with the cross-shaped structure, on the foreground bounding box
// padded by one empty voxel).
//
// Subvoxel boundary (`use_subvoxels`): the cells between voxels, 2x2 (2D) or 2x2x2 (3D), over the
// mask padded with one empty voxel on every side: a (n_a + 1)-per-axis grid in which cell j holds
// the voxels j - 1 and j along each axis. A cell is on the boundary unless its corners are all
// inside or all outside; it weighs its contour length or surface area (marching.ts). MONAI
// computes the same cells on the bounding box instead of the whole image: distances between
// cells do not depend on where the grid starts.

import { advance, checkGridShape, numel, stridesOf } from './grid.js';
import { contourLengthTable, cornerBit, surfaceAreaTable } from './marching.js';

/** MONAI's edge voxels of a binary mask (1 = edge). */
export function maskEdges(mask: ArrayLike<number>, shape: readonly number[]): Uint8Array {
  checkGridShape(shape, 'maskEdges');
  const n = numel(shape);
  if (mask.length !== n) throw new RangeError(`maskEdges: ${mask.length} values for shape [${shape.join(', ')}]`);
  const strides = stridesOf(shape);
  const dims = shape.length;
  const out = new Uint8Array(n);
  const coord = new Array<number>(dims).fill(0);
  for (let i = 0; i < n; i++) {
    if (mask[i] !== 0) {
      let edge = false;
      for (let a = 0; a < dims && !edge; a++) {
        edge = coord[a] === 0 || coord[a] === shape[a] - 1 || mask[i - strides[a]] === 0 || mask[i + strides[a]] === 0;
      }
      out[i] = edge ? 1 : 0;
    }
    advance(coord, shape);
  }
  return out;
}

export interface SubvoxelBoundary {
  /** The cell grid: shape[a] + 1 per axis. */
  cellShape: number[];
  /** 1 where the cell is on the boundary. */
  boundary: Uint8Array;
  /** Contour length (2D) or surface area (3D) of each cell, in physical units (0 off the boundary). */
  measure: Float64Array;
}

/** The boundary cells of a 2D or 3D mask and their lengths or areas, for voxels of size `spacing`. */
export function subvoxelBoundary(
  mask: ArrayLike<number>,
  shape: readonly number[],
  spacing: readonly number[],
): SubvoxelBoundary {
  checkGridShape(shape, 'subvoxelBoundary');
  const dims = shape.length;
  if (dims !== 2 && dims !== 3)
    throw new RangeError(
      `subvoxelBoundary: subvoxel boundaries are defined in 2D and 3D, got shape [${shape.join(', ')}]`,
    );
  if (spacing.length !== dims)
    throw new RangeError(`subvoxelBoundary: one spacing per axis (${dims}), got ${JSON.stringify(spacing)}`);
  const table = dims === 2 ? contourLengthTable(spacing) : surfaceAreaTable(spacing);
  const full = (1 << (1 << dims)) - 1;
  const cellShape = shape.map((d) => d + 1);
  const cells = numel(cellShape);
  const strides = stridesOf(shape);
  const boundary = new Uint8Array(cells);
  const measure = new Float64Array(cells);
  const cell = new Array<number>(dims).fill(0);
  const corners = 1 << dims;
  for (let i = 0; i < cells; i++) {
    let code = 0;
    for (let corner = 0; corner < corners; corner++) {
      let index = 0;
      let outsideImage = false;
      for (let a = 0; a < dims; a++) {
        const voxel = cell[a] - 1 + ((corner >> (dims - 1 - a)) & 1);
        if (voxel < 0 || voxel >= shape[a]) outsideImage = true;
        index += voxel * strides[a];
      }
      if (!outsideImage && mask[index] !== 0) code |= cornerBit(dims, corner);
    }
    if (code !== 0 && code !== full) {
      boundary[i] = 1;
      measure[i] = table[code];
    }
    advance(cell, cellShape);
  }
  return { cellShape, boundary, measure };
}
