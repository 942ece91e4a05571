// What Generalized Wasserstein Dice's voxel passes (wasserstein_forward.wgsl,
// wasserstein_backward.wgsl) share beyond the grid (lib/voxel_grid.wgsl): the uniform block, the
// label map and the distance matrix, and a voxel's softmax against a row of it.

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
  voxel_end: u32,
  element_base: u32,
  carry_slot: u32,
  fault_base: u32,
}

@group(0) @binding(0) var<uniform> params: WassersteinParams;
// pred (binding 1) is declared by lib/voxel_pred.wgsl.
@group(0) @binding(2) var<storage, read> truth: array<u32>;
// C x C distances, row-major, normalised to a maximum of 1 (row: the label).
@group(0) @binding(3) var<storage, read> distance: array<f32>;

// A voxel's softmax against row `label` of the distance matrix: with m the largest logit,
// e_k = exp(z_k - m), total = sum_k e_k and weighted = sum_k M[label, k] e_k, the voxel's
// Wasserstein distance is weighted / total and softmax_k = e_k / total.
struct VoxelSoftmax {
  top: f32,
  total: f32,
  weighted: f32,
}

// From logits in registers (REGISTER_CLASSES of them), which become the e_k.
fn register_softmax(label: u32, logits: ptr<function, array<f32, CLASS_BLOCK>>) -> VoxelSoftmax {
  var top = (*logits)[0];
  for (var k = 1u; k < REGISTER_CLASSES; k++) {
    top = max(top, (*logits)[k]);
  }
  var s = VoxelSoftmax(top, 0.0, 0.0);
  for (var k = 0u; k < REGISTER_CLASSES; k++) {
    let e = exp((*logits)[k] - top);
    (*logits)[k] = e;
    s.total += e;
    s.weighted += distance[label * REGISTER_CLASSES + k] * e;
  }
  return s;
}

// From pred, each logit read once: the sums follow the running maximum (rescaled when it
// rises), for class axes wider than the registers hold.
fn streamed_softmax(voxel: u32, label: u32) -> VoxelSoftmax {
  var s = VoxelSoftmax(pred_at(element_index(voxel, 0u)), 1.0, distance[label * params.classes]);
  for (var k = 1u; k < params.classes; k++) {
    let z = pred_at(element_index(voxel, k));
    let m = distance[label * params.classes + k];
    if (z > s.top) {
      let rescale = exp(s.top - z);
      s = VoxelSoftmax(z, s.total * rescale + 1.0, s.weighted * rescale + m);
    } else {
      let e = exp(z - s.top);
      s.total += e;
      s.weighted += m * e;
    }
  }
  return s;
}
