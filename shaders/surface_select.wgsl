// Surface metrics, percentiles: after a counting round of surface_histogram.wgsl (mode 0-3),
// the digit of each list of the group that holds its wanted rank; the histograms are zeroed for
// the next round. One workgroup, a thread per list, in sequence over its 256 counts.
//
// Round 0 also sets the list up: n values, torch.quantile's rank q (n - 1) in f32 (q =
// scalar_0, the percentile / 100 rounded to f32), the lower order statistic's index floor(rank)
// (the one selected), the upper one's ceil(rank) and the weight rank - floor(rank). After round
// 3 the prefix is the lower statistic's raw value; the upper one is the same value when enough
// values equal it, else the least value above it (round 4 of surface_histogram.wgsl).

// #include "lib/surface_grid.wgsl"
// #include "lib/surface_select.wgsl"

@group(0) @binding(1) var<storage, read_write> select_state: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read_write> histograms: array<u32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32) {
  let round = params.mode;
  for (var local = tid; local < params.pairs * 2u; local += WORKGROUP_SIZE) {
    let list = params.pair_base * 2u + local;
    let counts = local * 256u;
    if (local % 2u < params.mode_2) {
      var head = select_state[list * 2u];
      var tail = select_state[list * 2u + 1u];
      if (round == 0u) {
        var n = 0u;
        for (var b = 0u; b < 256u; b++) {
          n += histograms[counts + b];
        }
        let rank = params.scalar_0 * f32(max(n, 1u) - 1u);
        let below = floor(rank);
        head = vec4<u32>(0u, u32(below), 0u, n);
        tail = vec4<u32>(min(u32(ceil(rank)), max(n, 1u) - 1u), bitcast<u32>(rank - below), NONE,
                         select(SELECT_NEEDS_NEXT, SELECT_EMPTY, n == 0u));
      }
      if (tail.w != SELECT_EMPTY) {
        var before = 0u;
        var digit = 0u;
        for (var b = 0u; b < 256u; b++) {
          let h = histograms[counts + b];
          if (head.y < before + h) {
            digit = b;
            break;
          }
          before += h;
        }
        head.x = (head.x << 8u) | digit;
        head.y -= before;
        head.z += before;
        if (round == 3u) {
          let equal = histograms[counts + digit];
          let below_index = u32(floor(params.scalar_0 * f32(head.w - 1u)));
          if (tail.x == below_index || head.z + equal > tail.x) {
            tail.z = head.x;
            tail.w = SELECT_DONE;
          }
        }
      }
      select_state[list * 2u] = head;
      select_state[list * 2u + 1u] = tail;
    }
    for (var b = 0u; b < 256u; b++) {
      histograms[counts + b] = 0u;
    }
  }
}
