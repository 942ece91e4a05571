// Generalized Wasserstein Dice backward pass: one thread per voxel writes dL/dz for all of its
// classes (lib/voxel_grid.wgsl's voxel-major grid). With t the voxel's label, p = softmax(z),
// wass = sum_k M[t, k] p_k and g = dL/dW_t of its sample (from wasserstein_finalize.wgsl):
//   dL/dz_k = g * p_k * (M[t, k] - wass)
// Voxels with an out-of-range label (reported by the forward pass) get 0. Up to CLASS_BLOCK
// classes (REGISTER_CLASSES) the voxel's logits are read once into registers (and written as
// vec4s where they come in quads); wider class axes read them twice.

// #include "lib/wasserstein.wgsl"
// #include "lib/voxel_grad.wgsl"

// Per (sample, class): (V, W, dL/dW, 0).
@group(0) @binding(4) var<storage, read> class_sums: array<vec4<f32>>;
// grad (binding 5) is declared by lib/voxel_grad.wgsl.

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let range = voxel_range(params.linear_base + wg.x);
  var exps: array<f32, CLASS_BLOCK>;
  var grads: array<f32, CLASS_BLOCK>;
  for (var voxel = range.x + tid; voxel < range.y; voxel += WORKGROUP_SIZE) {
    let label = label_at(voxel - params.voxel_base);
    let labelled = label < params.classes;
    let row = min(label, params.classes - 1u) * params.classes;
    let g = select(0.0, class_sums[(voxel / params.spatial) * params.classes + min(label, params.classes - 1u)].z, labelled);
    if (REGISTER_CLASSES != 0u) {
      load_register_logits(voxel, &exps);
      let softmax = register_softmax(min(label, REGISTER_CLASSES - 1u), &exps);
      let wass = softmax.weighted / softmax.total;
      for (var k = 0u; k < REGISTER_CLASSES; k++) {
        let d = g * (exps[k] / softmax.total) * (distance[row + k] - wass);
        grads[k] = select(0.0, d, labelled);
      }
      if (classes_in_quads()) {
        for (var q = 0u; q < REGISTER_CLASSES / 4u; q++) {
          let i = 4u * q;
          store_grad_quad(element_index(voxel, i), vec4<f32>(grads[i], grads[i + 1u], grads[i + 2u], grads[i + 3u]));
        }
      } else {
        for (var k = 0u; k < REGISTER_CLASSES; k++) {
          store_grad(element_index(voxel, k), grads[k]);
        }
      }
    } else {
      let softmax = streamed_softmax(voxel, min(label, params.classes - 1u));
      let wass = softmax.weighted / softmax.total;
      for (var k = 0u; k < params.classes; k++) {
        let at = element_index(voxel, k);
        let p = exp(pred_at(at) - softmax.top) / softmax.total;
        store_grad(at, select(0.0, g * p * (distance[row + k] - wass), labelled));
      }
    }
  }
}
