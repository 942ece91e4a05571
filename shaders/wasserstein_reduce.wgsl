// Generalized Wasserstein Dice, forward pass 1: per-workgroup partial sums per (sample, class),
// on logits (softmax over classes, computed per voxel in place) and an integer label map.
//
// wass_n = sum_k M[t_n, k] * p_k,n is the voxel's Wasserstein distance to its label t_n. Every
// per-sample quantity of the loss is a sum over classes c of
//   V_c = number of voxels labelled c,   W_c = sum of wass_n over the voxels labelled c
// so the reduction runs voxel-major with one column per class, as in family_reduce.wgsl: the
// thread of column c walks its rows (voxels of one sample) in fixed order and computes wass only
// for the voxels labelled c, so each voxel's softmax is evaluated once. The same thread checks
// the logit of class c of every voxel it walks, so each element is checked once for NaN/inf.
// Per column it writes, as raw bits, (V, W, bad labels, non-finite logits) and
// (first bad-label voxel, first non-finite element, 0, 0).

override WORKGROUP_SIZE: u32 = 256u;

const NONE: u32 = 0xffffffffu;

struct WassersteinParams {
  rows: u32,
  cols: u32,
  cols_per_group: u32,
  lanes: u32,
  rows_per_chunk: u32,
  chunks: u32,
  tree_start: u32,
  classes: u32,
  spatial: u32,
  channels_first: u32,
  target_kind: u32,    // 1 u8 labels, 2 u16 labels, 3 u32 labels
  pad: u32,
}

@group(0) @binding(0) var<uniform> params: WassersteinParams;
@group(0) @binding(1) var<storage, read> pred: array<f32>;
// Label maps packed 4 (u8) or 2 (u16) to a word, or one u32 per voxel.
@group(0) @binding(2) var<storage, read> truth: array<u32>;
// The C x C distance matrix, row t = the label, normalised to a maximum of 1.
@group(0) @binding(3) var<storage, read> distance: array<f32>;
@group(0) @binding(4) var<storage, read_write> partials: array<vec4<u32>>;

var<workgroup> shared_sums: array<vec4<f32>, WORKGROUP_SIZE>;
var<workgroup> shared_first: array<vec2<u32>, WORKGROUP_SIZE>;

fn label_at(voxel: u32) -> u32 {
  switch (params.target_kind) {
    case 1u: { return (truth[voxel >> 2u] >> ((voxel & 3u) * 8u)) & 0xffu; }
    case 2u: { return (truth[voxel >> 1u] >> ((voxel & 1u) * 16u)) & 0xffffu; }
    default: { return truth[voxel]; }
  }
}

fn is_finite(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u;
}

fn element_index(voxel: u32, class_index: u32) -> u32 {
  if (params.channels_first != 0u) {
    let sample = voxel / params.spatial;
    return (sample * params.classes + class_index) * params.spatial + voxel % params.spatial;
  }
  return voxel * params.classes + class_index;
}

// sum_k M[label, k] * softmax(z)_k at one voxel.
fn wasserstein_distance(voxel: u32, label: u32) -> f32 {
  var top = pred[element_index(voxel, 0u)];
  for (var k = 1u; k < params.classes; k++) {
    top = max(top, pred[element_index(voxel, k)]);
  }
  var total = 0.0;
  var weighted = 0.0;
  for (var k = 0u; k < params.classes; k++) {
    let e = exp(pred[element_index(voxel, k)] - top);
    total += e;
    weighted += distance[label * params.classes + k] * e;
  }
  return weighted / total;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let chunk = wg.x;
  let sample = wg.z;
  let lane = tid / params.cols_per_group;
  let col = wg.y * params.cols_per_group + tid % params.cols_per_group;
  let in_range = lane < params.lanes && col < params.cols;

  var sums = vec4<f32>(0.0);
  var first = vec2<u32>(NONE, NONE);
  if (in_range) {
    let row_begin = chunk * params.rows_per_chunk;
    let row_end = min(row_begin + params.rows_per_chunk, params.rows);
    for (var row = row_begin + lane; row < row_end; row += params.lanes) {
      let voxel = sample * params.spatial + row;
      let i = element_index(voxel, col);
      if (!is_finite(pred[i])) {
        sums.w += 1.0;
        first.y = min(first.y, i);
      }
      let label = label_at(voxel);
      if (label >= params.classes) {
        // Out-of-range labels have no row of M; count each voxel once (at class 0).
        if (col == 0u) {
          sums.z += 1.0;
          first.x = min(first.x, voxel);
        }
      } else if (label == col) {
        sums.x += 1.0;
        sums.y += wasserstein_distance(voxel, label);
      }
    }
  }
  shared_sums[tid] = sums;
  shared_first[tid] = first;
  workgroupBarrier();

  for (var stride = params.tree_start; stride > 0u; stride >>= 1u) {
    if (in_range && lane < stride && lane + stride < params.lanes) {
      let other = tid + stride * params.cols_per_group;
      shared_sums[tid] += shared_sums[other];
      shared_first[tid] = min(shared_first[tid], shared_first[other]);
    }
    workgroupBarrier();
  }

  if (in_range && lane == 0u) {
    let out = ((sample * params.chunks + chunk) * params.cols + col) * 2u;
    partials[out] = bitcast<vec4<u32>>(shared_sums[tid]);
    partials[out + 1u] = vec4<u32>(shared_first[tid], 0u, 0u);
  }
}
