// pred as vec4<f16>s (predType 'f16', quads): a variant of lib/voxel_pred.wgsl (read that file
// first), widened to f32 as it is read.
enable f16;

@group(0) @binding(1) var<storage, read> pred: array<vec4<f16>>;

fn pred_at(i: u32) -> f32 {
  return f32(pred[i / 4u][i % 4u]);
}

fn pred_quad(i: u32) -> vec4<f32> {
  return vec4<f32>(pred[i / 4u]);
}
