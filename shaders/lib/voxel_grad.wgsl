// How the voxel backward passes write dL/d(input): f32 elements. Its variants, composed in its
// place as lib/voxel_pred.wgsl's are: lib/voxel_grad_quads.wgsl (vec4s, bound with the quads
// pred), lib/voxel_grad_f16.wgsl and lib/voxel_grad_quads_f16.wgsl (gradType 'f16': the f32
// gradient rounded to f16 as it is stored).

@group(0) @binding(5) var<storage, read_write> grad: array<f32>;

fn store_grad(i: u32, value: f32) {
  grad[i] = value;
}

// Elements i .. i + 3 (i a multiple of 4 where a quads variant is bound).
fn store_grad_quad(i: u32, value: vec4<f32>) {
  grad[i] = value.x;
  grad[i + 1u] = value.y;
  grad[i + 2u] = value.z;
  grad[i + 3u] = value.w;
}
