// What Generalized Wasserstein Dice's voxel passes (wasserstein_forward.wgsl,
// wasserstein_backward.wgsl) share beyond the grid (lib/voxel_grid.wgsl): the uniform block, the
// label map and the distance matrix, and the per-voxel softmax against a row of it.

// #include "lib/numeric.wgsl"
// #include "lib/labels.wgsl"
// #include "lib/voxel_grid.wgsl"

override TARGET_KIND: u32 = 3u;     // TARGET_U8, _U16 or _U32 (lib/labels.wgsl)

// The grid only (lib/voxel_grid.wgsl); src/program/voxel.ts packs it.
struct WassersteinParams {
  classes: u32,
  spatial: u32,
  chunks: u32,
  voxels_per_chunk: u32,
  linear_base: u32,
  voxel_base: u32,
  element_base: u32,
}

@group(0) @binding(0) var<uniform> params: WassersteinParams;
// pred (binding 1) is declared by lib/voxel_pred.wgsl.
@group(0) @binding(2) var<storage, read> truth: array<u32>;
// C x C distances, row-major, normalised to a maximum of 1 (row: the label).
@group(0) @binding(3) var<storage, read> distance: array<f32>;

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
