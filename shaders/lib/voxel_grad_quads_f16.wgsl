// grad as vec4<f16>s (gradType 'f16', quads): a variant of lib/voxel_grad.wgsl, rounded as stored.

// #include "lib/f16_rounding.wgsl"

@group(0) @binding(5) var<storage, read_write> grad: array<vec4<f16>>;

fn store_grad(i: u32, value: f32) {
  grad[i / 4u][i % 4u] = to_f16(value);
}

fn store_grad_quad(i: u32, value: vec4<f32>) {
  grad[i / 4u] = vec4<f16>(to_f16(value.x), to_f16(value.y), to_f16(value.z), to_f16(value.w));
}
