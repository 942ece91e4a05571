// What the loss family's voxel-major passes (shaders/family_forward.wgsl and
// family_backward.wgsl) share beyond the grid (lib/voxel_grid.wgsl): the modes, fixed when a
// pipeline is created; the uniform block, which holds only shapes and scalars, so one pipeline
// serves every shape; the target and mask bindings; and the decoding of one voxel and its
// elements (mask, label map or dense target, ignore_index, mask-the-logits). A shared mask
// ([...spatial]) is bound whole, a per-sample one windowed as pred is.

// #include "lib/numeric.wgsl"
// #include "lib/family_modes.wgsl"
// #include "lib/labels.wgsl"
// #include "lib/voxel_grid.wgsl"

override ACTIVATION: u32 = 0u;      // ACT_* (lib/family_modes.wgsl)
override TARGET_KIND: u32 = 0u;     // TARGET_* (lib/labels.wgsl)
override MASK_MODE: u32 = 0u;       // MASK_*
override MASK_PER_SAMPLE: bool = false;
override HAS_IGNORE: bool = false;  // a label, or for a dense target an element, equal to ignore_index drops out
override SQUARED: bool = false;     // P and G sum p^2 and g^2
override SOFT_ABS: bool = false;    // P, G, T from absolute values (MONAI soft_label), see family_forward.wgsl
override SOFT_L1: bool = false;     // the intersection is T = sum min(p, g) (family_finalize's soft-label L1 form)
override AUX_KIND: u32 = 0u;        // AUX_* (on the logits, whatever the activation)
override FOCAL_KIND: u32 = 0u;      // FOCAL_*

struct FamilyParams {
  // The grid (lib/voxel_grid.wgsl).
  classes: u32,
  spatial: u32,
  chunks: u32,
  voxels_per_chunk: u32,
  linear_base: u32,
  voxel_base: u32,
  voxel_end: u32,
  element_base: u32,
  carry_slot: u32,
  fault_base: u32,
  // The family's scalars.
  ignore_index: u32,     // a label, or for a dense target the f32 bits of the ignored value (compared as a value)
  threshold: f32,
  focal_first_class: u32,
  focal_gamma: f32,
  pos_weight: f32,       // binary cross-entropy weight of the positive term (torch pos_weight)
  label_smoothing: f32,  // softmax cross-entropy target (1 - e) g + e / C, as torch's
  term_scale: f32,       // 2^-ceil(log2(elements)): the forward sums cross-entropy and focal terms times it
}

@group(0) @binding(0) var<uniform> params: FamilyParams;
// pred (binding 1) is declared by lib/voxel_pred.wgsl.
// Dense f32 targets as raw bits, or a label map (lib/labels.wgsl).
@group(0) @binding(2) var<storage, read> truth: array<u32>;
@group(0) @binding(3) var<storage, read> mask: array<f32>;

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
    if (MASK_MODE == MASK_LOGITS && is_finite(v.mask_value)) {
      // MONAI one-hots label * mask, truncated: a masked voxel is class 0. The ignore check
      // above saw the raw label. A non-finite mask keeps the raw label: the fault is the mask's
      // (NON_FINITE_INPUT), not a label out of range (u32(inf) saturates).
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

// (g, w) of one element from its raw target: a dense target equal to the ignore value (as a
// value, so -0 is ignored with 0: smp masks pred and target element-wise) drops the element;
// mask-the-logits mode scales a dense target by m (a label map's label was scaled in voxel_info).
fn target_element(v: Voxel, raw_g: f32) -> vec2<f32> {
  if (TARGET_KIND != TARGET_DENSE) {
    return vec2<f32>(raw_g, v.weight);
  }
  if (HAS_IGNORE && raw_g == bitcast<f32>(params.ignore_index)) {
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
