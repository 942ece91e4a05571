// The boundary measure of one cell (2x2 or 2x2x2 voxels) for MONAI's `use_subvoxels`: the contour
// length (2D, marching squares) or surface area (3D, marching cubes) of the iso-surface that
// separates the cell's corners inside the mask from those outside, with its vertices at the
// midpoints of the cell's edges, scaled by the spacing.
//
// Tables are indexed by MONAI's neighbourhood code (ENCODING_KERNEL in monai/metrics/utils.py,
// from DeepMind's surface-distance): the corner at offset o (row-major, o_a in {0, 1}) has the
// bit 2^(2^d - 1 - linear(o)), so the corner at offset 0 is the highest bit.
//
// Construction (3D): on each of the cube's six faces, marching squares joins the cut edges in
// pairs. A face whose inside corners sit on a diagonal (a saddle) cuts off the corners of the
// cube's minority class (the inside corners when at most 4 are inside), as the classic
// Lorensen-Cline table does by treating a configuration and its complement alike. The segments
// chain into closed loops of 3 to 6 edge midpoints. A planar loop has the same area whatever
// its triangulation; two loops are not planar: five midpoints around three corners of a face,
// and six around a twisted chain of four corners. For those the classic table (DeepMind's
// normals, hence MONAI's areas) uses the triangulation of largest area at unit spacing (a fan
// from the end of the L for the first, a centre triangle with three ears for the second); we
// choose by that property rather than copying a table. The triangles are then measured in
// physical units, i.e. with every vertex scaled by the spacing, which is what MONAI's
// per-component scaling of the unit-spacing normals computes.

type Vec = readonly number[];

const cornerOffset = (dims: number, corner: number): number[] =>
  Array.from({ length: dims }, (_, a) => (corner >> (dims - 1 - a)) & 1);

/** MONAI's bit for a corner: the corner at offset 0 is the highest bit. */
export const cornerBit = (dims: number, corner: number): number => 1 << ((1 << dims) - 1 - corner);

function insideCorners(dims: number, code: number): boolean[] {
  return Array.from({ length: 1 << dims }, (_, c) => (code & cornerBit(dims, c)) !== 0);
}

type Edge = readonly [number, number];
const edgeKey = (a: number, b: number): string => (a < b ? `${a}-${b}` : `${b}-${a}`);

/** The corners of each square face of the 2^dims cell, in cyclic order (dims 2: the one face). */
function faces(dims: number): number[][] {
  const out: number[][] = [];
  const fixed =
    dims === 2
      ? [[]]
      : [0, 1, 2].flatMap((axis) => [
          [axis, 0],
          [axis, 1],
        ]);
  for (const f of fixed) {
    const free = Array.from({ length: dims }, (_, a) => a).filter((a) => a !== f[0]);
    const cycle: number[] = [];
    for (const [u, v] of [
      [0, 0],
      [1, 0],
      [1, 1],
      [0, 1],
    ]) {
      const offset = new Array<number>(dims).fill(0);
      if (f.length === 2) offset[f[0]] = f[1];
      offset[free[0]] = u;
      offset[free[1]] = v;
      cycle.push(offset.reduce((acc, bit) => acc * 2 + bit, 0));
    }
    out.push(cycle);
  }
  return out;
}

/** Marching squares on every face: segments between midpoints of cut edges. */
function segments(dims: number, code: number): [Edge, Edge][] {
  const inside = insideCorners(dims, code);
  const insideCount = inside.filter(Boolean).length;
  // on a saddle face, cut off the corners of the minority class (inside ones on a 4-4 tie)
  const separated = insideCount <= (1 << dims) / 2;
  const out: [Edge, Edge][] = [];
  for (const cycle of faces(dims)) {
    const edges: Edge[] = cycle.map((c, i) => [c, cycle[(i + 1) % 4]] as const);
    const cut = edges.filter(([a, b]) => inside[a] !== inside[b]);
    if (cut.length === 2) out.push([cut[0], cut[1]]);
    else if (cut.length === 4) {
      for (let i = 0; i < 4; i++) if (inside[cycle[i]] === separated) out.push([edges[(i + 3) % 4], edges[i]]);
    }
  }
  return out;
}

/** Chains segments that share an edge midpoint into closed loops (3D). */
function loops(segs: [Edge, Edge][]): Edge[][] {
  const used = new Array<boolean>(segs.length).fill(false);
  const result: Edge[][] = [];
  for (let s = 0; s < segs.length; s++) {
    if (used[s]) continue;
    used[s] = true;
    const loop: Edge[] = [segs[s][0], segs[s][1]];
    for (;;) {
      const last = edgeKey(...loop[loop.length - 1]);
      const next = segs.findIndex((seg, k) => !used[k] && (edgeKey(...seg[0]) === last || edgeKey(...seg[1]) === last));
      if (next < 0) break;
      used[next] = true;
      const other = edgeKey(...segs[next][0]) === last ? segs[next][1] : segs[next][0];
      if (edgeKey(...other) === edgeKey(...loop[0])) break;
      loop.push(other);
    }
    result.push(loop);
  }
  return result;
}

function midpoint(dims: number, [a, b]: Edge, spacing: Vec): number[] {
  const pa = cornerOffset(dims, a);
  const pb = cornerOffset(dims, b);
  return pa.map((x, i) => ((x + pb[i]) / 2) * spacing[i]);
}

function triangleArea(p: Vec, q: Vec, r: Vec): number {
  const u = [q[0] - p[0], q[1] - p[1], q[2] - p[2]];
  const v = [r[0] - p[0], r[1] - p[1], r[2] - p[2]];
  const c = [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]];
  return Math.hypot(c[0], c[1], c[2]) / 2;
}

type Triangle = readonly [number, number, number];

/** Every triangulation of a convex polygon with vertices 0..n-1. */
function triangulations(first: number, last: number): Triangle[][] {
  if (last - first < 2) return [[]];
  const out: Triangle[][] = [];
  for (let k = first + 1; k < last; k++) {
    for (const left of triangulations(first, k)) {
      for (const right of triangulations(k, last)) out.push([...left, ...right, [first, k, last]]);
    }
  }
  return out;
}

/** The triangles (as triples of cut edges) of each cell code, chosen once at unit spacing. */
let cubeTriangles: Edge[][][] | null = null;

function trianglesOfCubeCodes(): Edge[][][] {
  if (cubeTriangles) return cubeTriangles;
  const unit = [1, 1, 1];
  cubeTriangles = Array.from({ length: 256 }, (_, code) =>
    loops(segments(3, code)).flatMap((loop) => {
      const points = loop.map((e) => midpoint(3, e, unit));
      let best: Triangle[] = [];
      let bestArea = -Infinity;
      for (const candidate of triangulations(0, loop.length - 1)) {
        const area = candidate.reduce((sum, [a, b, c]) => sum + triangleArea(points[a], points[b], points[c]), 0);
        if (area > bestArea + 1e-12) {
          best = candidate;
          bestArea = area;
        }
      }
      return best.map(([a, b, c]) => [loop[a], loop[b], loop[c]]);
    }),
  );
  return cubeTriangles;
}

/** Surface area of each of the 256 2x2x2 cell codes, for voxels of size `spacing`. */
export function surfaceAreaTable(spacing: Vec): Float64Array {
  const table = new Float64Array(256);
  trianglesOfCubeCodes().forEach((triangles, code) => {
    let area = 0;
    for (const [a, b, c] of triangles)
      area += triangleArea(midpoint(3, a, spacing), midpoint(3, b, spacing), midpoint(3, c, spacing));
    table[code] = area;
  });
  return table;
}

/** Contour length of each of the 16 2x2 cell codes, for pixels of size `spacing`. */
export function contourLengthTable(spacing: Vec): Float64Array {
  const table = new Float64Array(16);
  for (let code = 0; code < 16; code++) {
    for (const [a, b] of segments(2, code)) {
      const p = midpoint(2, a, spacing);
      const q = midpoint(2, b, spacing);
      table[code] += Math.hypot(q[0] - p[0], q[1] - p[1]);
    }
  }
  return table;
}
