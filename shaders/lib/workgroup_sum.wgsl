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

// The same tree inside groups of `lanes` consecutive threads (`lanes` a power of two dividing
// WORKGROUP_SIZE): every thread passes its value, and the first thread of each group gets its
// group's total back. All threads of the workgroup must call it. The finalize passes use it to
// fold many chunk partials in parallel instead of one thread walking them (a chain of
// dependent loads is latency-bound on a GPU).
fn lane_group_sum(tid: u32, lanes: u32, value: vec4<f32>) -> vec4<f32> {
  workgroup_sum_scratch[tid] = value;
  workgroupBarrier();
  let lane = tid % lanes;
  for (var stride = lanes / 2u; stride > 0u; stride >>= 1u) {
    if (lane < stride) {
      workgroup_sum_scratch[tid] += workgroup_sum_scratch[tid + stride];
    }
    workgroupBarrier();
  }
  let total = workgroup_sum_scratch[tid];
  workgroupBarrier();
  return total;
}

// Neumaier's compensated sum, per component: the running `sum` and the rounding `error` it has
// lost so far (the total is sum + error). The finalize passes fold many large chunk partials
// with it: it keeps the exact totals that a plain running f32 sum rounds away past 2^24.
struct Compensated {
  sum: vec4<f32>,
  error: vec4<f32>,
}

fn compensated_add(c: Compensated, x: vec4<f32>) -> Compensated {
  let t = c.sum + x;
  return Compensated(t, c.error + select((x - t) + c.sum, (c.sum - t) + x, abs(c.sum) >= abs(x)));
}
