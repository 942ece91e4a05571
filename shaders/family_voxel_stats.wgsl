// Loss-family pre-pass for activations that need the whole class vector of a voxel: one
// thread per voxel writes (max logit, log-sum-exp, argmax) so the column-parallel reduction
// can apply softmax or argmax to a single element without reading the other classes.
// The focal term's softmax form normalises over the focal classes only (MONAI drops the
// background channel before its log-softmax), hence a second log-sum-exp over classes
// focal_first_class .. C - 1.
// Layout: channels-last puts a voxel's C logits side by side; channels-first S apart.
// Workgroups: slabs of `slab_voxels` voxels (the whole batch channels-last, one sample
// channels-first), each cut in `chunks` chunks; this dispatch runs workgroups linear_base + wg.x
// with pred, voxel_stats and a per-sample mask bound from voxel `voxel_base` (element
// `element_base`): see "binding windows" in src/plan.ts.

override WORKGROUP_SIZE: u32 = 256u;

struct VoxelParams {
  voxels: u32,
  classes: u32,
  spatial: u32,
  channels_first: u32,
  voxels_per_chunk: u32,
  focal_first_class: u32,
  // MONAI's mask-the-logits mode: the activation sees m * z, so these statistics must too.
  mask_logits: u32,
  mask_per_sample: u32,
  slab_voxels: u32,
  chunks: u32,
  linear_base: u32,
  voxel_base: u32,
  element_base: u32,
}

@group(0) @binding(0) var<uniform> params: VoxelParams;
@group(0) @binding(1) var<storage, read> pred: array<f32>;
// Per voxel: (max logit, log-sum-exp, argmax as u32 bits, log-sum-exp over the focal classes).
@group(0) @binding(2) var<storage, read_write> voxel_stats: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> mask: array<f32>;

fn logit_at(voxel: u32, class_index: u32) -> f32 {
  var scale = 1.0;
  if (params.mask_logits != 0u) {
    // A shared mask ([...spatial]) is bound whole; a per-sample one is windowed.
    scale = mask[select(voxel % params.spatial, voxel - params.voxel_base, params.mask_per_sample != 0u)];
  }
  // u32 arithmetic wraps, so subtracting the window base last is exact.
  if (params.channels_first != 0u) {
    let sample = voxel / params.spatial;
    return scale * pred[(sample * params.classes + class_index) * params.spatial + voxel % params.spatial - params.element_base];
  }
  return scale * pred[voxel * params.classes + class_index - params.element_base];
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let linear = params.linear_base + wg.x;
  let slab = linear / params.chunks;
  let slab_begin = slab * params.slab_voxels;
  let begin = slab_begin + (linear % params.chunks) * params.voxels_per_chunk;
  let end = min(begin + params.voxels_per_chunk, slab_begin + params.slab_voxels);
  for (var voxel = begin + tid; voxel < end; voxel += WORKGROUP_SIZE) {
    var best = logit_at(voxel, 0u);
    var best_class = 0u;
    for (var c = 1u; c < params.classes; c++) {
      let z = logit_at(voxel, c);
      // Strict '>' keeps the first maximum, as torch.argmax does.
      if (z > best) {
        best = z;
        best_class = c;
      }
    }
    var total = 0.0;
    for (var c = 0u; c < params.classes; c++) {
      total += exp(logit_at(voxel, c) - best);
    }
    // The focal classes' own log-sum-exp, only for a softmax-form focal term (the host passes
    // focal_first_class = classes otherwise): C more exps per voxel are not free.
    var focal_lse = 0.0;
    if (params.focal_first_class < params.classes) {
      let first = params.focal_first_class;
      var focal_best = logit_at(voxel, first);
      for (var c = first + 1u; c < params.classes; c++) {
        focal_best = max(focal_best, logit_at(voxel, c));
      }
      var focal_total = 0.0;
      for (var c = first; c < params.classes; c++) {
        focal_total += exp(logit_at(voxel, c) - focal_best);
      }
      focal_lse = focal_best + log(focal_total);
    }
    voxel_stats[voxel - params.voxel_base] = vec4<f32>(best, best + log(total), bitcast<f32>(best_class), focal_lse);
  }
}
