// Surface metrics, percentiles: one round of the radix selection of each list's order
// statistics (lists: the raw distances of each direction of each pair, appended by
// surface_gather.wgsl; list d of the group's pair pair_local is region
// pair_local * volumes_per_pair + d of `lists`, its length word 3 of its select state). Raw
// values order as u32, so selecting on their bits is exact (integer squared steps, or f32 bits
// of non-negative values).
//   mode 0-3: count the values whose high 8 * mode bits equal the list's prefix, by their next
//             8 bits, into `histograms` (256 per list of the group); surface_select.wgsl then
//             chooses the digit that holds the wanted rank.
//   mode 4:   for lists whose upper order statistic is the least value above the lower one,
//             that least value (atomicMin into select_state).
// mode_2: the directions with a list (1 directed, 2). Counts and minima are integers, whatever
// the order of the atomics: every run gives the same result. Workgroups run over (pair, chunk),
// grid-stride over both lists of the pair, each counting in workgroup memory first.

// #include "lib/surface_grid.wgsl"
// #include "lib/surface_select.wgsl"

@group(0) @binding(1) var<storage, read> lists: array<u32>;
@group(0) @binding(2) var<storage, read_write> select_state: array<atomic<u32>>;
@group(0) @binding(3) var<storage, read_write> histograms: array<atomic<u32>>;

var<workgroup> counts: array<atomic<u32>, 512>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  for (var i = tid; i < 512u; i += WORKGROUP_SIZE) {
    atomicStore(&counts[i], select(0u, NONE, params.mode == 4u));
  }
  workgroupBarrier();
  let at = pair_chunk(wg.x);
  let pair_local = at.pair_local;
  let pair = at.pair;
  let chunk = at.chunk;
  let round = params.mode;
  let directions = params.mode_2;
  // Each direction's prefix and whether it takes part in this round.
  for (var d = 0u; d < directions; d++) {
    let list = (pair * 2u + d) * 8u;
    let prefix = atomicLoad(&select_state[list]);
    let length = atomicLoad(&select_state[list + 3u]);
    let status = atomicLoad(&select_state[list + 7u]);
    let counting = select(round == 0u || status != SELECT_EMPTY, status == SELECT_NEEDS_NEXT, round == 4u);
    if (!counting) {
      continue;
    }
    let base = (pair_local * params.volumes_per_pair + d) * params.voxels;
    for (var k = chunk * WORKGROUP_SIZE + tid; k < length; k += params.chunks * WORKGROUP_SIZE) {
      let raw = lists[base + k];
      if (round == 4u) {
        if (raw > prefix) {
          atomicMin(&counts[d * 256u], raw);
        }
      } else if (round == 0u || (raw >> (32u - 8u * round)) == prefix) {
        atomicAdd(&counts[d * 256u + ((raw >> (24u - 8u * round)) & 0xffu)], 1u);
      }
    }
  }
  workgroupBarrier();
  if (round == 4u) {
    if (tid < directions) {
      let least = atomicLoad(&counts[tid * 256u]);
      if (least != NONE) {
        atomicMin(&select_state[(pair * 2u + tid) * 8u + 6u], least);
      }
    }
    return;
  }
  for (var i = tid; i < directions * 256u; i += WORKGROUP_SIZE) {
    let n = atomicLoad(&counts[i]);
    if (n != 0u) {
      atomicAdd(&histograms[pair_local * 512u + i], n);
    }
  }
}
