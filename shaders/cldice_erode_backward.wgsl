// clDice backward through x_{k+1} = soft_erode(x_k), plus x_k's own use in delta_k:
//   dL/dx_k = dL/d delta_k [already masked by relu] + erode^T(dL/dx_{k+1})
// A gather: element q of x_k (`pooled_values`) visits, axis by axis, the positions p = q + o * stride
// (o = -1, 0, +1) whose 3-wide min-pool along that axis covers q; where that pool chose q, q
// takes the pool's share of p's gradient (erode_shares: torch.min halves ties). Fixed order.
// At level 0 the result is dL/d pred: the terms the loss has in pred directly are added too.

// #include "lib/cldice_common.wgsl"
// #include "lib/cldice_pool.wgsl"
// #include "lib/cldice_erode_gather.wgsl"

// Level 0: write dL/d pred, adding the direct terms (tsens numerator, soft Dice).
override FINAL: bool = false;

@group(0) @binding(1) var<storage, read> pooled_values: array<f32>;
@group(0) @binding(2) var<storage, read> grad_next: array<f32>;
@group(0) @binding(3) var<storage, read> grad_delta: array<f32>;
@group(0) @binding(4) var<storage, read_write> grad_level: array<f32>;
@group(0) @binding(5) var<storage, read> coefficients: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read> target_values: array<f32>;
@group(0) @binding(7) var<storage, read> target_skeleton: array<f32>;

fn next_gradient(site: Site, at: vec3<i32>) -> f32 {
  return grad_next[local(site.base + dot(vec3<u32>(at), strides()))];
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let range = chunk_of(wg.x);
  for (var element = range.x + tid; element < range.y; element += WORKGROUP_SIZE) {
    let i = local(element);
    // The background takes no part in the loss: dL/d pred is 0 there, and no level is computed.
    if (!is_foreground(element)) {
      if (FINAL) {
        grad_level[i] = 0.0;
      }
      continue;
    }
    var sum = grad_delta[i];
    let here = coordinates(element);
    sum = add_erode_terms(site_of(element, here), here, sum);
    if (FINAL) {
      let c0 = coefficients[0];
      sum += c0.z * target_skeleton[i] + c0.w * target_values[i] + coefficients[1].x;
    }
    grad_level[i] = sum;
  }
}
