// Distance transform, first pass: along the innermost axis (2) of each volume's box, the
// distance of every voxel to the nearest feature voxel of its row, as a raw value (see
// lib/surface_grid.wgsl): steps squared (euclidean, exact), steps (taxicab, chessboard), or
// the f32 bits of w_2 * steps^2 (spacing weights); INF_RAW where the row has no feature. The
// envelope passes (distance_envelope.wgsl) take it from there along the other axes.
//
// Workgroups run over (volume, chunk) of the group; a thread takes whole rows (grid-stride),
// sweeping each forward (steps since the last feature, stored) and backward (the nearer of that
// and the next feature). Volume j of a pair has the features of is_feature(flags, j).

// #include "lib/distance_rows.wgsl"

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let work = innermost_rows(wg.x);
  let chunk = work.chunk;
  let j = work.j;
  let box = work.box;
  let rows = work.rows;
  let weight = work.weight;
  let flag_base = work.flag_base;
  let field_base = work.field_base;
  for (var r = chunk * WORKGROUP_SIZE + tid; r < rows; r += params.chunks * WORKGROUP_SIZE) {
    let row = box_row(box, 2u, r);
    var last = NONE;
    for (var x = 0u; x < row.length; x++) {
      let i = row.start + x;
      if (is_feature(flags[flag_base + i], j)) {
        last = x;
      }
      field[field_base + i] = select(NONE, x - last, last != NONE);
    }
    var next = NONE;
    for (var x = row.length; x > 0u; x--) {
      let i = row.start + x - 1u;
      var steps = field[field_base + i];
      if (steps == 0u) {
        next = x - 1u;
      }
      if (next != NONE) {
        steps = min(steps, next - (x - 1u));
      }
      field[field_base + i] = raw_of_steps(steps, weight);
    }
  }
}
