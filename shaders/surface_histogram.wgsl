// Surface metrics, percentiles: one round of the radix selection of each list's order
// statistics (lists: the distances of each direction of each pair, kept by surface_gather.wgsl
// in the pair's volumes, NONE elsewhere). Raw values order as u32, so selecting on their bits
// is exact (integer squared steps, or f32 bits of non-negative values).
//   mode 0-3: count the values whose high 8 * mode bits equal the list's prefix, by their next
//             8 bits, into `histograms` (256 per list of the group); surface_select.wgsl then
//             chooses the digit that holds the wanted rank.
//   mode 4:   for lists whose upper order statistic is the least value above the lower one,
//             that least value (atomicMin into select_state).
// mode_2: the directions with a list (1 directed, 2). Counts and minima are integers, whatever
// the order of the atomics: every run gives the same result. Workgroups run over (pair, chunk)
// as surface_gather.wgsl, each counting in workgroup memory first.

// #include "lib/surface_box.wgsl"
// #include "lib/surface_select.wgsl"

@group(0) @binding(1) var<storage, read> field: array<u32>;
@group(0) @binding(2) var<storage, read> boxes: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read_write> select_state: array<atomic<u32>>;
@group(0) @binding(4) var<storage, read_write> histograms: array<atomic<u32>>;

var<workgroup> counts: array<atomic<u32>, 512>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  for (var i = tid; i < 512u; i += WORKGROUP_SIZE) {
    atomicStore(&counts[i], select(0u, NONE, params.mode == 4u));
  }
  workgroupBarrier();
  let pair_local = wg.x / params.chunks;
  let chunk = wg.x % params.chunks;
  let pair = params.pair_base + pair_local;
  let round = params.mode;
  let directions = params.mode_2;
  // Each direction's prefix and whether it takes part in this round.
  var prefix = vec2<u32>(0u);
  var counting = vec2<bool>(false);
  for (var d = 0u; d < directions; d++) {
    let list = (pair * 2u + d) * 8u;
    prefix[d] = atomicLoad(&select_state[list]);
    let status = atomicLoad(&select_state[list + 7u]);
    counting[d] = select(round == 0u || status != SELECT_EMPTY, status == SELECT_NEEDS_NEXT, round == 4u);
  }
  let box = box_of(pair);
  let points = box_volume(box);
  let base = pair_local * 2u * params.voxels;
  for (var k = chunk * WORKGROUP_SIZE + tid; k < points; k += params.chunks * WORKGROUP_SIZE) {
    let g = box_point(box, k);
    for (var d = 0u; d < directions; d++) {
      let raw = field[base + d * params.voxels + g];
      if (!counting[d] || raw == NONE) {
        continue;
      }
      if (round == 4u) {
        if (raw > prefix[d]) {
          atomicMin(&counts[d * 256u], raw);
        }
      } else if (round == 0u || (raw >> (32u - 8u * round)) == prefix[d]) {
        atomicAdd(&counts[d * 256u + ((raw >> (24u - 8u * round)) & 0xffu)], 1u);
      }
    }
  }
  workgroupBarrier();
  if (round == 4u) {
    if (tid < directions && counting[tid]) {
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
