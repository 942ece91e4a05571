// Loss-family backward pass: one thread per voxel writes dL/d(input) for all of its classes.
// The input is probabilities (activation none) or logits (sigmoid, softmax): the chain rule
// through the activation is applied here, recomputing the activation from the logits, so no
// probability tensor and no per-voxel statistics are ever stored.
//
// With per-pair coefficients (cI, cP, cT, cA) and (c+, c-) from family_finalize.wgsl and voxel
// weight w:
//   dL/dp_c = w * (cI * g_c + cP * dP/dp_c + cT * dT/dp_c),  dP/dp = 1 or 2p (squared),
//   dT/dp = (1 - sign(p - g)) / 2 for the soft-label intersection T = sum min(p, g)
//   sigmoid: dL/dz_c = dL/dp_c * p_c (1 - p_c) + w * cA_c * (p_c (k g_c + 1 - g_c) - k g_c)
//            (binary CE with pos_weight k)
//   softmax: dL/dz_c = p_c (dL/dp_c - sum_k p_k dL/dp_k) + w * (p_c sum_k cA_k g_k - cA_c g_c)
// plus the focal term on the raw logit z (independent of the activation):
//   sigmoid form, s = 2g - 1, m = sigmoid(-z s)^gamma, bce = z - z g - log sigmoid(z):
//     df/dz = m (sigmoid(z) - g) - gamma s m sigmoid(z s) bce,  dL/dz_c += w (c+ g + c- (1 - g)) df/dz
//   softmax form over the focal classes F, l = log-softmax, q = exp(l),
//     h'(l) = -(1 - q)^gamma + gamma (1 - q)^(gamma - 1) q l,  e_c = c+_c g_c h'(l_c):
//     dL/dz_c += w (e_c - q_c sum_(k in F) e_k)  for c in F
// and with MONAI's mask-the-logits mode, a final factor m for z' = m z.

// #include "lib/family_voxel.wgsl"

@group(0) @binding(4) var<storage, read> coefs: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> grad: array<f32>;

// d/dz of the sigmoid-form focal term.
fn focal_sigmoid_grad(z: f32, g: f32) -> f32 {
  let s = 2.0 * g - 1.0;
  let modulation = exp(-params.focal_gamma * softplus(z * s));
  let bce = z - z * g + softplus(-z);
  return modulation * (sigmoid(z) - g) - params.focal_gamma * s * modulation * sigmoid(z * s) * bce;
}

// h'(l) for the softmax form: d/dl of -(1 - e^l)^gamma l.
fn focal_softmax_slope(log_q: f32) -> f32 {
  let q = exp(log_q);
  let rest = 1.0 - q;
  var slope = -power_from_zero(rest, params.focal_gamma);
  if (params.focal_gamma != 0.0 && rest > 0.0) {
    slope += params.focal_gamma * pow(rest, params.focal_gamma - 1.0) * q * log_q;
  }
  return slope;
}

fn target_at(v: Voxel, voxel: u32, class_index: u32) -> f32 {
  return raw_target(v, voxel, class_index) * v.logit_scale;
}

fn dl_dp(v: Voxel, c: vec4<f32>, p: f32, g: f32) -> f32 {
  let dp = select(1.0, 2.0 * p, SQUARED);
  return v.weight * (c.x * g + c.y * dp + c.z * 0.5 * (1.0 - sign(p - g)));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let range = voxel_range(params.linear_base + wg.x);
  for (var voxel = range.x + tid; voxel < range.y; voxel += WORKGROUP_SIZE) {
    let v = voxel_info(voxel);
    let pair_base = (voxel / params.spatial) * params.classes;

    // Softmax needs the voxel's log-sum-exp and two dot products over its classes.
    var lse = 0.0;
    var dot_p = 0.0;
    var dot_ce = 0.0;
    if (ACTIVATION == ACT_SOFTMAX) {
      lse = log_sum_exp(voxel, v.logit_scale, 0u).y;
      for (var c = 0u; c < params.classes; c++) {
        let p = exp(pred[element_index(voxel, c)] * v.logit_scale - lse);
        let g = target_at(v, voxel, c);
        let k = coefs[(pair_base + c) * 2u];
        dot_p += p * dl_dp(v, k, p, g);
        dot_ce += k.w * smoothed(g);
      }
    }

    // The softmax-form focal term: log-sum-exp over the focal classes and sum_k e_k.
    var focal_lse = 0.0;
    var focal_dot = 0.0;
    if (FOCAL_KIND == FOCAL_SOFTMAX) {
      focal_lse = log_sum_exp(voxel, v.logit_scale, params.focal_first_class).y;
      for (var c = params.focal_first_class; c < params.classes; c++) {
        let log_q = pred[element_index(voxel, c)] * v.logit_scale - focal_lse;
        let g = target_at(v, voxel, c);
        focal_dot += coefs[(pair_base + c) * 2u + 1u].x * g * focal_softmax_slope(log_q);
      }
    }

    for (var c = 0u; c < params.classes; c++) {
      let at = element_index(voxel, c);
      let z = pred[at] * v.logit_scale;
      let g = target_at(v, voxel, c);
      let k = coefs[(pair_base + c) * 2u];
      var d: f32;
      switch (ACTIVATION) {
        case ACT_SIGMOID: {
          let p = sigmoid(z);
          let bce = p * (params.pos_weight * g + 1.0 - g) - params.pos_weight * g;
          d = dl_dp(v, k, p, g) * p * (1.0 - p) + v.weight * k.w * bce;
        }
        case ACT_SOFTMAX: {
          let p = exp(z - lse);
          d = p * (dl_dp(v, k, p, g) - dot_p) + v.weight * (p * dot_ce - k.w * smoothed(g));
        }
        default: { d = dl_dp(v, k, z, g); }
      }
      if (FOCAL_KIND != FOCAL_NONE && c >= params.focal_first_class) {
        let f = coefs[(pair_base + c) * 2u + 1u];
        if (FOCAL_KIND == FOCAL_SOFTMAX) {
          let log_q = z - focal_lse;
          d += v.weight * (f.x * g * focal_softmax_slope(log_q) - exp(log_q) * focal_dot);
        } else {
          d += v.weight * (f.x * g + f.y * (1.0 - g)) * focal_sigmoid_grad(z, g);
        }
      }
      grad[at] = d * v.logit_scale;
    }
  }
}
