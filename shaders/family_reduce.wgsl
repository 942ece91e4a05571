// Loss-family forward pass 1: per-workgroup partial sums for every Dice-family loss, with the
// activation, the target decoding (dense or packed integer label map), the voxel mask and
// ignore_index fused in, so no probability or one-hot tensor is ever written.
//
// Column view as in dice_reduce_scalar.wgsl: channels-last slabs are samples (rows = voxels,
// cols = classes); channels-first slabs are (sample, class) runs (rows = voxels, one column).
// Per column it accumulates, in fixed order:
//   sums_a = (I = sum w*p*g, P = sum w*p^ord, G = sum w*g^ord, T = sum w*min(p, g))
// (T is the soft-label intersection (P + G - sum|p - g|) / 2 summed without its cancellation:
// for an empty class that difference of large sums would leave f32 noise bigger than the
// smoothing.) With soft_abs (MONAI's soft_label, which sums absolute values) P and G are
// sum w*|p|, sum w*|g| and T = sum w*(|p| + |g| - |p - g|) / 2 = sum w*min(|p|, |g|) where p
// and g have the same sign, else 0.
//   sums_b = (AUX = sum w*aux, M = sum w*g, bad labels, non-finite preds)
//   first  = (first bad-label voxel, first non-finite element) as u32 bits, 0xffffffff if none,
//            then (F+ = sum w*focal*g, F- = sum w*focal*(1 - g)) as f32 bits (softmax form:
//            F+ = sum w*focal, F- = 0)
// where w is the voxel weight (mask x not-ignored), aux the cross-entropy term and focal
// MONAI's focal term on the raw logit (finalize applies alpha and the class weights to F+, F-).
//
// Binding windows (src/plan.ts): this dispatch runs workgroups linear_base + wg.x of the
// slab-major (slab, chunk) grid, with pred, a dense target, a label map, a per-sample mask and
// voxel_stats bound from voxel `voxel_base` (element `element_base`); a shared mask and the
// partials are bound whole. Reported indices (first bad voxel / element) stay global.

override WORKGROUP_SIZE: u32 = 256u;

const NONE: u32 = 0xffffffffu;

struct FamilyParams {
  rows: u32,
  cols: u32,
  cols_per_group: u32,
  lanes: u32,
  rows_per_chunk: u32,
  chunks: u32,
  tree_start: u32,
  classes: u32,
  spatial: u32,
  channels_first: u32,
  activation: u32,     // 0 none, 1 sigmoid, 2 softmax, 3 argmax one-hot, 4 threshold, 5 tanh
  target_kind: u32,    // 0 dense f32, 1 u8 labels, 2 u16 labels, 3 u32 labels
  ignore_index: u32,   // a label, or for dense targets the f32 bits of the ignored target value
  has_ignore: u32,
  mask_mode: u32,      // 0 none, 1 weight after activation, 2 multiply logits and target
                       // (a label map's label is multiplied and truncated, as MONAI one-hots label * mask)
  mask_per_sample: u32,
  order: u32,          // 1, or 2 for squared sums
  aux_kind: u32,       // 0 none, 1 softmax cross-entropy, 2 binary cross-entropy (on the logits, whatever the activation)
  threshold: f32,
  focal_kind: u32,     // 0 none, 1 sigmoid form, 2 softmax form over the focal classes
  focal_first_class: u32,
  focal_gamma: f32,
  pos_weight: f32,     // binary cross-entropy weight of the positive term
  label_smoothing: f32, // softmax cross-entropy target (1 - e) g + e / C, as torch's
  soft_abs: u32,       // 1: P, G, T from absolute values (MONAI soft_label), see the header
  linear_base: u32,
  voxel_base: u32,
  element_base: u32,
}

@group(0) @binding(0) var<uniform> params: FamilyParams;
@group(0) @binding(1) var<storage, read> pred: array<f32>;
// Dense f32 targets as raw bits, or label maps packed 4 (u8) or 2 (u16) to a word.
@group(0) @binding(2) var<storage, read> truth: array<u32>;
@group(0) @binding(3) var<storage, read> mask: array<f32>;
@group(0) @binding(4) var<storage, read> voxel_stats: array<vec4<f32>>;
// Sums stored as raw f32 bits next to the u32 indices, so no index passes through a float.
@group(0) @binding(5) var<storage, read_write> partials: array<vec4<u32>>;

var<workgroup> shared_a: array<vec4<f32>, WORKGROUP_SIZE>;
var<workgroup> shared_b: array<vec4<f32>, WORKGROUP_SIZE>;
var<workgroup> shared_first: array<vec2<u32>, WORKGROUP_SIZE>;
var<workgroup> shared_focal: array<vec2<f32>, WORKGROUP_SIZE>;

// `voxel` counts from the window's voxel_base (a multiple of 256, so whole words).
fn label_at(voxel: u32) -> u32 {
  switch (params.target_kind) {
    case 1u: { return (truth[voxel >> 2u] >> ((voxel & 3u) * 8u)) & 0xffu; }
    case 2u: { return (truth[voxel >> 1u] >> ((voxel & 1u) * 16u)) & 0xffffu; }
    default: { return truth[voxel]; }
  }
}

fn is_finite(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u;
}

fn sigmoid(z: f32) -> f32 {
  // Both branches stay finite for any finite z.
  if (z >= 0.0) {
    return 1.0 / (1.0 + exp(-z));
  }
  let e = exp(z);
  return e / (1.0 + e);
}

// tanh from exp(-2|z|) <= 1, finite for any finite z (a tanh built on exp(2z) is not).
fn stable_tanh(z: f32) -> f32 {
  let e = exp(-2.0 * abs(z));
  return sign(z) * (1.0 - e) / (1.0 + e);
}

// log(1 + exp(x)) without overflow.
fn softplus(x: f32) -> f32 {
  return max(x, 0.0) + log(1.0 + exp(-abs(x)));
}

// x^gamma for x in [0, 1] with 0^0 = 1 (WGSL leaves pow(0, y) to the implementation).
fn focal_power(x: f32) -> f32 {
  if (params.focal_gamma == 0.0) {
    return 1.0;
  }
  if (x <= 0.0) {
    return 0.0;
  }
  return pow(x, params.focal_gamma);
}

// MONAI's focal term of one element. Sigmoid form, on the logit z:
//   (z - z g - log sigmoid(z)) * exp(gamma * log sigmoid(-z (2g - 1)));
// softmax form, with log_p the log-softmax over the focal classes: -(1 - p)^gamma * log_p * g.
fn focal_term(z: f32, g: f32, log_p: f32) -> f32 {
  if (params.focal_kind == 2u) {
    return -focal_power(1.0 - exp(log_p)) * log_p * g;
  }
  let bce = z - z * g + softplus(-z);
  return exp(-params.focal_gamma * softplus(z * (2.0 * g - 1.0))) * bce;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let linear = params.linear_base + wg.x;
  let chunk = linear % params.chunks;
  let slab = linear / params.chunks;
  let lane = tid / params.cols_per_group;
  let col = wg.y * params.cols_per_group + tid % params.cols_per_group;
  let in_range = lane < params.lanes && col < params.cols;

  var class_index = col;
  var sample = slab;
  if (params.channels_first != 0u) {
    class_index = slab % params.classes;
    sample = slab / params.classes;
  }

  var sums_a = vec4<f32>(0.0);
  var sums_b = vec4<f32>(0.0);
  var first = vec2<u32>(NONE, NONE);
  var focal = vec2<f32>(0.0);
  if (in_range) {
    let row_begin = chunk * params.rows_per_chunk;
    let row_end = min(row_begin + params.rows_per_chunk, params.rows);
    for (var row = row_begin + lane; row < row_end; row += params.lanes) {
      let i = (slab * params.rows + row) * params.cols + col;
      let voxel = sample * params.spatial + row;
      // Window-relative indices; u32 arithmetic wraps, so subtracting the bases is exact.
      let local_i = i - params.element_base;
      let local_voxel = voxel - params.voxel_base;
      var z = pred[local_i];
      if (!is_finite(z)) {
        sums_b.w += 1.0;
        first.y = min(first.y, i);
      }

      // The mask weighs every term (mode 1) or scales the logits and the target (mode 2,
      // MONAI's MaskedDiceLoss, which then sums every voxel; a label map's label * mask is
      // truncated to a class, so a masked voxel becomes class 0); an ignored label always
      // drops the voxel from every sum.
      var mask_value = 1.0;
      if (params.mask_mode != 0u) {
        mask_value = mask[select(row, local_voxel, params.mask_per_sample != 0u)];
      }
      var weight = select(1.0, mask_value, params.mask_mode == 1u);
      if (params.mask_mode == 2u) {
        z *= mask_value;
      }

      var g: f32;
      if (params.target_kind == 0u) {
        // A dense target equal to the ignore value drops this element (smp's per-element
        // ignore_index mask on y_pred and y_true).
        g = bitcast<f32>(truth[local_i]);
        if (params.has_ignore != 0u && truth[local_i] == params.ignore_index) {
          weight = 0.0;
          g = 0.0;
        }
      } else {
        var label = label_at(local_voxel);
        let ignored = params.has_ignore != 0u && label == params.ignore_index;
        if (params.mask_mode == 2u) {
          label = u32(f32(label) * mask_value);
        }
        if (ignored) {
          weight = 0.0;
        } else if (label >= params.classes && class_index == 0u) {
          // Out-of-range labels match no class; count each voxel once (at class 0).
          sums_b.z += 1.0;
          first.x = min(first.x, voxel);
        }
        g = select(0.0, 1.0, label == class_index && !ignored);
      }
      if (params.mask_mode == 2u && params.target_kind == 0u) {
        g *= mask_value;
      }

      var p: f32;
      switch (params.activation) {
        case 1u: { p = sigmoid(z); }
        case 2u: { p = exp(z - voxel_stats[local_voxel].y); }
        case 3u: { p = select(0.0, 1.0, bitcast<u32>(voxel_stats[local_voxel].z) == class_index); }
        case 4u: { p = select(0.0, 1.0, z > params.threshold); }
        case 5u: { p = stable_tanh(z); }
        default: { p = z; }
      }

      var aux = 0.0;
      if (params.aux_kind == 1u) {
        // The log-softmax of the logits, also when the Dice term uses another activation.
        let log_softmax = z - voxel_stats[local_voxel].y;
        aux = -(g * (1.0 - params.label_smoothing) + params.label_smoothing / f32(params.classes)) * log_softmax;
      } else if (params.aux_kind == 2u) {
        // Binary cross-entropy with logits (torch pos_weight on the positive term), overflow-free.
        aux = params.pos_weight * g * softplus(-z) + (1.0 - g) * softplus(z);
      }
      if (params.focal_kind != 0u && class_index >= params.focal_first_class) {
        var focal_log_p = 0.0;
        if (params.focal_kind == 2u) {
          focal_log_p = z - voxel_stats[local_voxel].w;
        }
        let f = weight * focal_term(z, g, focal_log_p);
        // The sigmoid form's alpha weighs g and 1 - g apart; the softmax form's term holds g already.
        focal += select(vec2<f32>(f * g, f * (1.0 - g)), vec2<f32>(f, 0.0), params.focal_kind == 2u);
      }

      var p_ord = select(p, p * p, params.order == 2u);
      var g_ord = select(g, g * g, params.order == 2u);
      var t = min(p, g);
      if (params.soft_abs != 0u) {
        p_ord = abs(p);
        g_ord = abs(g);
        t = select(0.0, min(p_ord, g_ord), p * g > 0.0);
      }
      sums_a += weight * vec4<f32>(p * g, p_ord, g_ord, t);
      sums_b.x += weight * aux;
      sums_b.y += weight * g;
    }
  }
  shared_a[tid] = sums_a;
  shared_b[tid] = sums_b;
  shared_first[tid] = first;
  shared_focal[tid] = focal;
  workgroupBarrier();

  for (var stride = params.tree_start; stride > 0u; stride >>= 1u) {
    if (in_range && lane < stride && lane + stride < params.lanes) {
      let other = tid + stride * params.cols_per_group;
      shared_a[tid] += shared_a[other];
      shared_b[tid] += shared_b[other];
      shared_first[tid] = min(shared_first[tid], shared_first[other]);
      shared_focal[tid] += shared_focal[other];
    }
    workgroupBarrier();
  }

  if (in_range && lane == 0u) {
    let out = ((slab * params.chunks + chunk) * params.cols + col) * 3u;
    partials[out] = bitcast<vec4<u32>>(shared_a[tid]);
    partials[out + 1u] = bitcast<vec4<u32>>(shared_b[tid]);
    partials[out + 2u] = vec4<u32>(shared_first[tid], bitcast<vec2<u32>>(shared_focal[tid]));
  }
}
