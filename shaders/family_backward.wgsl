// Loss-family backward pass: one thread per voxel writes dL/d(input) for all of its classes.
// The input is probabilities (activation none) or logits (sigmoid, softmax, tanh): the chain rule
// through the activation is applied here, recomputing the activation from the logits, so no
// probability tensor and no per-voxel statistics are ever stored.
//
// With per-pair coefficients (cI, cP, cT, cA) and (c+, c-) from family_finalize.wgsl and
// element weight w (mask x not-ignored):
//   dL/dp_c = w * (cI * g_c + cP * dP/dp_c + cT * dT/dp_c),  dP/dp = 1 or 2p (squared),
//   dT/dp = (1 - sign(p - g)) / 2 for the soft-label intersection T = sum min(p, g)
//   (SOFT_ABS: dP/dp = sign(p), dT/dp = (sign(p) - sign(p - g)) / 2)
//   sigmoid: dL/dz_c = dL/dp_c * p_c (1 - p_c);  tanh: dL/dp_c * (1 - p_c^2)
//   softmax: dL/dz_c = p_c (dL/dp_c - sum_k p_k dL/dp_k)
// plus the cross-entropy on the logits, whatever the activation (s = sigmoid(z), q = softmax(z)):
//   binary (pos_weight k): dL/dz_c += w * cA_c * (s_c (k g_c + 1 - g_c) - k g_c)
//   softmax:               dL/dz_c += q_c sum_k w_k cA_k g'_k - w_c cA_c g'_c  (g' smoothed)
// plus the focal term on the raw logit z (independent of the activation):
//   sigmoid form, s = 2g - 1, m = sigmoid(-z s)^gamma, bce = z - z g - log sigmoid(z):
//     df/dz = m (sigmoid(z) - g) - gamma s m sigmoid(z s) bce,  dL/dz_c += w (c+ g + c- (1 - g)) df/dz
//   softmax form over the focal classes F, l = log-softmax, q = exp(l),
//     h'(l) = -(1 - q)^gamma + gamma (1 - q)^(gamma - 1) q l,  e_c = c+_c g_c h'(l_c):
//     dL/dz_c += w_c e_c - q_c sum_(k in F) w_k e_k  for c in F
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

fn dl_dp(w: f32, c: vec4<f32>, p: f32, g: f32) -> f32 {
  var dp = select(1.0, 2.0 * p, SQUARED);
  var dt = 0.5 * (1.0 - sign(p - g));
  if (SOFT_ABS) {
    dp = sign(p);
    dt = 0.5 * (sign(p) - sign(p - g));
  }
  return w * (c.x * g + c.y * dp + c.z * dt);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let range = voxel_range(params.linear_base + wg.x);
  for (var voxel = range.x + tid; voxel < range.y; voxel += WORKGROUP_SIZE) {
    let v = voxel_info(voxel);
    let pair_base = (voxel / params.spatial) * params.classes;

    // Softmax (the activation or the cross-entropy) needs the voxel's log-sum-exp and two dot
    // products over its classes.
    var lse = 0.0;
    var dot_p = 0.0;
    var dot_ce = 0.0;
    if (ACTIVATION == ACT_SOFTMAX || AUX_KIND == AUX_SOFTMAX_CE) {
      lse = log_sum_exp(voxel, v.logit_scale, 0u).y;
      for (var c = 0u; c < params.classes; c++) {
        let p = exp(pred[element_index(voxel, c)] * v.logit_scale - lse);
        let e = element_at(v, voxel, c);
        let k = coefs[(pair_base + c) * 2u];
        dot_p += p * dl_dp(e.y, k, p, e.x);
        dot_ce += e.y * k.w * smoothed(e.x);
      }
    }

    // The softmax-form focal term: log-sum-exp over the focal classes and sum_k e_k.
    var focal_lse = 0.0;
    var focal_dot = 0.0;
    if (FOCAL_KIND == FOCAL_SOFTMAX) {
      focal_lse = log_sum_exp(voxel, v.logit_scale, params.focal_first_class).y;
      for (var c = params.focal_first_class; c < params.classes; c++) {
        let log_q = pred[element_index(voxel, c)] * v.logit_scale - focal_lse;
        let e = element_at(v, voxel, c);
        focal_dot += e.y * coefs[(pair_base + c) * 2u + 1u].x * e.x * focal_softmax_slope(log_q);
      }
    }

    for (var c = 0u; c < params.classes; c++) {
      let at = element_index(voxel, c);
      let z = pred[at] * v.logit_scale;
      let e = element_at(v, voxel, c);
      let g = e.x;
      let w = e.y;
      let k = coefs[(pair_base + c) * 2u];
      var d: f32;
      switch (ACTIVATION) {
        case ACT_SIGMOID: {
          let p = sigmoid(z);
          d = dl_dp(w, k, p, g) * p * (1.0 - p);
        }
        case ACT_SOFTMAX: {
          let p = exp(z - lse);
          d = p * (dl_dp(w, k, p, g) - dot_p);
        }
        case ACT_TANH: {
          let p = stable_tanh(z);
          d = dl_dp(w, k, p, g) * (1.0 - p * p);
        }
        default: { d = dl_dp(w, k, z, g); }
      }
      if (AUX_KIND == AUX_SOFTMAX_CE) {
        d += exp(z - lse) * dot_ce - w * k.w * smoothed(g);
      } else if (AUX_KIND == AUX_BINARY_CE) {
        let s = sigmoid(z);
        d += w * k.w * (s * (params.pos_weight * g + 1.0 - g) - params.pos_weight * g);
      }
      if (FOCAL_KIND != FOCAL_NONE && c >= params.focal_first_class) {
        let f = coefs[(pair_base + c) * 2u + 1u];
        if (FOCAL_KIND == FOCAL_SOFTMAX) {
          let log_q = z - focal_lse;
          d += w * f.x * g * focal_softmax_slope(log_q) - exp(log_q) * focal_dot;
        } else {
          d += w * (f.x * g + f.y * (1.0 - g)) * focal_sigmoid_grad(z, g);
        }
      }
      grad[at] = d * v.logit_scale;
    }
  }
}
