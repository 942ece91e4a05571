// A pair's bounding box on the grid and the rows and points of it (included with
// `// #include "lib/surface_box.wgsl"`): the passes after the first touch only the box, which
// holds every surface element of the pair (MONAI crops the same way). The including kernel
// declares `boxes: array<vec4<u32>>` (read): per pair, the inclusive voxel box (lo, hi) of the
// union of both masks, lo > hi when both are empty; programs without cropping hold the whole
// volume there.

// #include "lib/surface_grid.wgsl"

struct Box {
  lo: vec3<u32>,
  extent: vec3<u32>,
}

// A pair's region of the grid: its voxel box (inclusive, from boxes[2 pair] and
// boxes[2 pair + 1]) as grid coordinates; on the cell grid one cell more on each real axis (the
// cells j - 1 and j hold voxel j). An empty box (lo > hi: neither mask has a voxel) is empty.
fn box_of(pair: u32) -> Box {
  let lo = boxes[pair * 2u].xyz;
  let hi = boxes[pair * 2u + 1u].xyz;
  if (any(lo > hi)) {
    return Box(vec3<u32>(0u), vec3<u32>(0u));
  }
  let grow = select(vec3<u32>(0u), vec3<u32>(params.cell_grid), real_axes());
  return Box(lo, hi - lo + vec3<u32>(1u) + grow);
}

fn box_volume(box: Box) -> u32 {
  return box.extent.x * box.extent.y * box.extent.z;
}

// A row of a box along `axis`: its first grid index, its step and its length.
struct Row {
  start: u32,
  stride: u32,
  length: u32,
}

// The r-th row of `box` along `axis` (rows ordered with the innermost other axis fastest, so
// that neighbouring rows are neighbouring addresses); r < row_count(box, axis).
fn box_row(box: Box, axis: u32, r: u32) -> Row {
  let strides = grid_strides();
  // The other two axes, outer first.
  let p = select(0u, 1u, axis == 0u);
  let q = select(2u, 1u, axis == 2u);
  let cp = box.lo[p] + r / box.extent[q];
  let cq = box.lo[q] + r % box.extent[q];
  return Row(cp * strides[p] + cq * strides[q] + box.lo[axis] * strides[axis], strides[axis], box.extent[axis]);
}

fn row_count(box: Box, axis: u32) -> u32 {
  return box_volume(box) / max(box.extent[axis], 1u);
}


// The points of a box one thread visits, `threads` threads sharing it (thread = its index):
// with row_walk, whole rows along the innermost axis (rows thread, thread + threads, ...), each
// point's coordinates stepped from the last; otherwise the points thread, thread + threads, ...
// in row-major order (neighbouring threads, neighbouring points). After walk_next returns true,
// `g` is the point's grid index and `c` its coordinates.
struct BoxWalk {
  box: Box,
  threads: u32,
  // The current row (row walk) or point (point walk), and the position in the row.
  item: u32,
  x: u32,
  started: bool,
  g: u32,
  c: vec3<u32>,
}

fn box_walk(box: Box, thread: u32, threads: u32) -> BoxWalk {
  return BoxWalk(box, threads, thread, 0u, false, 0u, vec3<u32>(0u));
}

fn walk_next(w: ptr<function, BoxWalk>) -> bool {
  let e = (*w).box.extent;
  if (params.row_walk == 0u) {
    if ((*w).started) {
      (*w).item += (*w).threads;
    }
    (*w).started = true;
    let k = (*w).item;
    if (k >= e.x * e.y * e.z) {
      return false;
    }
    (*w).c = (*w).box.lo + vec3<u32>(k / (e.y * e.z), (k / e.z) % e.y, k % e.z);
    (*w).g = linear_index((*w).c);
    return true;
  }
  if ((*w).started) {
    (*w).x += 1u;
    if ((*w).x < e.z) {
      (*w).c.z += 1u;
      (*w).g += 1u;
      return true;
    }
    (*w).item += (*w).threads;
    (*w).x = 0u;
  }
  (*w).started = true;
  if ((*w).item >= e.x * e.y || e.z == 0u) {
    return false;
  }
  (*w).c = (*w).box.lo + vec3<u32>((*w).item / e.y, (*w).item % e.y, 0u);
  (*w).g = linear_index((*w).c);
  return true;
}
