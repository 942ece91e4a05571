// Distance transform, one axis after the first: along `axis` of each volume's box, every
// point's lower envelope of the previous pass's values (Meijster, Roerdink and Hesselink 2000;
// for the euclidean case the parabolas of Felzenszwalb and Huttenlocher):
//   out[x] = min over sites s (the finite inputs) of cost(x, s)
//   euclidean  w (x - s)^2 + g[s]  (w = spacing^2 of the axis, 1 when exact)
//   taxicab    |x - s| + g[s]
//   chessboard max(|x - s|, g[s])
// Exact in u32 for integer data (exact mode, taxicab, chessboard): the same values as the
// float64 reference (src/reference/surface/distance-transform.ts, whose steps this follows).
//
// A thread takes whole rows. The envelope is a stack of (site, first x where it wins), kept in
// the row of the output itself, packed 16 + 16 bits (rows are at most 65535 long): entry k sits
// at position k <= its start, so writing the output from the last x down never overwrites an
// entry still to be read. Neighbouring threads take neighbouring rows, so on the non-innermost
// axes their loads and stores are neighbouring addresses.

// #include "lib/surface_box.wgsl"

// METRIC_* (lib/surface_grid.wgsl).
override METRIC: u32 = 0u;
// Euclidean only: integer squared steps; else f32 bits weighted by the spacing.
override EXACT: bool = true;

@group(0) @binding(1) var<storage, read> field_in: array<u32>;
@group(0) @binding(2) var<storage, read> boxes: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read> pairs: array<PairInfo>;
@group(0) @binding(4) var<storage, read_write> field_out: array<u32>;

// The raw cost of site s (value g) at x; raw values order as u32 in every mode.
fn cost(x: i32, s: i32, g: u32, w: f32) -> u32 {
  let d = x - s;
  if (METRIC == METRIC_TAXICAB) {
    return u32(abs(d)) + g;
  }
  if (METRIC == METRIC_CHESSBOARD) {
    return max(u32(abs(d)), g);
  }
  if (EXACT) {
    return u32(d * d) + g;
  }
  return bitcast<u32>(w * f32(d * d) + bitcast<f32>(g));
}

// ceil(num / den) for den > 0.
fn ceil_div(num: i32, den: i32) -> i32 {
  if (num >= 0) {
    return (num + den - 1) / den;
  }
  return -((-num) / den);
}

// Past any row: a site that never wins.
const NEVER: i32 = 0x40000000;

// The first x at which site u (> s) costs no more than site s.
fn split(s: i32, gs: u32, u: i32, gu: u32, w: f32) -> i32 {
  if (METRIC == METRIC_TAXICAB) {
    let dg = i32(gu) - i32(gs);
    if (dg > u - s) {
      return NEVER;
    }
    return ceil_div(u + s + dg, 2);
  }
  if (METRIC == METRIC_CHESSBOARD) {
    if (gs <= gu) {
      return max((s + u) / 2 + 1, s + i32(gu));
    }
    return min(u - i32(gs), (s + u + 1) / 2);
  }
  if (EXACT) {
    return ceil_div((u - s) * (u + s) + i32(gu) - i32(gs), 2 * (u - s));
  }
  let num = w * f32((u - s) * (u + s)) + (bitcast<f32>(gu) - bitcast<f32>(gs));
  let x = ceil(num / (2.0 * w * f32(u - s)));
  return i32(clamp(x, -f32(NEVER), f32(NEVER)));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let at = volume_chunk(wg.x);
  let volume = at.volume;
  let chunk = at.chunk;
  let pair = at.pair;
  let box = box_of(pair);
  let axis = params.axis;
  let rows = row_count(box, axis);
  let w = pairs[pair].spacing[axis];
  let base = volume * params.voxels;
  for (var r = chunk * WORKGROUP_SIZE + tid; r < rows; r += params.chunks * WORKGROUP_SIZE) {
    let row = box_row(box, axis, r);
    let first = base + row.start;
    let m = i32(row.length);
    var top = -1;
    // The top entry: its site, start and value.
    var site = 0;
    var start = 0;
    var g_site = 0u;
    for (var u = 0; u < m; u++) {
      let gu = field_in[first + u32(u) * row.stride];
      if (gu == INF_RAW) {
        continue;
      }
      // Drop the sites that u matches or beats from where they start winning.
      while (top >= 0 && cost(start, site, g_site, w) >= cost(start, u, gu, w)) {
        top--;
        if (top >= 0) {
          let entry = field_out[first + u32(top) * row.stride];
          site = i32(entry >> 16u);
          start = i32(entry & 0xffffu);
          g_site = field_in[first + u32(site) * row.stride];
        }
      }
      if (top < 0) {
        top = 0;
        site = u;
        start = 0;
        g_site = gu;
        field_out[first] = u32(u) << 16u;
        continue;
      }
      // u loses at `start`, so it can only win after it (guards rounding in the f32 mode).
      let wins_from = max(split(site, g_site, u, gu, w), start + 1);
      if (wins_from < m) {
        top++;
        site = u;
        start = wins_from;
        g_site = gu;
        field_out[first + u32(top) * row.stride] = (u32(u) << 16u) | u32(wins_from);
      }
    }
    if (top < 0) {
      for (var x = 0u; x < row.length; x++) {
        field_out[first + x * row.stride] = INF_RAW;
      }
      continue;
    }
    for (var x = m - 1; x >= 0; x--) {
      field_out[first + u32(x) * row.stride] = cost(x, site, g_site, w);
      if (x == start && top > 0) {
        top--;
        let entry = field_out[first + u32(top) * row.stride];
        site = i32(entry >> 16u);
        start = i32(entry & 0xffffu);
        g_site = field_in[first + u32(site) * row.stride];
      }
    }
  }
}
