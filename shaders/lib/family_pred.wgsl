// How the voxel passes read pred: as f32 elements. lib/family_pred_quads.wgsl offers the same
// two functions over array<vec4<f32>>; src/kernels/sources.ts builds the `_quads`
// kernels with it, which the planner picks for channels-last class axes of 4, 8, 12 or 16
// classes. There a voxel's logits are whole vec4s: one vector load for four classes, where a
// software rasteriser otherwise pays a per-thread loop for every scalar load.

@group(0) @binding(1) var<storage, read> pred: array<f32>;

// Element i (window-relative).
fn pred_at(i: u32) -> f32 {
  return pred[i];
}

// Elements i .. i + 3 (i a multiple of 4 where the quads variant is bound).
fn pred_quad(i: u32) -> vec4<f32> {
  return vec4<f32>(pred[i], pred[i + 1u], pred[i + 2u], pred[i + 3u]);
}
