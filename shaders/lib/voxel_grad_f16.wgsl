// grad as f16 elements (gradType 'f16'): a variant of lib/voxel_grad.wgsl, the f32 gradient
// rounded to f16 as it is stored.

// #include "lib/f16_rounding.wgsl"

@group(0) @binding(5) var<storage, read_write> grad: array<f16>;

fn store_grad(i: u32, value: f32) {
  grad[i] = to_f16(value);
}

fn store_grad_quad(i: u32, value: vec4<f32>) {
  for (var j = 0u; j < 4u; j++) {
    grad[i + j] = to_f16(value[j]);
  }
}
