// The first pass over the caller's tensors for the distance transform and the distance-field
// losses: per pair (sample, class) of the group and per voxel, a flag word for the passes that
// follow: bit 0 the prediction is inside (> 0.5 after its activation), bit 1 the target is
// inside (a binary mask's 1, a soft target's > 0.5, a label map's label). Counts the input's
// faults into the status words.
//
// mode (target):   0 none, 1 binary mask (0 or 1), 2 soft (> 0.5; finite)
// mode_2 (pred):   0 none, 1 probabilities (> 0.5), 2 sigmoid logits (> 0), 3 softmax logits,
//                  4 tanh (> scalar_0, the largest f32 whose tanh is <= 0.5)
// Deciding > 0.5 from the logits keeps the threshold exact where an f32 activation would round
// to 0.5: sigmoid(z) > 0.5 exactly when z > 0; softmax with two classes when z_c > z_other.
//
// Workgroups run over (pair, chunk): chunk `wg.x % chunks` of the pair's volume, contiguous.
// Each element is checked once: pair k checks its own class, pair 0 of a sample also the classes
// before the first kept one (and a label map's labels).

// #include "lib/surface_masks.wgsl"
// #include "lib/surface_faults.wgsl"

@group(0) @binding(1) var<storage, read> pred_in: array<u32>;
@group(0) @binding(2) var<storage, read> target_in: array<u32>;
@group(0) @binding(3) var<storage, read_write> flags: array<u32>;
@group(0) @binding(4) var<storage, read_write> status: array<atomic<u32>>;

const TARGET_NONE: u32 = 0u;
const TARGET_BINARY: u32 = 1u;
const TARGET_SOFT: u32 = 2u;
const PRED_NONE: u32 = 0u;
const PRED_PROBABILITY: u32 = 1u;
const PRED_SIGMOID: u32 = 2u;
const PRED_SOFTMAX: u32 = 3u;
const PRED_TANH: u32 = 4u;

fn softmax_above_half(sample: u32, class_index: u32, voxel: u32) -> bool {
  let z = pred_value(sample, class_index, voxel);
  if (params.classes == 2u) {
    return z > pred_value(sample, 1u - class_index, voxel);
  }
  var m = z;
  for (var j = 0u; j < params.classes; j++) {
    m = max(m, pred_value(sample, j, voxel));
  }
  var others = 0.0;
  for (var j = 0u; j < params.classes; j++) {
    if (j != class_index) {
      others += exp(pred_value(sample, j, voxel) - m);
    }
  }
  return exp(z - m) > others;
}

fn pred_inside(sample: u32, class_index: u32, voxel: u32) -> bool {
  switch (params.mode_2) {
    case PRED_PROBABILITY: { return pred_value(sample, class_index, voxel) > 0.5; }
    case PRED_SIGMOID: { return pred_value(sample, class_index, voxel) > 0.0; }
    case PRED_SOFTMAX: { return softmax_above_half(sample, class_index, voxel); }
    case PRED_TANH: { return pred_value(sample, class_index, voxel) > params.scalar_0; }
    default: { return false; }
  }
}

fn target_inside(sample: u32, class_index: u32, voxel: u32) -> bool {
  if (params.target_kind != KIND_DENSE) {
    return target_label(sample, voxel) == class_index;
  }
  let g = target_value(sample, class_index, voxel);
  return select(g > 0.5, g == 1.0, params.mode == TARGET_BINARY);
}

// Faults of the elements this pair checks (see the header).
fn check_voxel(sample: u32, kept_index: u32, voxel: u32) {
  let own = params.first_class + kept_index;
  let lowest = select(own, 0u, kept_index == 0u);
  if (params.mode_2 != PRED_NONE) {
    for (var c = lowest; c <= own; c++) {
      if (!is_finite(pred_value(sample, c, voxel))) {
        note_fault(FAULT_PRED, input_element(sample, c, voxel) + params.element_base);
      }
    }
  }
  if (params.mode == TARGET_NONE) {
    return;
  }
  if (params.target_kind != KIND_DENSE) {
    if (kept_index == 0u && target_label(sample, voxel) >= params.classes) {
      note_fault(FAULT_LABEL, sample * params.sample_voxels + voxel);
    }
    return;
  }
  for (var c = lowest; c <= own; c++) {
    let g = target_value(sample, c, voxel);
    let bad = select(!is_finite(g), not_binary(g), params.mode == TARGET_BINARY);
    if (bad) {
      note_fault(FAULT_TARGET, input_element(sample, c, voxel) + params.element_base);
    }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  clear_faults(tid);
  workgroupBarrier();
  let at = pair_chunk(wg.x);
  let sample = at.sample;
  let class_index = at.class_index;
  let range = chunk_range(at.chunk, params.voxels);
  for (var v = range.x + tid; v < range.y; v += WORKGROUP_SIZE) {
    var word = 0u;
    if (params.mode_2 != PRED_NONE && pred_inside(sample, class_index, v)) {
      word |= 1u;
    }
    if (params.mode != TARGET_NONE && target_inside(sample, class_index, v)) {
      word |= 2u;
    }
    flags[at.pair_local * params.voxels + v] = word;
    check_voxel(sample, class_index - params.first_class, v);
  }
  workgroupBarrier();
  flush_faults(tid);
}
