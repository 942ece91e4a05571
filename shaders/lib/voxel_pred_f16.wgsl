// pred as f16 elements (predType 'f16'): a variant of lib/voxel_pred.wgsl (read that file first).
// Each value is widened to f32 as it is read.
enable f16;

@group(0) @binding(1) var<storage, read> pred: array<f16>;

fn pred_at(i: u32) -> f32 {
  return f32(pred[i]);
}

fn pred_quad(i: u32) -> vec4<f32> {
  return vec4<f32>(f32(pred[i]), f32(pred[i + 1u]), f32(pred[i + 2u]), f32(pred[i + 3u]));
}
