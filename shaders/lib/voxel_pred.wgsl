// How the voxel passes read pred: f32 elements. Its variants, which src/kernels/sources.ts
// composes in its place (library substitution: a binding's element type cannot be an override),
// offer the same two functions over other element types:
//   lib/voxel_pred_quads.wgsl      array<vec4<f32>>: the `_quads` kernels, which the planner
//                                  picks for channels-last class axes of 4, 8, 12 or 16 classes
//                                  held in registers (one vector load for four classes);
//   lib/voxel_pred_f16.wgsl        array<f16> (predType 'f16');
//   lib/voxel_pred_quads_f16.wgsl  array<vec4<f16>>.
// Every variant widens to f32: the passes compute and accumulate in f32 whatever pred holds.

@group(0) @binding(1) var<storage, read> pred: array<f32>;

// Element i (window-relative).
fn pred_at(i: u32) -> f32 {
  return pred[i];
}

// Elements i .. i + 3 (i a multiple of 4 where a quads variant is bound).
fn pred_quad(i: u32) -> vec4<f32> {
  return vec4<f32>(pred[i], pred[i + 1u], pred[i + 2u], pred[i + 3u]);
}
