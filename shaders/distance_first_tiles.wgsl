// Distance transform, first pass, for GPUs: the same result as distance_first.wgsl (each
// voxel's distance to the nearest feature of its row along the innermost axis, as a raw value),
// with neighbouring threads on neighbouring voxels. A workgroup takes a run of whole rows of one
// volume's box, in tiles of WORKGROUP_SIZE voxels in box order:
//   forward, tile by tile: an inclusive max-scan of (point + 1 where a feature is, else 0) gives
//     the last feature at or before each point; with the carry from the tiles before, and only
//     when it lies in the point's row, the steps back to it are stored;
//   backward, tile by tile from the end: a min-scan from the right gives the next feature; the
//     nearer of the two becomes the raw value.
// Points are numbered in box order, so a feature of another row is recognised by its number.

// #include "lib/distance_rows.wgsl"

var<workgroup> scan: array<u32, WORKGROUP_SIZE>;

// Inclusive scan over the workgroup: max (from the left), or min from the right.
fn scan_max(tid: u32, value: u32) -> u32 {
  scan[tid] = value;
  workgroupBarrier();
  for (var offset = 1u; offset < WORKGROUP_SIZE; offset <<= 1u) {
    let other = select(0u, scan[tid - offset], tid >= offset);
    workgroupBarrier();
    scan[tid] = max(scan[tid], other);
    workgroupBarrier();
  }
  return scan[tid];
}

fn scan_min_from_right(tid: u32, value: u32) -> u32 {
  scan[tid] = value;
  workgroupBarrier();
  for (var offset = 1u; offset < WORKGROUP_SIZE; offset <<= 1u) {
    let other = select(NONE, scan[tid + offset], tid + offset < WORKGROUP_SIZE);
    workgroupBarrier();
    scan[tid] = min(scan[tid], other);
    workgroupBarrier();
  }
  return scan[tid];
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let work = innermost_rows(wg.x);
  let j = work.j;
  let box = work.box;
  let weight = work.weight;
  let flag_base = work.flag_base;
  let field_base = work.field_base;
  let length = box.extent.z;
  let rows_per_chunk = (work.rows + params.chunks - 1u) / params.chunks;
  let first = min(work.chunk * rows_per_chunk, work.rows) * length;
  let end = min((work.chunk + 1u) * rows_per_chunk, work.rows) * length;
  // Forward: steps back to the last feature of the row (NONE: none yet).
  var carry = 0u;
  for (var tile = first; tile < end; tile += WORKGROUP_SIZE) {
    let p = tile + tid;
    var g = 0u;
    var mark = 0u;
    if (p < end) {
      g = box_row(box, 2u, p / length).start + p % length;
      mark = select(0u, p + 1u, is_feature(flags[flag_base + g], j));
    }
    let last = max(scan_max(tid, mark), carry);
    carry = max(carry, workgroupUniformLoad(&scan[WORKGROUP_SIZE - 1u]));
    // Every thread has read the tile's total before the next tile's scan overwrites it.
    workgroupBarrier();
    if (p < end) {
      let row_start = p - p % length;
      field[field_base + g] = select(NONE, p + 1u - last, last > row_start);
    }
  }
  // Backward: steps on to the next feature of the row; the nearer one.
  var next_carry = NONE;
  let tiles = (end - first + WORKGROUP_SIZE - 1u) / WORKGROUP_SIZE;
  for (var t = tiles; t > 0u; t--) {
    let p = first + (t - 1u) * WORKGROUP_SIZE + tid;
    var g = 0u;
    var mark = NONE;
    var back = NONE;
    if (p < end) {
      g = box_row(box, 2u, p / length).start + p % length;
      back = field[field_base + g];
      mark = select(NONE, p, back == 0u);
    }
    let next = min(scan_min_from_right(tid, mark), next_carry);
    next_carry = min(next_carry, workgroupUniformLoad(&scan[0]));
    workgroupBarrier();
    if (p < end) {
      let row_end = p - p % length + length;
      var steps = back;
      if (next < row_end) {
        steps = min(steps, next - p);
      }
      field[field_base + g] = raw_of_steps(steps, weight);
    }
  }
}
