// Distance transform, last pass: the caller's distances from the raw values of each pair's
// volumes, in the caller's layout (`channels_first`, window from `element_base`), as f32 bits:
//   volume 0 has the mask's voxels as features (the distance to the nearest voxel inside);
//   volume 1 (signed, mode 1) its complement (the distance to the nearest voxel outside).
// Signed: outside +(distance to inside), inside -(distance to outside); unsigned: the distance
// to inside (0 inside). mode_2 1: squared distances. No feature: +infinity (-infinity for the
// inside of a full mask, signed).
//
// Workgroups run over (pair, chunk) of the group, contiguous voxels.

// #include "lib/surface_grid.wgsl"

@group(0) @binding(1) var<storage, read> flags: array<u32>;
@group(0) @binding(2) var<storage, read> pairs: array<PairInfo>;
@group(0) @binding(3) var<storage, read> field: array<u32>;
@group(0) @binding(4) var<storage, read_write> distances: array<u32>;

fn squared_distance(raw: u32, scale: f32) -> f32 {
  if (raw == INF_RAW) {
    return from_bits(F32_INF_BITS);
  }
  if (params.exact == 0u) {
    return bitcast<f32>(raw);
  }
  if (params.metric == METRIC_EUCLIDEAN) {
    // Unit spacing (scale 1): the integer itself, exact below 2^24.
    return select(f32(raw) * (scale * scale), f32(raw), scale == 1.0);
  }
  return f32(raw * raw);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let at = pair_chunk(wg.x);
  let spacing = pairs[at.pair].spacing;
  let signed = params.mode != 0u;
  let squared = params.mode_2 != 0u;
  let range = chunk_range(at.chunk, params.voxels);
  let volume = at.pair_local * params.volumes_per_pair * params.voxels;
  for (var v = range.x + tid; v < range.y; v += WORKGROUP_SIZE) {
    let inside = is_feature(flags[at.pair_local * params.voxels + v], 0u);
    let raw = select(field[volume + v], field[volume + params.voxels + v], signed && inside);
    var d = select(raw_distance(raw, spacing), squared_distance(raw, spacing.w), squared);
    if (signed && inside) {
      d = -d;
    }
    distances[input_element(at.sample, at.class_index, v)] = bitcast<u32>(d);
  }
}
