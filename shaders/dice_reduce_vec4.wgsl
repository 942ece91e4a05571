// Forward pass 1 of 2 (vec4 loads): per-workgroup partial sums of the three quantities every
// Dice-family loss is built from: intersection sum(p * t), sum(p) and sum(t).
//
// Each slab (one sample's elements) is viewed as `rows` rows of `cols` vec4 columns. The host
// picks the row width as a whole number of class periods, so a column always holds the same
// four classes and a thread can accumulate a column without knowing the class count.
// Threads of a workgroup are split into `cols_per_group` columns x `lanes` lanes; lane k reads
// rows k, k + lanes, ... of its chunk, so one step of the workgroup reads contiguous memory.
// The target tensor is bound as `truth` because `target` is a reserved word in WGSL.
// No atomics: the sums are combined in a fixed tree order, so results are bitwise repeatable.

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
@group(0) @binding(1) var<storage, read> pred: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> truth: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> partials: array<vec4<f32>>;

var<workgroup> shared_inter: array<vec4<f32>, WORKGROUP_SIZE>;
var<workgroup> shared_pred: array<vec4<f32>, WORKGROUP_SIZE>;
var<workgroup> shared_target: array<vec4<f32>, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let linear = params.linear_base + wg.x;
  let chunk = linear % params.chunks;
  let slab = linear / params.chunks;
  let lane = tid / params.cols_per_group;
  let col = wg.y * params.cols_per_group + tid % params.cols_per_group;
  let in_range = lane < params.lanes && col < params.cols;

  var inter = vec4<f32>(0.0);
  var pred_sum = vec4<f32>(0.0);
  var target_sum = vec4<f32>(0.0);
  if (in_range) {
    let row_begin = chunk * params.rows_per_chunk;
    let row_end = min(row_begin + params.rows_per_chunk, params.rows);
    // u32 arithmetic wraps, so subtracting the window base before adding the row is exact.
    let slab_base = slab * params.rows * params.cols + col - params.unit_base;
    for (var row = row_begin + lane; row < row_end; row += params.lanes) {
      let i = slab_base + row * params.cols;
      // A no-op for f32; the f16-prediction variant (src/kernels/dice-kernels.ts) widens here.
      let p = vec4<f32>(pred[i]);
      let t = truth[i];
      inter += p * t;
      pred_sum += p;
      target_sum += t;
    }
  }
  shared_inter[tid] = inter;
  shared_pred[tid] = pred_sum;
  shared_target[tid] = target_sum;
  workgroupBarrier();

  // Pairwise tree over the lanes of each column; `tree_start` is the largest power of two
  // below `lanes`, so lanes that are not a power of two still fold in a fixed order.
  for (var stride = params.tree_start; stride > 0u; stride >>= 1u) {
    if (in_range && lane < stride && lane + stride < params.lanes) {
      let other = tid + stride * params.cols_per_group;
      shared_inter[tid] += shared_inter[other];
      shared_pred[tid] += shared_pred[other];
      shared_target[tid] += shared_target[other];
    }
    workgroupBarrier();
  }

  if (in_range && lane == 0u) {
    let out = ((slab * params.chunks + chunk) * params.cols + col) * 3u;
    partials[out] = shared_inter[tid];
    partials[out + 1u] = shared_pred[tid];
    partials[out + 2u] = shared_target[tid];
  }
}
