// Generalized Wasserstein Dice's per-voxel softmax against a row of the distance matrix
// (included with `// #include "lib/wasserstein.wgsl"` after lib/family_voxel.wgsl).

// C x C distances, row-major, normalised to a maximum of 1 (row: the label).
@group(0) @binding(4) var<storage, read> distance: array<f32>;

// (max logit, sum_k exp(z_k - max), sum_k M[label, k] exp(z_k - max)) at one voxel:
// wass = z / y, and softmax_k = exp(z_k - x) / y.
fn wasserstein_softmax(voxel: u32, label: u32) -> vec3<f32> {
  let top = log_sum_exp(voxel, 1.0, 0u).x;
  var total = 0.0;
  var weighted = 0.0;
  for (var k = 0u; k < params.classes; k++) {
    let e = exp(pred_at(element_index(voxel, k)) - top);
    total += e;
    weighted += distance[label * params.classes + k] * e;
  }
  return vec3<f32>(top, total, weighted);
}
