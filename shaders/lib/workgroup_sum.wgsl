// A fixed-order tree over one workgroup (included with `// #include "lib/workgroup_sum.wgsl"`):
// every thread passes its value and gets the workgroup's total back, bitwise the same on
// every run. WORKGROUP_SIZE must be a power of two (the engine checks it).

var<workgroup> workgroup_sum_scratch: array<vec4<f32>, WORKGROUP_SIZE>;

fn workgroup_sum(tid: u32, value: vec4<f32>) -> vec4<f32> {
  workgroup_sum_scratch[tid] = value;
  workgroupBarrier();
  for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride >>= 1u) {
    if (tid < stride) {
      workgroup_sum_scratch[tid] += workgroup_sum_scratch[tid + stride];
    }
    workgroupBarrier();
  }
  let total = workgroup_sum_scratch[0];
  workgroupBarrier();
  return total;
}
