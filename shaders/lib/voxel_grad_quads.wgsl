// grad as vec4s: a variant of lib/voxel_grad.wgsl.

@group(0) @binding(5) var<storage, read_write> grad: array<vec4<f32>>;

fn store_grad(i: u32, value: f32) {
  grad[i / 4u][i % 4u] = value;
}

fn store_grad_quad(i: u32, value: vec4<f32>) {
  grad[i / 4u] = value;
}
