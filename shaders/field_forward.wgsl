// Distance-field losses, forward: per pair (sample, kept class) of the group and voxel, the
// loss term from the distance fields of the passes before, summed per workgroup; the voxel's
// weight is kept in `weights` (per_sample_index, bound from the window's first sample) for the
// backward pass.
//
// mode 0, MONAI's HausdorffDTLoss: volumes 0 and 1 of a pair hold the distance to the
// prediction's inside and outside (flag bit 0), 2 and 3 to the target's (bit 1). A voxel's
// field is its distance to the other side, 0 where there is none (the volume is all inside or
// all outside); with alpha = scalar_0 the weight is w = pred_field^alpha + target_field^alpha
// (f32, as MONAI), the term (p - t)^2 w.
// mode 1, the boundary loss: volumes 0 and 1 hold the distance to the target's inside and
// outside (bit 1): phi = +(distance to inside) outside, -(distance to outside) inside, 0 where
// there is none; the term p phi.
// p is the activated prediction (mode_2), t the target.
//
// Workgroups run over (pair, chunk), contiguous voxels; the record of (pair, chunk) is
// partials[pair * chunks + chunk].x, a per-thread sequence then a fixed tree (bitwise the same
// on every run).

// #include "lib/field_loss.wgsl"
// #include "lib/workgroup_sum.wgsl"

@group(0) @binding(1) var<storage, read> pred_in: array<u32>;
@group(0) @binding(2) var<storage, read> target_in: array<u32>;
@group(0) @binding(3) var<storage, read> flags: array<u32>;
@group(0) @binding(4) var<storage, read> pairs: array<PairInfo>;
@group(0) @binding(5) var<storage, read> field: array<u32>;
@group(0) @binding(6) var<storage, read_write> weights: array<f32>;
@group(0) @binding(7) var<storage, read_write> partials: array<vec4<f32>>;

// torch's float32 pow for the Python-float alpha: squares and cubes by products.
fn power(x: f32, alpha: f32) -> f32 {
  if (alpha == 2.0) {
    return x * x;
  }
  if (alpha == 1.0) {
    return x;
  }
  if (alpha == 3.0) {
    return x * x * x;
  }
  if (alpha == 0.5) {
    return sqrt(x);
  }
  return power_from_zero(x, alpha);
}

// A volume's distance, 0 where it has no feature at all.
fn distance_or_zero(raw: u32, spacing: vec4<f32>) -> f32 {
  if (raw == INF_RAW) {
    return 0.0;
  }
  return raw_distance(raw, spacing);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let at = pair_chunk(wg.x);
  let pair = at.pair;
  let sample = at.sample;
  let class_index = at.class_index;
  let spacing = pairs[pair].spacing;
  let range = chunk_range(at.chunk, params.voxels);
  let volumes = at.pair_local * params.volumes_per_pair * params.voxels;
  let softmax_mode = params.mode_2 == ACTIVATION_SOFTMAX;
  var sum = 0.0;
  for (var v = range.x + tid; v < range.y; v += WORKGROUP_SIZE) {
    let word = flags[at.pair_local * params.voxels + v];
    var softmax = vec2<f32>(0.0, 1.0);
    if (softmax_mode) {
      softmax = softmax_stats(sample, v);
    }
    let p = probability(sample, class_index, v, softmax);
    var weight: f32;
    if (params.mode == LOSS_HAUSDORFF) {
      let pred_side = select(0u, 1u, (word & 1u) != 0u);
      let target_side = select(2u, 3u, (word & 2u) != 0u);
      let pred_field = distance_or_zero(field[volumes + pred_side * params.voxels + v], spacing);
      let target_field = distance_or_zero(field[volumes + target_side * params.voxels + v], spacing);
      weight = power(pred_field, params.scalar_0) + power(target_field, params.scalar_0);
      let error = p - target_of(sample, class_index, v);
      sum += error * error * weight;
    } else {
      let inside = (word & 2u) != 0u;
      let d = distance_or_zero(field[volumes + select(0u, 1u, inside) * params.voxels + v], spacing);
      weight = select(d, -d, inside);
      sum += p * weight;
    }
    weights[per_sample_index(pair, v)] = weight;
  }
  let total = workgroup_sum(tid, vec4<f32>(sum, 0.0, 0.0, 0.0));
  if (tid == 0u) {
    partials[pair * params.chunks + at.chunk] = total;
  }
}
