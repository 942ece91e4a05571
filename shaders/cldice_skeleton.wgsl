// clDice forward: one level of MONAI's soft_skel. With x_k = `level` and x_{k+1} = erode(x_k) =
// `pooled_values` (soft_open(x_k) = soft_dilate(x_{k+1})):
//   delta_k = relu(x_k - soft_dilate(x_{k+1}))
//   skel_0 = delta_0,  skel_k = skel_{k-1} + relu(delta_k - skel_{k-1} * delta_k)
// delta_k and skel_k are kept: the backward pass needs them at every level.

// #include "lib/cldice_foreground.wgsl"
// #include "lib/cldice_pool.wgsl"
// #include "lib/cldice_skeleton_step.wgsl"

@group(0) @binding(1) var<storage, read> pooled_values: array<f32>;
@group(0) @binding(2) var<storage, read> level: array<f32>;
@group(0) @binding(3) var<storage, read> previous: array<f32>;
@group(0) @binding(4) var<storage, read_write> delta: array<f32>;
@group(0) @binding(5) var<storage, read_write> skeleton: array<f32>;

fn foreground_step(element: u32) {
  let i = local(element);
  let here = coordinates(element);
  let d = max(level[i] - dilate_choice(site_of(element, here), here).value, 0.0);
  store_skeleton_step(i, d);
}
