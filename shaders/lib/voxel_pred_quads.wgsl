// pred as vec4s: a variant of lib/voxel_pred.wgsl (read that file first). The planner binds it
// only where every window starts and ends on a whole vec4.

@group(0) @binding(1) var<storage, read> pred: array<vec4<f32>>;

fn pred_at(i: u32) -> f32 {
  return pred[i / 4u][i % 4u];
}

fn pred_quad(i: u32) -> vec4<f32> {
  return pred[i / 4u];
}
