// Forward pass 1 of 2, subgroup variant of dice_reduce_vec4.wgsl for devices with the
// `subgroups` feature, used when a workgroup's columns (cols_per_group) are a power of two no
// larger than the smallest subgroup. Same view, same sums; the lanes of a column are folded
// first inside each subgroup with shuffles at offsets that are multiples of cols_per_group
// (so only lanes of the same column meet), then across subgroups in workgroup memory: a
// fixed order again, with log2(subgroups) barriers instead of log2(lanes). The column view
// and the fault record are in lib/dice_reduce.wgsl.
// The target tensor is bound as `truth` because `target` is a reserved word in WGSL.

enable subgroups;

// #include "lib/dice_reduce.wgsl"
// #include "lib/dice_reduce_vec4.wgsl"

// #include "lib/dice_pred_vec4.wgsl"
@group(0) @binding(2) var<storage, read> truth: array<vec4<f32>>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
  @builtin(local_invocation_index) tid: u32,
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(subgroup_invocation_id) sg_lane: u32,
  @builtin(subgroup_size) sg_size: u32,
) {
  let c = column_of(tid, wg);
  clear_faults(tid);
  workgroupBarrier();

  let sums = column_sums(c);
  var inter = sums[0];
  var pred_sum = sums[1];
  var target_sum = sums[2];
  // 1. Inside the subgroup. Lanes below `offset` read a valid partner at every step, and
  // those are the only lanes whose result is used.
  for (var offset = sg_size / 2u; offset >= params.cols_per_group; offset >>= 1u) {
    inter += subgroupShuffleDown(inter, offset);
    pred_sum += subgroupShuffleDown(pred_sum, offset);
    target_sum += subgroupShuffleDown(target_sum, offset);
  }

  // 2. Across subgroups: slot s * cols_per_group + c holds subgroup s's sums of column c.
  // Subgroups are consecutive runs of local_invocation_index in a one-dimensional workgroup.
  let slot = (tid / sg_size) * params.cols_per_group + sg_lane;
  if (sg_lane < params.cols_per_group) {
    shared_inter[slot] = inter;
    shared_pred[slot] = pred_sum;
    shared_target[slot] = target_sum;
  }
  workgroupBarrier();
  for (var stride = WORKGROUP_SIZE / sg_size / 2u; stride > 0u; stride >>= 1u) {
    let other = tid + stride * params.cols_per_group;
    if (tid < stride * params.cols_per_group) {
      shared_inter[tid] += shared_inter[other];
      shared_pred[tid] += shared_pred[other];
      shared_target[tid] += shared_target[other];
    }
    workgroupBarrier();
  }

  let out_col = wg.y * params.cols_per_group + tid;
  if (tid < params.cols_per_group && out_col < params.cols) {
    let out = partial_index(c, out_col);
    partials[out] = shared_inter[tid];
    partials[out + 1u] = shared_pred[tid];
    partials[out + 2u] = shared_target[tid];
  }
  store_column_faults(tid, c, wg);
}
