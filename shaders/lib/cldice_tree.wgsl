// clDice: the fixed-order workgroup sum of each thread's pair of vec4 partial sums, shared by
// cldice_sums.wgsl and cldice_finalize.wgsl (put in front of both). A pairwise tree over
// thread indices: the same inputs give bitwise the same sums.

var<workgroup> skeleton_sums: array<vec4<f32>, WORKGROUP_SIZE>;
var<workgroup> dice_sums: array<vec4<f32>, WORKGROUP_SIZE>;

struct SumPair {
  skeleton: vec4<f32>,
  dice: vec4<f32>,
}

// Every thread calls this (it holds barriers); the workgroup's totals come back to all.
fn workgroup_sum_pair(tid: u32, mine: SumPair) -> SumPair {
  skeleton_sums[tid] = mine.skeleton;
  dice_sums[tid] = mine.dice;
  workgroupBarrier();
  for (var half = WORKGROUP_SIZE / 2u; half > 0u; half /= 2u) {
    if (tid < half) {
      skeleton_sums[tid] += skeleton_sums[tid + half];
      dice_sums[tid] += dice_sums[tid + half];
    }
    workgroupBarrier();
  }
  return SumPair(skeleton_sums[0], dice_sums[0]);
}
