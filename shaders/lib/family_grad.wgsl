// How family_backward.wgsl writes dL/d(input): as f32 elements. lib/family_grad_quads.wgsl is
// the vec4 variant, bound with lib/family_pred_quads.wgsl (see lib/family_pred.wgsl).

@group(0) @binding(5) var<storage, read_write> grad: array<f32>;

fn store_grad(i: u32, value: f32) {
  grad[i] = value;
}

// Elements i .. i + 3 (i a multiple of 4 where the quads variant is bound).
fn store_grad_quad(i: u32, value: vec4<f32>) {
  grad[i] = value.x;
  grad[i + 1u] = value.y;
  grad[i + 2u] = value.z;
  grad[i + 3u] = value.w;
}
