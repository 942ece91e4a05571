// What the loss family's voxel-major passes (shaders/family_forward.wgsl and
// family_backward.wgsl) share: the modes, fixed when a pipeline is created; the uniform block,
// which holds only shapes and scalars, so one pipeline serves every shape; the input bindings;
// and the decoding of one voxel and its elements (mask, label map or dense target,
// ignore_index, mask-the-logits).
//
// Workgroups run over (sample, chunk): sample `linear / chunks`, voxels
// [chunk * voxels_per_chunk, +voxels_per_chunk) of that sample. A dispatch runs workgroups
// linear_base + wg.x with pred, a dense target, a label map and a per-sample mask bound from
// voxel `voxel_base` (element `element_base`); a shared mask is bound whole (see "binding
// windows" in src/program/grids.ts). Channels-last puts a voxel's C values side by side, channels-first
// S apart.

// #include "lib/numeric.wgsl"
// #include "lib/labels.wgsl"
// #include "lib/family_pred.wgsl"

override WORKGROUP_SIZE: u32 = 256u;
override ACTIVATION: u32 = 0u;      // ACT_*
override TARGET_KIND: u32 = 0u;     // TARGET_* (lib/labels.wgsl)
override MASK_MODE: u32 = 0u;       // MASK_*
override MASK_PER_SAMPLE: bool = false;
override HAS_IGNORE: bool = false;  // a label, or for a dense target an element, equal to ignore_index drops out
override SQUARED: bool = false;     // P and G sum p^2 and g^2
override SOFT_ABS: bool = false;    // P, G, T from absolute values (MONAI soft_label), see family_forward.wgsl
override SOFT_L1: bool = false;     // the intersection is T = sum min(p, g) (family_finalize's soft-label L1 form)
override AUX_KIND: u32 = 0u;        // AUX_* (on the logits, whatever the activation)
override FOCAL_KIND: u32 = 0u;      // FOCAL_*
override CHANNELS_FIRST: bool = false;

// The most classes a thread keeps in per-class arrays: a forward class block, the backward's
// cached logits.
const CLASS_BLOCK: u32 = 16u;
// C itself where C <= CLASS_BLOCK, else 0 (src/program/family.ts). Loops over a voxel's
// classes then have a constant trip count, so the compiler unrolls them and keeps the
// per-class arrays in registers; indexed by a loop variable they would live in per-thread
// memory, slow on GPUs and slower still on a software rasteriser.
override REGISTER_CLASSES: u32 = 0u;

// Whether a voxel's classes are read (and written) four at a time: channels-last, with a
// class count in registers that is a multiple of 4 (lib/family_pred.wgsl).
fn classes_in_quads() -> bool {
  return REGISTER_CLASSES != 0u && REGISTER_CLASSES % 4u == 0u && !CHANNELS_FIRST;
}

// The raw logits of a voxel's REGISTER_CLASSES classes (call only where that is not 0), a vec4 at
// a time where they come in quads.
fn load_register_logits(voxel: u32, logits: ptr<function, array<f32, CLASS_BLOCK>>) {
  if (classes_in_quads()) {
    for (var q = 0u; q < REGISTER_CLASSES / 4u; q++) {
      let quad = pred_quad(element_index(voxel, 4u * q));
      for (var j = 0u; j < 4u; j++) {
        (*logits)[4u * q + j] = quad[j];
      }
    }
  } else {
    for (var c = 0u; c < REGISTER_CLASSES; c++) {
      (*logits)[c] = pred_at(element_index(voxel, c));
    }
  }
}

const ACT_NONE: u32 = 0u;
const ACT_SIGMOID: u32 = 1u;
const ACT_SOFTMAX: u32 = 2u;
const ACT_ARGMAX: u32 = 3u;        // one-hot of the first maximal logit (metrics)
const ACT_THRESHOLD: u32 = 4u;     // p > threshold (metrics)
const ACT_TANH: u32 = 5u;          // MONAI other_act=torch.tanh
const MASK_NONE: u32 = 0u;
const MASK_WEIGHT: u32 = 1u;       // weighs every term after the activation
const MASK_LOGITS: u32 = 2u;       // scales the logits and the target (MONAI's MaskedDiceLoss)
                                   // (a label map's label is scaled and truncated)
const AUX_NONE: u32 = 0u;
const AUX_SOFTMAX_CE: u32 = 1u;
const AUX_BINARY_CE: u32 = 2u;
const FOCAL_NONE: u32 = 0u;
const FOCAL_SIGMOID: u32 = 1u;
const FOCAL_SOFTMAX: u32 = 2u;     // log-softmax over classes focal_first_class .. C - 1

struct FamilyParams {
  classes: u32,
  spatial: u32,
  chunks: u32,
  voxels_per_chunk: u32,
  ignore_index: u32,     // a label, or for a dense target the f32 bits of the ignored value
  threshold: f32,
  focal_first_class: u32,
  focal_gamma: f32,
  pos_weight: f32,       // binary cross-entropy weight of the positive term (torch pos_weight)
  label_smoothing: f32,  // softmax cross-entropy target (1 - e) g + e / C, as torch's
  linear_base: u32,
  voxel_base: u32,
  element_base: u32,
}

@group(0) @binding(0) var<uniform> params: FamilyParams;
// pred (binding 1) is declared by lib/family_pred.wgsl.
// Dense f32 targets as raw bits, or a label map (lib/labels.wgsl).
@group(0) @binding(2) var<storage, read> truth: array<u32>;
@group(0) @binding(3) var<storage, read> mask: array<f32>;

// The voxels [begin, end) of this workgroup, global.
fn voxel_range(linear: u32) -> vec2<u32> {
  let sample = linear / params.chunks;
  let begin = sample * params.spatial + (linear % params.chunks) * params.voxels_per_chunk;
  return vec2<u32>(begin, min(begin + params.voxels_per_chunk, (sample + 1u) * params.spatial));
}

// Window-relative index of (voxel, class) in pred, a dense target and grad; u32 arithmetic
// wraps, so subtracting the window base last is exact.
fn element_index(voxel: u32, class_index: u32) -> u32 {
  if (CHANNELS_FIRST) {
    let sample = voxel / params.spatial;
    return (sample * params.classes + class_index) * params.spatial + voxel % params.spatial - params.element_base;
  }
  return voxel * params.classes + class_index - params.element_base;
}

struct Voxel {
  weight: f32,      // mask x not-ignored, applied to every sum (element_at drops ignored dense elements)
  logit_scale: f32, // m in mask-the-logits mode, else 1
  mask_value: f32,  // the raw mask value (1 without a mask), checked for finiteness
  label: u32,
  ignored: bool,
}

fn voxel_info(voxel: u32) -> Voxel {
  var v = Voxel(1.0, 1.0, 1.0, 0u, false);
  if (MASK_MODE != MASK_NONE) {
    // A shared mask ([...spatial]) is bound whole; a per-sample one is windowed.
    v.mask_value = mask[select(voxel % params.spatial, voxel - params.voxel_base, MASK_PER_SAMPLE)];
  }
  if (TARGET_KIND != TARGET_DENSE) {
    v.label = label_at(voxel - params.voxel_base);
    v.ignored = HAS_IGNORE && v.label == params.ignore_index;
    if (MASK_MODE == MASK_LOGITS) {
      // MONAI one-hots label * mask, truncated: a masked voxel is class 0. The ignore check
      // above saw the raw label.
      v.label = u32(f32(v.label) * v.mask_value);
    }
  }
  if (MASK_MODE == MASK_LOGITS) {
    v.logit_scale = v.mask_value;
  } else {
    v.weight = v.mask_value;
  }
  if (v.ignored) {
    v.weight = 0.0;
  }
  return v;
}

// The raw dense target value (check it with is_finite), or the one-hot of the label.
fn raw_target(v: Voxel, voxel: u32, class_index: u32) -> f32 {
  if (TARGET_KIND == TARGET_DENSE) {
    return bitcast<f32>(truth[element_index(voxel, class_index)]);
  }
  return select(0.0, 1.0, v.label == class_index && !v.ignored);
}

// (g, w) of one element from its raw target: a dense target equal to the ignore value (bit
// for bit: smp masks pred and target element-wise) drops the element; mask-the-logits mode
// scales a dense target by m (a label map's label was scaled in voxel_info).
fn target_element(v: Voxel, raw_g: f32) -> vec2<f32> {
  if (TARGET_KIND != TARGET_DENSE) {
    return vec2<f32>(raw_g, v.weight);
  }
  if (HAS_IGNORE && bitcast<u32>(raw_g) == params.ignore_index) {
    return vec2<f32>(0.0);
  }
  return vec2<f32>(raw_g * v.logit_scale, v.weight);
}

fn element_at(v: Voxel, voxel: u32, class_index: u32) -> vec2<f32> {
  return target_element(v, raw_target(v, voxel, class_index));
}

// The softmax cross-entropy's target with torch's label smoothing.
fn smoothed(g: f32) -> f32 {
  return g * (1.0 - params.label_smoothing) + params.label_smoothing / f32(params.classes);
}

// (max, log-sum-exp) of the scaled logits of classes [first, C) of a voxel.
fn log_sum_exp(voxel: u32, scale: f32, first: u32) -> vec2<f32> {
  var best = pred_at(element_index(voxel, first)) * scale;
  for (var c = first + 1u; c < params.classes; c++) {
    best = max(best, pred_at(element_index(voxel, c)) * scale);
  }
  var total = 0.0;
  for (var c = first; c < params.classes; c++) {
    total += exp(pred_at(element_index(voxel, c)) * scale - best);
  }
  return vec2<f32>(best, best + log(total));
}

// The first class of maximal scaled logit, as torch.argmax picks.
fn first_argmax(voxel: u32, scale: f32) -> u32 {
  var best = pred_at(element_index(voxel, 0u)) * scale;
  var best_class = 0u;
  for (var c = 1u; c < params.classes; c++) {
    let z = pred_at(element_index(voxel, c)) * scale;
    if (z > best) {
      best = z;
      best_class = c;
    }
  }
  return best_class;
}
