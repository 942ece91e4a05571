// clDice forward: one level of MONAI's soft_skel. With x_k = `level` and x_{k+1} = erode(x_k) =
// `pooled_values` (soft_open(x_k) = soft_dilate(x_{k+1})):
//   delta_k = relu(x_k - soft_dilate(x_{k+1}))
//   skel_0 = delta_0,  skel_k = skel_{k-1} + relu(delta_k - skel_{k-1} * delta_k)
// delta_k and skel_k are kept: the backward pass needs them at every level.

// #include "lib/cldice_common.wgsl"
// #include "lib/cldice_pool.wgsl"

// Level 0 has no previous skeleton (`previous` is then bound to anything readable, unused).
override FIRST_LEVEL: bool = false;

@group(0) @binding(1) var<storage, read> pooled_values: array<f32>;
@group(0) @binding(2) var<storage, read> level: array<f32>;
@group(0) @binding(3) var<storage, read> previous: array<f32>;
@group(0) @binding(4) var<storage, read_write> delta: array<f32>;
@group(0) @binding(5) var<storage, read_write> skeleton: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let range = chunk_of(wg.x);
  for (var element = range.x + tid; element < range.y; element += WORKGROUP_SIZE) {
    // The background takes no part in the loss: its levels are never computed (see lib/cldice_common.wgsl).
    if (!is_foreground(element)) { continue; }
    let i = local(element);
    let here = coordinates(element);
    let d = max(level[i] - dilate_choice(site_of(element, here), here).value, 0.0);
    delta[i] = d;
    if (FIRST_LEVEL) {
      skeleton[i] = d;
    } else {
      let s = previous[i];
      skeleton[i] = s + max(d - s * d, 0.0);
    }
  }
}
