// clDice backward: which element soft_dilate chose at every position of x_{k+1} (`pooled_values`),
// as a window code 0 .. 26 (see lib/cldice_pooling.wgsl), for the gather in cldice_dilate_backward.

// #include "lib/cldice_common.wgsl"
// #include "lib/cldice_pool.wgsl"

@group(0) @binding(1) var<storage, read> pooled_values: array<f32>;
@group(0) @binding(2) var<storage, read_write> choice: array<u32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let range = chunk_of(wg.x);
  for (var element = range.x + tid; element < range.y; element += WORKGROUP_SIZE) {
    // The background takes no part in the loss: its levels are never computed (see lib/cldice_common.wgsl).
    if (!is_foreground(element)) { continue; }
    let here = coordinates(element);
    choice[local(element)] = dilate_choice(site_of(element, here), here).code;
  }
}
