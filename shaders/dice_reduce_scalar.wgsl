// Forward pass 1 of 2, scalar loads: the fallback of dice_reduce_vec4.wgsl for shapes whose
// slabs cannot be cut into rows of whole vec4s (for example an odd number of pixels with an
// odd class count). Same view, same fixed-order tree; a column is one class here, and the
// partials keep the vec4 layout of the vector kernel with the sum in `.x`, so one finalize
// kernel reads both.

override WORKGROUP_SIZE: u32 = 256u;

struct ReduceParams {
  rows: u32,
  cols: u32,
  cols_per_group: u32,
  lanes: u32,
  rows_per_chunk: u32,
  chunks: u32,
  tree_start: u32,
  // This dispatch covers workgroups linear_base + wg.x of the (slab, chunk) grid, and its
  // bindings start unit_base units into the tensor (see "binding windows" in src/plan.ts).
  linear_base: u32,
  unit_base: u32,
  pad0: u32,
  pad1: u32,
  pad2: u32,
}

@group(0) @binding(0) var<uniform> params: ReduceParams;
@group(0) @binding(1) var<storage, read> pred: array<f32>;
@group(0) @binding(2) var<storage, read> truth: array<f32>;
@group(0) @binding(3) var<storage, read_write> partials: array<vec4<f32>>;

// x: intersection, y: sum of pred, z: sum of target.
var<workgroup> shared_sums: array<vec3<f32>, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let linear = params.linear_base + wg.x;
  let chunk = linear % params.chunks;
  let slab = linear / params.chunks;
  let lane = tid / params.cols_per_group;
  let col = wg.y * params.cols_per_group + tid % params.cols_per_group;
  let in_range = lane < params.lanes && col < params.cols;

  var sums = vec3<f32>(0.0);
  if (in_range) {
    let row_begin = chunk * params.rows_per_chunk;
    let row_end = min(row_begin + params.rows_per_chunk, params.rows);
    // u32 arithmetic wraps, so subtracting the window base before adding the row is exact.
    let slab_base = slab * params.rows * params.cols + col - params.unit_base;
    for (var row = row_begin + lane; row < row_end; row += params.lanes) {
      let i = slab_base + row * params.cols;
      // A no-op for f32; the f16-prediction variant (src/kernels/dice-kernels.ts) widens here.
      let p = f32(pred[i]);
      let t = truth[i];
      sums += vec3<f32>(p * t, p, t);
    }
  }
  shared_sums[tid] = sums;
  workgroupBarrier();

  for (var stride = params.tree_start; stride > 0u; stride >>= 1u) {
    if (in_range && lane < stride && lane + stride < params.lanes) {
      shared_sums[tid] += shared_sums[tid + stride * params.cols_per_group];
    }
    workgroupBarrier();
  }

  if (in_range && lane == 0u) {
    let out = ((slab * params.chunks + chunk) * params.cols + col) * 3u;
    let total = shared_sums[tid];
    partials[out] = vec4<f32>(total.x, 0.0, 0.0, 0.0);
    partials[out + 1u] = vec4<f32>(total.y, 0.0, 0.0, 0.0);
    partials[out + 2u] = vec4<f32>(total.z, 0.0, 0.0, 0.0);
  }
}
