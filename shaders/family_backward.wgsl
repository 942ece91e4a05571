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
// #include "lib/voxel_grad.wgsl"

@group(0) @binding(4) var<storage, read> coefs: array<vec4<f32>>;
// grad (binding 5) is declared by lib/voxel_grad.wgsl.

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
  // q l -> 0 as q -> 0 (a logit near -3e38 gives q = 0 and l = -infinity).
  if (params.focal_gamma != 0.0 && rest > 0.0 && q > 0.0) {
    slope += params.focal_gamma * pow(rest, params.focal_gamma - 1.0) * q * log_q;
  }
  return slope;
}

fn dl_dp(w: f32, c: vec4<f32>, p: f32, g: f32) -> f32 {
  var dp = select(1.0, 2.0 * p, SQUARED);
  if (SOFT_ABS) {
    dp = sign(p);
  }
  // The finalize writes cI = 0 in the soft-label L1 form and cT = 0 otherwise: each form
  // computes only its own intersection term.
  if (SOFT_L1) {
    let dt = select(0.5 * (1.0 - sign(p - g)), 0.5 * (sign(p) - sign(p - g)), SOFT_ABS);
    return w * (c.y * dp + c.z * dt);
  }
  return w * (c.x * g + c.y * dp);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let linear = params.linear_base + wg.x;
  let range = voxel_range(linear);
  // A workgroup's voxels lie in one sample, so every thread reads the same coefficients.
  let pair_base = (linear / params.chunks) * params.classes;
  let softmax_needed = ACTIVATION == ACT_SOFTMAX || AUX_KIND == AUX_SOFTMAX_CE;
  // Up to CLASS_BLOCK classes (REGISTER_CLASSES != 0) a thread keeps the sample's Dice
  // coefficients and its voxel's logits and probabilities in registers: each logit is read
  // once and the softmax costs C exps. Wider class axes re-read pred.
  let in_registers = REGISTER_CLASSES != 0u;
  let class_count = select(params.classes, REGISTER_CLASSES, in_registers);
  var dice_coefs: array<vec4<f32>, CLASS_BLOCK>;
  var logits: array<f32, CLASS_BLOCK>;
  var probs: array<f32, CLASS_BLOCK>;
  var grads: array<f32, CLASS_BLOCK>;
  if (in_registers) {
    for (var c = 0u; c < REGISTER_CLASSES; c++) {
      dice_coefs[c] = coefs[(pair_base + c) * 2u];
    }
  }

  for (var voxel = range.x + tid; voxel < range.y; voxel += WORKGROUP_SIZE) {
    let v = voxel_info(voxel);

    // The softmax (the activation's or the cross-entropy's): p = e / sum e from registers, or
    // the log-sum-exp with each p recomputed as exp(z - lse).
    var lse = 0.0;
    if (in_registers) {
      load_register_logits(voxel, &logits);
      var best = 0.0;
      for (var c = 0u; c < REGISTER_CLASSES; c++) {
        logits[c] *= v.logit_scale;
        best = select(max(best, logits[c]), logits[c], c == 0u);
      }
      if (softmax_needed) {
        var total = 0.0;
        for (var c = 0u; c < REGISTER_CLASSES; c++) {
          probs[c] = exp(logits[c] - best);
          total += probs[c];
        }
        for (var c = 0u; c < REGISTER_CLASSES; c++) {
          probs[c] /= total;
        }
        lse = best + log(total);
      }
    } else if (softmax_needed) {
      lse = log_sum_exp(voxel, v.logit_scale, 0u).y;
    }

    // Two dot products over the voxel's classes: sum_k p_k dL/dp_k and the cross-entropy's.
    var dot_p = 0.0;
    var dot_ce = 0.0;
    if (softmax_needed) {
      for (var c = 0u; c < class_count; c++) {
        var p: f32;
        var k: vec4<f32>;
        if (in_registers) {
          p = probs[c];
          k = dice_coefs[c];
        } else {
          p = exp(pred_at(element_index(voxel, c)) * v.logit_scale - lse);
          k = coefs[(pair_base + c) * 2u];
        }
        let e = element_at(v, voxel, c);
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
        let log_q = pred_at(element_index(voxel, c)) * v.logit_scale - focal_lse;
        let e = element_at(v, voxel, c);
        focal_dot += e.y * coefs[(pair_base + c) * 2u + 1u].x * e.x * focal_softmax_slope(log_q);
      }
    }

    for (var c = 0u; c < class_count; c++) {
      let at = element_index(voxel, c);
      var z: f32;
      var softmax_p: f32;
      var k: vec4<f32>;
      if (in_registers) {
        z = logits[c];
        softmax_p = probs[c];
        k = dice_coefs[c];
      } else {
        z = pred_at(at) * v.logit_scale;
        softmax_p = select(0.0, exp(z - lse), softmax_needed);
        k = coefs[(pair_base + c) * 2u];
      }
      let e = element_at(v, voxel, c);
      let g = e.x;
      let w = e.y;
      var d: f32;
      switch (ACTIVATION) {
        case ACT_SIGMOID: {
          let p = sigmoid(z);
          d = dl_dp(w, k, p, g) * p * (1.0 - p);
        }
        case ACT_SOFTMAX: {
          d = softmax_p * (dl_dp(w, k, softmax_p, g) - dot_p);
        }
        case ACT_TANH: {
          let p = stable_tanh(z);
          d = dl_dp(w, k, p, g) * (1.0 - p * p);
        }
        default: { d = dl_dp(w, k, z, g); }
      }
      if (AUX_KIND == AUX_SOFTMAX_CE) {
        d += softmax_p * dot_ce - w * k.w * smoothed(g);
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
      if (classes_in_quads()) {
        grads[c] = d * v.logit_scale;
      } else {
        store_grad(at, d * v.logit_scale);
      }
    }
    if (classes_in_quads()) {
      for (var q = 0u; q < REGISTER_CLASSES / 4u; q++) {
        let i = 4u * q;
        store_grad_quad(element_index(voxel, i), vec4<f32>(grads[i], grads[i + 1u], grads[i + 2u], grads[i + 3u]));
      }
    }
  }
}
