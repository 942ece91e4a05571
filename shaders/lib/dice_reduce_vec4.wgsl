// The vec4 column sums of the seed losses' reduce kernels (dice_reduce_vec4 and
// _vec4_subgroups; included with `// #include "lib/dice_reduce_vec4.wgsl"` after
// lib/dice_reduce.wgsl). The including kernel declares `pred` (vec4 of f32, or of f16 for
// predType 'f16') and `truth`.

// The trees that join the lanes of a column.
var<workgroup> shared_inter: array<vec4<f32>, WORKGROUP_SIZE>;
var<workgroup> shared_pred: array<vec4<f32>, WORKGROUP_SIZE>;
var<workgroup> shared_target: array<vec4<f32>, WORKGROUP_SIZE>;

// A thread's sums over its rows: (intersection, sum of pred, sum of target) as matrix columns.
fn column_sums(c: Column) -> mat3x4<f32> {
  var inter = vec4<f32>(0.0);
  var pred_sum = vec4<f32>(0.0);
  var target_sum = vec4<f32>(0.0);
  if (c.in_range) {
    for (var row = c.row_begin + c.lane; row < c.row_end; row += params.lanes) {
      let i = c.base + row * params.cols;
      // A no-op for f32; widens f16 (lib/dice_pred_vec4_f16.wgsl).
      let p = vec4<f32>(pred[i]);
      let t = truth[i];
      inter += p * t;
      pred_sum += p;
      target_sum += t;
    }
  }
  // A NaN or infinity read leaves its column's sum non-finite (as may finite values that
  // overflow: a false alarm that records nothing). Only then are the rows read again to record
  // each fault with its index, so clean data costs no per-element test.
  if (!all_finite(pred_sum) || !all_finite(target_sum)) {
    for (var row = c.row_begin + c.lane; row < c.row_end; row += params.lanes) {
      let i = c.base + row * params.cols;
      check_unit(FAULT_PRED, i, vec4<f32>(pred[i]));
      check_unit(FAULT_TARGET, i, truth[i]);
    }
  }
  return mat3x4<f32>(inter, pred_sum, target_sum);
}
