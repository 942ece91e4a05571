// clDice forward: one soft_erode step, eroded = soft_erode(pooled) (x_{k+1} = erode(x_k)).

// #include "lib/cldice_common.wgsl"
// #include "lib/cldice_pool.wgsl"

@group(0) @binding(1) var<storage, read> pooled_values: array<f32>;
@group(0) @binding(2) var<storage, read_write> eroded: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let range = chunk_of(wg.x);
  for (var element = range.x + tid; element < range.y; element += WORKGROUP_SIZE) {
    // The background takes no part in the loss: its levels are never computed (see lib/cldice_common.wgsl).
    if (!is_foreground(element)) { continue; }
    let here = coordinates(element);
    eroded[local(element)] = erode_value(site_of(element, here), here);
  }
}
