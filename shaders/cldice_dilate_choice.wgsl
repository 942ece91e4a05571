// clDice backward: which element soft_dilate chose at every position of x_{k+1} (`pooled_values`),
// as a window code 0 .. 26 (see lib/cldice_pooling.wgsl), for the gather in cldice_dilate_backward.

// #include "lib/cldice_foreground.wgsl"
// #include "lib/cldice_pool.wgsl"

@group(0) @binding(1) var<storage, read> pooled_values: array<f32>;
@group(0) @binding(2) var<storage, read_write> choice: array<u32>;

fn foreground_step(element: u32) {
  let here = coordinates(element);
  choice[local(element)] = dilate_choice(site_of(element, here), here).code;
}
