// The vec4 column sums of the classic Dice losses' reduce kernels (dice_reduce_vec4 and
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
    // Two rows a step, both loaded before either is added: four loads in flight per thread
    // where a compiler that does not unroll (AMD's ACO) would issue two and wait. The adds keep
    // the order of a one-row loop.
    let step = c.row_step * params.cols;
    var row = c.row_first;
    for (; row < c.row_end && c.row_end - row > c.row_step; row += 2u * c.row_step) {
      let i = c.base + row * params.cols;
      // A no-op for f32; widens f16 (lib/dice_pred_vec4_f16.wgsl).
      let p0 = vec4<f32>(pred[i]);
      let t0 = truth[i];
      let p1 = vec4<f32>(pred[i + step]);
      let t1 = truth[i + step];
      inter += p0 * t0;
      pred_sum += p0;
      target_sum += t0;
      inter += p1 * t1;
      pred_sum += p1;
      target_sum += t1;
    }
    if (row < c.row_end) {
      let i = c.base + row * params.cols;
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
    for (var row = c.row_first; row < c.row_end; row += c.row_step) {
      let i = c.base + row * params.cols;
      check_unit(FAULT_PRED, i, vec4<f32>(pred[i]));
      check_unit(FAULT_TARGET, i, truth[i]);
    }
  }
  return mat3x4<f32>(inter, pred_sum, target_sum);
}
