// Sums over one workgroup for the voxel passes' per-class stores (included with
// `// #include "lib/block_sum.wgsl"`): a fixed-order tree in workgroup memory. Its variant
// lib/block_sum_subgroups.wgsl (composed in its place where the adapter has subgroups: the
// `_subgroups` kernels) adds inside each subgroup first, then across subgroups. Both give thread
// 0 the totals, bitwise the same on every run of one pipeline.

var<workgroup> block_a: array<vec4<f32>, WORKGROUP_SIZE>;
var<workgroup> block_b: array<vec4<f32>, WORKGROUP_SIZE>;

// What thread 0 gets back from block_sum.
struct BlockTotals {
  a: vec4<f32>,
  b: vec4<f32>,
}

// The workgroup's totals of `a` and, where `with_b` (a constant of the caller), of `b`, in thread
// 0; every thread of the workgroup calls it.
fn block_sum(tid: u32, a: vec4<f32>, b: vec4<f32>, with_b: bool) -> BlockTotals {
  block_a[tid] = a;
  if (with_b) {
    block_b[tid] = b;
  }
  workgroupBarrier();
  for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride >>= 1u) {
    if (tid < stride) {
      block_a[tid] += block_a[tid + stride];
      if (with_b) {
        block_b[tid] += block_b[tid + stride];
      }
    }
    workgroupBarrier();
  }
  var totals = BlockTotals(block_a[0], vec4<f32>(0.0));
  if (with_b) {
    totals.b = block_b[0];
  }
  workgroupBarrier();
  return totals;
}
