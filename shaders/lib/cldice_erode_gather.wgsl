// clDice backward through x_{k+1} = soft_erode(x_k) (included with
// `// #include "lib/cldice_erode_gather.wgsl"` after lib/cldice_pooling.wgsl's includer, by the
// backward passes of both plans): element q of x_k visits, axis by axis, the cells
// p = q + o (o = -1, 0, +1 along the axis) whose 3-wide min-pool covers q; where that pool chose
// q, q takes the pool's share of p's gradient (erode_shares: torch.min halves ties), in that
// fixed order. The includer says where dL/dx_{k+1} is:
// `fn next_gradient(site: Site, at: vec3<i32>) -> f32`.

// `start` plus erode^T(dL/dx_{k+1}) at `here`, term by term.
fn add_erode_terms(site: Site, here: vec3<i32>, start: f32) -> f32 {
  var sum = start;
  for (var axis = first_erode_axis(); axis < 3u; axis++) {
    let step = axis_step(axis);
    for (var o = -1; o <= 1; o++) {
      let there = here + o * step;
      if (!in_volume(there)) { continue; }
      if (all(argmin_along(site, there, axis) == here)) {
        sum += axis_entry(erode_shares(site, there), axis) * next_gradient(site, there);
      }
    }
  }
  return sum;
}
