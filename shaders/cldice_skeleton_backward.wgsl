// clDice backward, through one level k of the skeleton recurrence (levels run K down to 0):
//   skel_k = skel_{k-1} + relu(delta_k - skel_{k-1} delta_k),   delta_k = relu(x_k - open_k)
// With g = dL/d skel_k and m = [delta_k - skel_{k-1} delta_k > 0] (relu'(0) = 0):
//   dL/d delta_k = g m (1 - skel_{k-1}),   dL/d skel_{k-1} = g (1 - m delta_k)
// and through delta_k's relu, [delta_k > 0]. The result replaces delta_k in `delta` (nothing
// reads delta_k after this), and dL/d skel_{k-1} replaces g in `grad_skeleton`.

// #include "lib/cldice_foreground.wgsl"

// The top level: g comes from the loss (finalize's coefficients) instead of `grad_skeleton`.
override FROM_LOSS: bool = false;
// Level 0: skel_0 = delta_0, so g goes to delta_0 whole and `previous` is unused.
override FIRST_LEVEL: bool = false;

@group(0) @binding(1) var<storage, read> coefficients: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> target_values: array<f32>;
@group(0) @binding(3) var<storage, read> previous: array<f32>;
@group(0) @binding(4) var<storage, read_write> delta: array<f32>;
@group(0) @binding(5) var<storage, read_write> grad_skeleton: array<f32>;

fn foreground_step(element: u32) {
  let i = local(element);
  var g: f32;
  if (FROM_LOSS) {
    let c = coefficients[0];
    g = c.x * target_values[i] + c.y;
  } else {
    g = grad_skeleton[i];
  }
  let d = delta[i];
  var grad_delta = g;
  if (!FIRST_LEVEL) {
    let s = previous[i];
    let m = d - s * d > 0.0;
    grad_delta = select(0.0, g * (1.0 - s), m);
    grad_skeleton[i] = select(g, g * (1.0 - d), m);
  }
  delta[i] = select(0.0, grad_delta, d > 0.0);
}
