// Generalized Wasserstein Dice backward pass: one thread per voxel writes dL/dz for all of its
// classes. With t the voxel's label, p = softmax(z), wass = sum_k M[t, k] p_k and
// g = dL/dW_t of its sample (from wasserstein_finalize.wgsl):
//   dL/dz_k = g * p_k * (M[t, k] - wass)
// Voxels with an out-of-range label (reported by the forward pass) get 0.

override WORKGROUP_SIZE: u32 = 256u;

struct BackwardParams {
  voxels: u32,
  classes: u32,
  spatial: u32,
  channels_first: u32,
  target_kind: u32,
  voxels_per_chunk: u32,
  pad0: u32,
  pad1: u32,
}

@group(0) @binding(0) var<uniform> params: BackwardParams;
@group(0) @binding(1) var<storage, read> pred: array<f32>;
@group(0) @binding(2) var<storage, read> truth: array<u32>;
@group(0) @binding(3) var<storage, read> distance: array<f32>;
@group(0) @binding(4) var<storage, read> class_sums: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> grad: array<f32>;

fn label_at(voxel: u32) -> u32 {
  switch (params.target_kind) {
    case 1u: { return (truth[voxel >> 2u] >> ((voxel & 3u) * 8u)) & 0xffu; }
    case 2u: { return (truth[voxel >> 1u] >> ((voxel & 1u) * 16u)) & 0xffffu; }
    default: { return truth[voxel]; }
  }
}

fn element_index(voxel: u32, class_index: u32) -> u32 {
  if (params.channels_first != 0u) {
    let sample = voxel / params.spatial;
    return (sample * params.classes + class_index) * params.spatial + voxel % params.spatial;
  }
  return voxel * params.classes + class_index;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let begin = wg.x * params.voxels_per_chunk;
  let end = min(begin + params.voxels_per_chunk, params.voxels);
  for (var voxel = begin + tid; voxel < end; voxel += WORKGROUP_SIZE) {
    let label = label_at(voxel);
    if (label >= params.classes) {
      for (var k = 0u; k < params.classes; k++) {
        grad[element_index(voxel, k)] = 0.0;
      }
      continue;
    }
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
    let wass = weighted / total;
    let g = class_sums[(voxel / params.spatial) * params.classes + label].z;
    for (var k = 0u; k < params.classes; k++) {
      let at = element_index(voxel, k);
      let p = exp(pred[at] - top) / total;
      grad[at] = g * p * (distance[label * params.classes + k] - wass);
    }
  }
}
