// Loss-family backward pass: one thread per voxel writes dL/d(input) for all of its classes.
// The input is probabilities (activation none) or logits (sigmoid, softmax): the chain rule
// through the activation is applied here, so no probability tensor is ever stored.
//
// With per-pair coefficients (cI, cP, cT, cA) and (c+, c-) from family_finalize.wgsl and
// element weight w (mask x not-ignored):
//   dL/dp_c = w * (cI * g_c + cP * dP/dp_c + cT * dT/dp_c),  dP/dp = 1 or 2p (squared),
//   dT/dp = (1 - sign(p - g)) / 2 for the soft-label intersection T = sum min(p, g)
//   (soft_abs: dP/dp = sign(p), dT/dp = (sign(p) - sign(p - g)) / 2)
//   sigmoid: dL/dz_c = dL/dp_c * p_c (1 - p_c);  tanh: dL/dp_c * (1 - p_c^2)
//   softmax: dL/dz_c = p_c (dL/dp_c - sum_k p_k dL/dp_k)
// plus the cross-entropy on the logits, whatever the activation (s = sigmoid(z), q = softmax(z)):
//   binary (pos_weight k): dL/dz_c += w * cA_c * (s_c (k g_c + 1 - g_c) - k g_c)
//   softmax:               dL/dz_c += q_c sum_k w_k cA_k g_k - w_c cA_c g_c
// plus the focal term on the raw logit z (independent of the activation):
//   sigmoid form, s = 2g - 1, m = sigmoid(-z s)^gamma, bce = z - z g - log sigmoid(z):
//     df/dz = m (sigmoid(z) - g) - gamma s m sigmoid(z s) bce,  dL/dz_c += w (c+ g + c- (1 - g)) df/dz
//   softmax form over the focal classes F, l = log-softmax, q = exp(l),
//     h'(l) = -(1 - q)^gamma + gamma (1 - q)^(gamma - 1) q l,  e_c = c+_c g_c h'(l_c):
//     dL/dz_c += w (e_c - q_c sum_(k in F) e_k)  for c in F
// and with MONAI's mask-the-logits mode, a final factor m for z' = m z.
//
// Workgroups and binding windows as in family_voxel_stats.wgsl: this dispatch runs workgroups
// linear_base + wg.x, with pred, the target, a per-sample mask and grad bound from voxel
// `voxel_base` (element `element_base`); a shared mask and the coefficients are bound whole.

override WORKGROUP_SIZE: u32 = 256u;

struct BackwardParams {
  voxels: u32,
  classes: u32,
  spatial: u32,
  channels_first: u32,
  activation: u32,
  target_kind: u32,
  ignore_index: u32,
  has_ignore: u32,
  mask_mode: u32,
  mask_per_sample: u32,
  order: u32,
  voxels_per_chunk: u32,
  focal_kind: u32,     // 0 none, 1 sigmoid form, 2 softmax form
  focal_first_class: u32,
  focal_gamma: f32,
  pos_weight: f32,
  label_smoothing: f32,
  slab_voxels: u32,
  chunks: u32,
  aux_kind: u32,       // 0 none, 1 softmax cross-entropy, 2 binary cross-entropy (on the logits)
  soft_abs: u32,       // 1: MONAI's soft_label sums of absolute values (family_reduce.wgsl)
  linear_base: u32,
  voxel_base: u32,
  element_base: u32,
}

@group(0) @binding(0) var<uniform> params: BackwardParams;
@group(0) @binding(1) var<storage, read> pred: array<f32>;
@group(0) @binding(2) var<storage, read> truth: array<u32>;
@group(0) @binding(3) var<storage, read> mask: array<f32>;
@group(0) @binding(4) var<storage, read> coefs: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> grad: array<f32>;
// Written by family_voxel_stats.wgsl in the same encode: (max, log-sum-exp, argmax, focal lse).
@group(0) @binding(6) var<storage, read> voxel_stats: array<vec4<f32>>;

// `voxel` counts from the window's voxel_base (a multiple of 256, so whole words).
fn label_at(voxel: u32) -> u32 {
  switch (params.target_kind) {
    case 1u: { return (truth[voxel >> 2u] >> ((voxel & 3u) * 8u)) & 0xffu; }
    case 2u: { return (truth[voxel >> 1u] >> ((voxel & 1u) * 16u)) & 0xffffu; }
    default: { return truth[voxel]; }
  }
}

// tanh from exp(-2|z|) <= 1, finite for any finite z.
fn stable_tanh(z: f32) -> f32 {
  let e = exp(-2.0 * abs(z));
  return sign(z) * (1.0 - e) / (1.0 + e);
}

fn sigmoid(z: f32) -> f32 {
  if (z >= 0.0) {
    return 1.0 / (1.0 + exp(-z));
  }
  let e = exp(z);
  return e / (1.0 + e);
}

fn softplus(x: f32) -> f32 {
  return max(x, 0.0) + log(1.0 + exp(-abs(x)));
}

// x^gamma for x in [0, 1] with 0^0 = 1.
fn focal_power(x: f32, gamma: f32) -> f32 {
  if (gamma == 0.0) {
    return 1.0;
  }
  if (x <= 0.0) {
    return 0.0;
  }
  return pow(x, gamma);
}

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
  var slope = -focal_power(rest, params.focal_gamma);
  if (params.focal_gamma != 0.0 && rest > 0.0) {
    slope += params.focal_gamma * pow(rest, params.focal_gamma - 1.0) * q * log_q;
  }
  return slope;
}

// Index into the window of pred, a dense target and grad; u32 arithmetic wraps, so subtracting
// the window base last is exact.
fn element_index(voxel: u32, class_index: u32) -> u32 {
  if (params.channels_first != 0u) {
    let sample = voxel / params.spatial;
    return (sample * params.classes + class_index) * params.spatial + voxel % params.spatial - params.element_base;
  }
  return voxel * params.classes + class_index - params.element_base;
}

struct Voxel {
  weight: f32,      // mask x not-ignored, applied to every sum
  logit_scale: f32, // m in mask-the-logits mode, else 1
  label: u32,
  ignored: bool,
}

fn voxel_info(voxel: u32) -> Voxel {
  var v = Voxel(1.0, 1.0, 0u, false);
  var m = 1.0;
  if (params.mask_mode != 0u) {
    m = mask[select(voxel % params.spatial, voxel - params.voxel_base, params.mask_per_sample != 0u)];
  }
  if (params.target_kind != 0u) {
    v.label = label_at(voxel - params.voxel_base);
    v.ignored = params.has_ignore != 0u && v.label == params.ignore_index;
    if (params.mask_mode == 2u) {
      // MONAI one-hots label * mask (truncated): a masked voxel is class 0.
      v.label = u32(f32(v.label) * m);
    }
  }
  if (params.mask_mode == 2u) {
    v.logit_scale = m;
  } else {
    v.weight = m;
  }
  if (v.ignored) {
    v.weight = 0.0;
  }
  return v;
}

// (g, w): the target of one element and its weight. A dense target equal to the ignore value
// drops the element; mask-the-logits mode masks a dense target too.
fn element_at(v: Voxel, voxel: u32, class_index: u32) -> vec2<f32> {
  if (params.target_kind == 0u) {
    let bits = truth[element_index(voxel, class_index)];
    if (params.has_ignore != 0u && bits == params.ignore_index) {
      return vec2<f32>(0.0, 0.0);
    }
    return vec2<f32>(bitcast<f32>(bits) * v.logit_scale, v.weight);
  }
  return vec2<f32>(select(0.0, 1.0, v.label == class_index && !v.ignored), v.weight);
}

// The softmax cross-entropy's target with torch's label smoothing: (1 - e) g + e / C.
fn smoothed(g: f32) -> f32 {
  return g * (1.0 - params.label_smoothing) + params.label_smoothing / f32(params.classes);
}

fn dl_dp(w: f32, c: vec4<f32>, p: f32, g: f32) -> f32 {
  var dp = select(1.0, 2.0 * p, params.order == 2u);
  var dt = 0.5 * (1.0 - sign(p - g));
  if (params.soft_abs != 0u) {
    dp = sign(p);
    dt = 0.5 * (sign(p) - sign(p - g));
  }
  return w * (c.x * g + c.y * dp + c.z * dt);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let linear = params.linear_base + wg.x;
  let slab = linear / params.chunks;
  let slab_begin = slab * params.slab_voxels;
  let begin = slab_begin + (linear % params.chunks) * params.voxels_per_chunk;
  let end = min(begin + params.voxels_per_chunk, slab_begin + params.slab_voxels);
  for (var voxel = begin + tid; voxel < end; voxel += WORKGROUP_SIZE) {
    let v = voxel_info(voxel);
    let pair_base = (voxel / params.spatial) * params.classes;

    // Softmax (activation or cross-entropy) needs the voxel's log-sum-exp and two dot
    // products over its classes.
    var lse = 0.0;
    var dot_p = 0.0;
    var dot_ce = 0.0;
    if (params.activation == 2u || params.aux_kind == 1u) {
      lse = voxel_stats[voxel - params.voxel_base].y;
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
    if (params.focal_kind == 2u) {
      focal_lse = voxel_stats[voxel - params.voxel_base].w;
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
      switch (params.activation) {
        case 1u: {
          let p = sigmoid(z);
          d = dl_dp(w, k, p, g) * p * (1.0 - p);
        }
        case 2u: {
          let p = exp(z - lse);
          d = p * (dl_dp(w, k, p, g) - dot_p);
        }
        case 5u: {
          let p = stable_tanh(z);
          d = dl_dp(w, k, p, g) * (1.0 - p * p);
        }
        default: { d = dl_dp(w, k, z, g); }
      }
      if (params.aux_kind == 1u) {
        d += exp(z - lse) * dot_ce - w * k.w * smoothed(g);
      } else if (params.aux_kind == 2u) {
        let s = sigmoid(z);
        d += w * k.w * (s * (params.pos_weight * g + 1.0 - g) - params.pos_weight * g);
      }
      if (params.focal_kind != 0u && c >= params.focal_first_class) {
        let f = coefs[(pair_base + c) * 2u + 1u];
        if (params.focal_kind == 2u) {
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
