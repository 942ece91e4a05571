// Backward pass, scalar loads: the fallback of dice_backward_vec4.wgsl for shapes whose slabs
// are not a whole number of vec4s. dL/dp_i = a_g * t_i + b_g with g = slab*classes + i mod C.

// #include "lib/dice_backward.wgsl"

@group(0) @binding(1) var<storage, read> truth: array<f32>;
@group(0) @binding(3) var<storage, read_write> grad: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let r = units_of(tid, wg);
  for (var unit = r.first; unit < r.end; unit += r.stride) {
    let c = coefs[r.first_group + unit % params.classes];
    grad[r.slab_base + unit] = c.x * truth[r.slab_base + unit] + c.y;
    // A slab may run to 2^32 - 1 elements, where unit + stride would wrap.
    if (r.end - unit <= r.stride) {
      break;
    }
  }
}
