// clDice forward: one soft_erode step, eroded = soft_erode(pooled) (x_{k+1} = erode(x_k)).

// #include "lib/cldice_foreground.wgsl"
// #include "lib/cldice_pool.wgsl"

@group(0) @binding(1) var<storage, read> pooled_values: array<f32>;
@group(0) @binding(2) var<storage, read_write> eroded: array<f32>;

fn foreground_step(element: u32) {
  let here = coordinates(element);
  eroded[local(element)] = erode_value(site_of(element, here), here);
}
