// Loss-family backward pass: one thread per voxel writes dL/d(input) for all of its classes.
// The input is probabilities (activation none) or logits (sigmoid, softmax): the chain rule
// through the activation is applied here, so no probability tensor is ever stored.
//
// With per-pair coefficients (cI, cP, cD, cA) from family_finalize.wgsl and voxel weight w:
//   dL/dp_c = w * (cI * g_c + cP * dP/dp_c + cD * sign(p_c - g_c)),  dP/dp = 1 or 2p (squared)
//   sigmoid: dL/dz_c = dL/dp_c * p_c (1 - p_c) + w * cA_c * (p_c - g_c)             (BCE)
//   softmax: dL/dz_c = p_c (dL/dp_c - sum_k p_k dL/dp_k) + w * (p_c sum_k cA_k g_k - cA_c g_c)
// and with MONAI's mask-the-logits mode, a final factor m for z' = m z.

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
}

@group(0) @binding(0) var<uniform> params: BackwardParams;
@group(0) @binding(1) var<storage, read> pred: array<f32>;
@group(0) @binding(2) var<storage, read> truth: array<u32>;
@group(0) @binding(3) var<storage, read> mask: array<f32>;
@group(0) @binding(4) var<storage, read> coefs: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> grad: array<f32>;

fn label_at(voxel: u32) -> u32 {
  switch (params.target_kind) {
    case 1u: { return (truth[voxel >> 2u] >> ((voxel & 3u) * 8u)) & 0xffu; }
    case 2u: { return (truth[voxel >> 1u] >> ((voxel & 1u) * 16u)) & 0xffffu; }
    default: { return truth[voxel]; }
  }
}

fn sigmoid(z: f32) -> f32 {
  if (z >= 0.0) {
    return 1.0 / (1.0 + exp(-z));
  }
  let e = exp(z);
  return e / (1.0 + e);
}

fn element_index(voxel: u32, class_index: u32) -> u32 {
  if (params.channels_first != 0u) {
    let sample = voxel / params.spatial;
    return (sample * params.classes + class_index) * params.spatial + voxel % params.spatial;
  }
  return voxel * params.classes + class_index;
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
    m = mask[select(voxel % params.spatial, voxel, params.mask_per_sample != 0u)];
  }
  if (params.target_kind != 0u) {
    v.label = label_at(voxel);
    v.ignored = params.has_ignore != 0u && v.label == params.ignore_index;
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

fn target_at(v: Voxel, voxel: u32, class_index: u32) -> f32 {
  var g: f32;
  if (params.target_kind == 0u) {
    g = bitcast<f32>(truth[element_index(voxel, class_index)]);
  } else {
    g = select(0.0, 1.0, v.label == class_index && !v.ignored);
  }
  // Mask-the-logits mode masks the target too.
  return g * v.logit_scale;
}

fn dl_dp(v: Voxel, c: vec4<f32>, p: f32, g: f32) -> f32 {
  let dp = select(1.0, 2.0 * p, params.order == 2u);
  return v.weight * (c.x * g + c.y * dp + c.z * sign(p - g));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let begin = wg.x * params.voxels_per_chunk;
  let end = min(begin + params.voxels_per_chunk, params.voxels);
  for (var voxel = begin + tid; voxel < end; voxel += WORKGROUP_SIZE) {
    let v = voxel_info(voxel);
    let pair_base = (voxel / params.spatial) * params.classes;

    // Softmax needs the voxel's log-sum-exp and two dot products over its classes.
    var lse = 0.0;
    var dot_p = 0.0;
    var dot_ce = 0.0;
    if (params.activation == 2u) {
      var top = pred[element_index(voxel, 0u)] * v.logit_scale;
      for (var c = 1u; c < params.classes; c++) {
        top = max(top, pred[element_index(voxel, c)] * v.logit_scale);
      }
      var total = 0.0;
      for (var c = 0u; c < params.classes; c++) {
        total += exp(pred[element_index(voxel, c)] * v.logit_scale - top);
      }
      lse = top + log(total);
      for (var c = 0u; c < params.classes; c++) {
        let p = exp(pred[element_index(voxel, c)] * v.logit_scale - lse);
        let g = target_at(v, voxel, c);
        let k = coefs[pair_base + c];
        dot_p += p * dl_dp(v, k, p, g);
        dot_ce += k.w * g;
      }
    }

    for (var c = 0u; c < params.classes; c++) {
      let at = element_index(voxel, c);
      let z = pred[at] * v.logit_scale;
      let g = target_at(v, voxel, c);
      let k = coefs[pair_base + c];
      var d: f32;
      switch (params.activation) {
        case 1u: {
          let p = sigmoid(z);
          d = dl_dp(v, k, p, g) * p * (1.0 - p) + v.weight * k.w * (p - g);
        }
        case 2u: {
          let p = exp(z - lse);
          d = p * (dl_dp(v, k, p, g) - dot_p) + v.weight * (p * dot_ce - k.w * g);
        }
        default: { d = dl_dp(v, k, z, g); }
      }
      grad[at] = d * v.logit_scale;
    }
  }
}
