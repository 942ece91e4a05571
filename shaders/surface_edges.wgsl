// Surface metrics: the surfaces of both masks of each pair of the group, within the pair's box,
// as flag words for the distance transforms and the gather pass.
//
// Voxel surfaces (cell_grid 0), MONAI's edges: a voxel in the mask with a face neighbour (2 per
// real axis) that is not, a neighbour outside the image counting as not in the mask.
//   bit 0 the prediction's edge, bit 1 the target's.
// Subvoxel surfaces (cell_grid 1, MONAI's use_subvoxels): cell j of the grid holds the voxels
// j - 1 and j on every real axis (2 x 2 or 2 x 2 x 2, voxels outside the image are outside);
// its code has the bit 2^(2^dims - 1 - t) for each corner t (row-major offsets) inside the mask
// (MONAI's neighbourhood code; src/reference/surface/marching.ts).
//   bits 0-7 the prediction's code, 8-15 the target's, bit 16 the prediction's cell is on the
//   boundary (some corners in, some out), bit 17 the target's.
//
// Workgroups run over (pair, chunk), sharing the box's points (BoxWalk, lib/surface_box.wgsl).

// #include "lib/surface_box.wgsl"
// #include "lib/surface_masks.wgsl"

@group(0) @binding(1) var<storage, read> pred_in: array<u32>;
@group(0) @binding(2) var<storage, read> target_in: array<u32>;
@group(0) @binding(3) var<storage, read> boxes: array<vec4<u32>>;
@group(0) @binding(4) var<storage, read_write> flags: array<u32>;

// Whether the voxel at c, in the mask (`which` 0 pred, 1 target), has a face neighbour outside.
fn on_edge(which: u32, sample: u32, class_index: u32, c: vec3<u32>) -> bool {
  let n = voxel_size();
  let real = real_axes();
  for (var a = 0u; a < 3u; a++) {
    if (!real[a]) {
      continue;
    }
    if (c[a] == 0u || c[a] + 1u == n[a]) {
      return true;
    }
    var step = vec3<u32>(0u);
    step[a] = 1u;
    let before = voxel_index(c - step);
    let after = voxel_index(c + step);
    if (which == 0u) {
      if (!in_pred(sample, class_index, before) || !in_pred(sample, class_index, after)) {
        return true;
      }
    } else if (!in_target(sample, class_index, before) || !in_target(sample, class_index, after)) {
      return true;
    }
  }
  return false;
}

fn voxel_word(sample: u32, class_index: u32, c: vec3<u32>) -> u32 {
  let v = voxel_index(c);
  var word = 0u;
  if (in_pred(sample, class_index, v) && on_edge(0u, sample, class_index, c)) {
    word |= 1u;
  }
  if (in_target(sample, class_index, v) && on_edge(1u, sample, class_index, c)) {
    word |= 2u;
  }
  return word;
}

fn cell_word(sample: u32, class_index: u32, cell: vec3<u32>) -> u32 {
  let n = voxel_size();
  let corners = 1u << params.dims;
  var pred_code = 0u;
  var target_code = 0u;
  for (var t = 0u; t < corners; t++) {
    // The corner's voxel: cell - 1 + offset on each real axis (offset bits of t, first real
    // axis highest); outside the image it is outside both masks.
    var c = cell;
    var outside = false;
    for (var i = 0u; i < params.dims; i++) {
      let a = 3u - params.dims + i;
      let offset = (t >> (params.dims - 1u - i)) & 1u;
      if (cell[a] + offset == 0u || cell[a] + offset > n[a]) {
        outside = true;
      }
      c[a] = cell[a] + offset - 1u;
    }
    if (outside) {
      continue;
    }
    let v = voxel_index(c);
    let bit = 1u << (corners - 1u - t);
    if (in_pred(sample, class_index, v)) {
      pred_code |= bit;
    }
    if (in_target(sample, class_index, v)) {
      target_code |= bit;
    }
  }
  let full = (1u << corners) - 1u;
  let pred_boundary = pred_code != 0u && pred_code != full;
  let target_boundary = target_code != 0u && target_code != full;
  return pred_code | (target_code << 8u) | (u32(pred_boundary) << 16u) | (u32(target_boundary) << 17u);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let at = pair_chunk(wg.x);
  let sample = at.sample;
  let class_index = at.class_index;
  var walk = box_walk(box_of(at.pair), at.chunk * WORKGROUP_SIZE + tid, params.chunks * WORKGROUP_SIZE);
  while (walk_next(&walk)) {
    let g = walk.g;
    let c = walk.c;
    var word: u32;
    if (params.cell_grid != 0u) {
      word = cell_word(sample, class_index, c);
    } else {
      word = voxel_word(sample, class_index, c);
    }
    flags[at.pair_local * params.voxels + g] = word;
  }
}
