// Forward pass 1 of 2, scalar loads: the fallback of dice_reduce_vec4.wgsl for shapes whose
// slabs cannot be cut into rows of whole vec4s (for example an odd number of pixels with an
// odd class count). Same view, same fixed-order tree; a column is one class here, and the
// partials keep the vec4 layout of the vector kernel with the sum in `.x`, so one finalize
// kernel reads both.

// #include "lib/dice_reduce.wgsl"

// #include "lib/dice_pred_scalar.wgsl"
@group(0) @binding(2) var<storage, read> truth: array<f32>;

// x: intersection, y: sum of pred, z: sum of target.
var<workgroup> shared_sums: array<vec3<f32>, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let c = column_of(tid, wg);
  clear_faults(tid);
  workgroupBarrier();

  var sums = vec3<f32>(0.0);
  if (c.in_range) {
    for (var row = c.row_first; row < c.row_end; row += c.row_step) {
      let i = c.base + row * params.cols;
      // A no-op for f32; widens f16 (lib/dice_pred_scalar_f16.wgsl).
      let p = f32(pred[i]);
      let t = truth[i];
      sums += vec3<f32>(p * t, p, t);
    }
    // As in lib/dice_reduce_vec4.wgsl: rows are read again only when a sum is not finite.
    if (!all_finite(vec4<f32>(sums.yz, 0.0, 0.0))) {
      for (var row = c.row_first; row < c.row_end; row += c.row_step) {
        let i = c.base + row * params.cols;
        check_unit(FAULT_PRED, i, vec4<f32>(f32(pred[i])));
        check_unit(FAULT_TARGET, i, vec4<f32>(truth[i]));
      }
    }
  }
  shared_sums[tid] = sums;
  workgroupBarrier();

  for (var stride = params.tree_start; stride > 0u; stride >>= 1u) {
    if (c.in_range && c.lane < stride && c.lane + stride < params.lanes) {
      shared_sums[tid] += shared_sums[tid + stride * params.cols_per_group];
    }
    workgroupBarrier();
  }

  if (c.in_range && c.lane == 0u) {
    let out = partial_index(c, c.col);
    let total = shared_sums[tid];
    partials[out] = vec4<f32>(total.x, 0.0, 0.0, 0.0);
    partials[out + 1u] = vec4<f32>(total.y, 0.0, 0.0, 0.0);
    partials[out + 2u] = vec4<f32>(total.z, 0.0, 0.0, 0.0);
  }
  store_column_faults(tid, c, wg);
}
