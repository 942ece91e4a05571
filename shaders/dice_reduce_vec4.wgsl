// Forward pass 1 of 2 (vec4 loads): per-workgroup partial sums of the three quantities every
// Dice-family loss is built from: intersection sum(p * t), sum(p) and sum(t), with a count of
// non-finite inputs (lib/faults.wgsl).
//
// The column view is in lib/dice_reduce.wgsl. The host picks the row width as a whole number of
// class periods, so a vec4 column always holds the same four classes and a thread can
// accumulate a column without knowing the class count. The target tensor is bound as `truth`
// because `target` is a reserved word in WGSL. No float atomics: the sums are combined in a
// fixed tree order, so results are bitwise repeatable.

// #include "lib/dice_reduce.wgsl"
// #include "lib/dice_reduce_vec4.wgsl"

// #include "lib/dice_pred_vec4.wgsl"
@group(0) @binding(2) var<storage, read> truth: array<vec4<f32>>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let c = column_of(tid, wg);
  clear_faults(tid);
  workgroupBarrier();

  let sums = column_sums(c);
  shared_inter[tid] = sums[0];
  shared_pred[tid] = sums[1];
  shared_target[tid] = sums[2];
  workgroupBarrier();

  // Pairwise tree over the lanes of each column; `tree_start` is the largest power of two
  // below `lanes`, so lanes that are not a power of two still fold in a fixed order.
  for (var stride = params.tree_start; stride > 0u; stride >>= 1u) {
    if (c.in_range && c.lane < stride && c.lane + stride < params.lanes) {
      let other = tid + stride * params.cols_per_group;
      shared_inter[tid] += shared_inter[other];
      shared_pred[tid] += shared_pred[other];
      shared_target[tid] += shared_target[other];
    }
    workgroupBarrier();
  }

  if (c.in_range && c.lane == 0u) {
    let out = partial_index(c, c.col);
    partials[out] = shared_inter[tid];
    partials[out + 1u] = shared_pred[tid];
    partials[out + 2u] = shared_target[tid];
  }
  store_column_faults(tid, c, wg);
}
