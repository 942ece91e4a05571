// scaled = source * scale[0], as vec4s: wgsl-dice/tfjs's custom gradient scales a call's
// saved gradient coefficients by dy with it before recording the loss's backward pass, which
// is linear in them (src/tfjs/custom-grad.ts). The bindings hold whole vec4s (coefficient
// buffers are), so arrayLength gives the count.

override WORKGROUP_SIZE: u32 = 256u;

@group(0) @binding(0) var<storage, read> source: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> scale: array<f32>;
@group(0) @binding(2) var<storage, read_write> scaled: array<vec4<f32>>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let factor = scale[0];
  let count = arrayLength(&scaled);
  for (var i = id.x; i < count; i += groups.x * WORKGROUP_SIZE) {
    scaled[i] = source[i] * factor;
  }
}
