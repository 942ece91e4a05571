// What the distance-field loss passes share (included with `// #include "lib/field_loss.wgsl"`):
// MONAI's Hausdorff-DT loss (mode 0) and the boundary loss of Kervadec et al. (mode 1), on the
// caller's predictions (`pred_in`: probabilities or logits, with the activation of mode_2) and
// targets (`target_in`: dense f32 or a label map).

// #include "lib/surface_masks.wgsl"

const LOSS_HAUSDORFF: u32 = 0u;
const LOSS_BOUNDARY: u32 = 1u;
const ACTIVATION_NONE: u32 = 0u;
const ACTIVATION_SIGMOID: u32 = 1u;
const ACTIVATION_SOFTMAX: u32 = 2u;
const ACTIVATION_TANH: u32 = 3u;

// The softmax's maximum and denominator over a voxel's classes.
fn softmax_stats(sample: u32, voxel: u32) -> vec2<f32> {
  var m = pred_value(sample, 0u, voxel);
  for (var c = 1u; c < params.classes; c++) {
    m = max(m, pred_value(sample, c, voxel));
  }
  var total = 0.0;
  for (var c = 0u; c < params.classes; c++) {
    total += exp(pred_value(sample, c, voxel) - m);
  }
  return vec2<f32>(m, total);
}

// The activated prediction; `softmax` is softmax_stats of the voxel (used by that mode only).
fn probability(sample: u32, class_index: u32, voxel: u32, softmax: vec2<f32>) -> f32 {
  let z = pred_value(sample, class_index, voxel);
  switch (params.mode_2) {
    case ACTIVATION_SIGMOID: { return sigmoid(z); }
    case ACTIVATION_SOFTMAX: { return exp(z - softmax.x) / softmax.y; }
    case ACTIVATION_TANH: { return stable_tanh(z); }
    default: { return z; }
  }
}

// The target of a class: a dense value, or the one-hot of a label.
fn target_of(sample: u32, class_index: u32, voxel: u32) -> f32 {
  if (params.target_kind == KIND_DENSE) {
    return target_value(sample, class_index, voxel);
  }
  return select(0.0, 1.0, target_label(sample, voxel) == class_index);
}
