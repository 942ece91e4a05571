// One level's step of MONAI's soft_skel recurrence, for the forward kernels that work out
// delta_k = relu(x_k - soft_open(x_k)) (cldice_skeleton.wgsl element by element, cldice_level.wgsl
// on tiles):
//   skel_0 = delta_0,  skel_k = skel_{k-1} + relu(delta_k - skel_{k-1} * delta_k)
// delta_k and skel_k are kept: the backward pass needs them at every level. The including kernel
// declares the bindings `previous` (skel_{k-1}), `delta` and `skeleton`.

// Level 0 has no previous skeleton (`previous` is then bound to anything readable, unused).
override FIRST_LEVEL: bool = false;

// Stores delta_k = `d` and skel_k at element `i` of the window.
fn store_skeleton_step(i: u32, d: f32) {
  delta[i] = d;
  if (FIRST_LEVEL) {
    skeleton[i] = d;
  } else {
    let s = previous[i];
    skeleton[i] = s + max(d - s * d, 0.0);
  }
}
