// lib/block_sum.wgsl with subgroups (read that file first): each subgroup adds its lanes
// (subgroupAdd), its first lane writes the subgroup's total, and thread 0 adds the subgroups'
// totals in order: two barriers instead of log2(WORKGROUP_SIZE) + 1. Subgroups are consecutive
// runs of local_invocation_index in a one-dimensional workgroup (as dice_reduce_vec4_subgroups.wgsl
// assumes), at least SUBGROUP_MIN_SIZE lanes each (the adapter's subgroupMinSize).
enable subgroups;

override SUBGROUP_MIN_SIZE: u32 = 4u;

var<workgroup> subgroup_a: array<vec4<f32>, WORKGROUP_SIZE / SUBGROUP_MIN_SIZE>;
var<workgroup> subgroup_b: array<vec4<f32>, WORKGROUP_SIZE / SUBGROUP_MIN_SIZE>;

struct BlockTotals {
  a: vec4<f32>,
  b: vec4<f32>,
}

fn block_sum(tid: u32, a: vec4<f32>, b: vec4<f32>, with_b: bool) -> BlockTotals {
  // Every thread of the workgroup is active here, so these are the subgroup's size and first lane.
  let size = subgroupAdd(1u);
  let first = subgroupMin(tid);
  let total_a = subgroupAdd(a);
  var total_b = vec4<f32>(0.0);
  if (with_b) {
    total_b = subgroupAdd(b);
  }
  if (tid == first) {
    subgroup_a[tid / size] = total_a;
    if (with_b) {
      subgroup_b[tid / size] = total_b;
    }
  }
  workgroupBarrier();
  var totals = BlockTotals(vec4<f32>(0.0), vec4<f32>(0.0));
  if (tid == 0u) {
    for (var s = 0u; s < WORKGROUP_SIZE / size; s++) {
      totals.a += subgroup_a[s];
      if (with_b) {
        totals.b += subgroup_b[s];
      }
    }
  }
  workgroupBarrier();
  return totals;
}
