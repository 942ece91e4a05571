// Generalized Wasserstein Dice backward pass: one thread per voxel writes dL/dz for all of its
// classes (lib/voxel_grid.wgsl's voxel-major grid). With t the voxel's label, p = softmax(z),
// wass = sum_k M[t, k] p_k and g = dL/dW_t of its sample (from wasserstein_finalize.wgsl):
//   dL/dz_k = g * p_k * (M[t, k] - wass)
// Voxels with an out-of-range label (reported by the forward pass) get 0.

// #include "lib/wasserstein.wgsl"
// #include "lib/voxel_grad.wgsl"

// Per (sample, class): (V, W, dL/dW, 0).
@group(0) @binding(4) var<storage, read> class_sums: array<vec4<f32>>;
// grad (binding 5) is declared by lib/voxel_grad.wgsl.

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let range = voxel_range(params.linear_base + wg.x);
  for (var voxel = range.x + tid; voxel < range.y; voxel += WORKGROUP_SIZE) {
    let label = label_at(voxel - params.voxel_base);
    if (label >= params.classes) {
      for (var k = 0u; k < params.classes; k++) {
        store_grad(element_index(voxel, k), 0.0);
      }
      continue;
    }
    let softmax = wasserstein_softmax(voxel, label);
    let top = softmax.x;
    let total = softmax.y;
    let wass = softmax.z / total;
    let g = class_sums[(voxel / params.spatial) * params.classes + label].z;
    for (var k = 0u; k < params.classes; k++) {
      let at = element_index(voxel, k);
      let p = exp(pred_at(at) - top) / total;
      store_grad(at, g * p * (distance[label * params.classes + k] - wass));
    }
  }
}
