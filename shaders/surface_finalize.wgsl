// Surface metrics, last pass: each pair's metrics from the gather partials (and the percentile
// selection), MONAI's rules for empty surfaces included. One workgroup, a thread per pair
// folding its chunks in order.
//
// stats: 8 f32 per pair (sample-major, then kept class), written as bits (NaN and infinities
// exactly):
//   0 Hausdorff distance (the larger of the directions' maxima or percentiles; with `directed`,
//     prediction to target only)
//   1 average surface distance (prediction to target; `symmetric`: both directions pooled)
//   2 normalised surface Dice (elements, or with subvoxels lengths / areas, within the limit)
//   3 the prediction's surface: elements, or with subvoxels its length / area
//   4 the target's surface, likewise
//   5 Hausdorff distance prediction to target, 6 target to prediction (as word 0 when a surface
//     is empty), 7 0
// Both surfaces empty: 0-2 and 5-6 NaN. One empty (every distance infinite, as MONAI counts
// them): Hausdorff +infinity, or NaN with a percentile; average surface distance +infinity;
// surface Dice 0.
//
// mode: 1 percentile (the select state holds each list's order statistics). mode_2: bit 0
// directed, bit 1 symmetric average surface distance, bit 2 surface Dice asked for (else NaN).

// #include "lib/surface_grid.wgsl"
// #include "lib/surface_select.wgsl"

@group(0) @binding(1) var<storage, read> partials: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read> pairs: array<PairInfo>;
@group(0) @binding(3) var<storage, read> select_state: array<vec4<u32>>;
@group(0) @binding(4) var<storage, read_write> stats: array<u32>;

// torch.lerp in f32 (at::lerp: a + w (b - a) for w < 0.5, else b - (b - a)(1 - w)).
fn lerp_f32(a: f32, b: f32, w: f32) -> f32 {
  if (w < 0.5) {
    return a + w * (b - a);
  }
  return b - (b - a) * (1.0 - w);
}

// A direction's Hausdorff distance when both surfaces have elements.
fn directed_hausdorff(pair: u32, d: u32, max_raw: u32, spacing: vec4<f32>) -> f32 {
  if (params.mode == 0u) {
    return raw_distance(max_raw, spacing);
  }
  let head = select_state[(pair * 2u + d) * 2u];
  let tail = select_state[(pair * 2u + d) * 2u + 1u];
  return lerp_f32(raw_distance(head.x, spacing), raw_distance(tail.z, spacing), bitcast<f32>(tail.y));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32) {
  for (var pair = tid; pair < params.pairs; pair += WORKGROUP_SIZE) {
    var c0 = vec4<u32>(0u);
    var c1 = vec4<u32>(0u);
    var s0 = vec4<f32>(0.0);
    var s1 = vec4<f32>(0.0);
    for (var chunk = 0u; chunk < params.chunks; chunk++) {
      let record = (pair * params.chunks + chunk) * 4u;
      let a = partials[record];
      let b = partials[record + 1u];
      c0 = vec4<u32>(c0.xy + a.xy, max(c0.z, a.z), 0u);
      c1 = vec4<u32>(c1.xy + b.xy, max(c1.z, b.z), 0u);
      s0 += bitcast<vec4<f32>>(partials[record + 2u]);
      s1 += bitcast<vec4<f32>>(partials[record + 3u]);
    }
    let spacing = pairs[pair].spacing;
    let cells = params.cell_grid != 0u;
    let at = pair * 8u;
    stats[at + 3u] = bitcast<u32>(select(f32(c0.x), s0.y, cells));
    stats[at + 4u] = bitcast<u32>(select(f32(c1.x), s1.y, cells));
    stats[at + 7u] = 0u;
    if (c0.x == 0u && c1.x == 0u) {
      for (var i = 0u; i < 3u; i++) {
        stats[at + i] = F32_NAN_BITS;
      }
      stats[at + 5u] = F32_NAN_BITS;
      stats[at + 6u] = F32_NAN_BITS;
      continue;
    }
    if (c0.x == 0u || c1.x == 0u) {
      let hausdorff = select(F32_INF_BITS, F32_NAN_BITS, params.mode != 0u);
      stats[at] = hausdorff;
      stats[at + 1u] = F32_INF_BITS;
      stats[at + 2u] = select(F32_NAN_BITS, 0u, (params.mode_2 & 4u) != 0u);
      stats[at + 5u] = hausdorff;
      stats[at + 6u] = hausdorff;
      continue;
    }
    let forward = directed_hausdorff(pair, 0u, c0.z, spacing);
    let directed = (params.mode_2 & 1u) != 0u;
    var backward = from_bits(F32_NAN_BITS);
    var hausdorff = forward;
    if (!directed) {
      backward = directed_hausdorff(pair, 1u, c1.z, spacing);
      hausdorff = max(forward, backward);
    }
    stats[at] = bitcast<u32>(hausdorff);
    stats[at + 5u] = bitcast<u32>(forward);
    stats[at + 6u] = select(F32_NAN_BITS, bitcast<u32>(backward), !directed);
    let symmetric = (params.mode_2 & 2u) != 0u;
    let asd = select(s0.x / f32(c0.x), (s0.x + s1.x) / f32(c0.x + c1.x), symmetric);
    stats[at + 1u] = bitcast<u32>(asd);
    let nsd = select(f32(c0.y + c1.y) / f32(c0.x + c1.x), (s0.z + s1.z) / (s0.y + s1.y), cells);
    stats[at + 2u] = select(F32_NAN_BITS, bitcast<u32>(nsd), (params.mode_2 & 4u) != 0u);
  }
}
