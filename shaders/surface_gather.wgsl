// Surface metrics: each pair's distances between the two surfaces, summed per workgroup.
//
// Volume 0 of a pair holds the distance to the target's surface, volume 1 to the prediction's
// (raw values, lib/surface_grid.wgsl). For each surface element in the pair's box:
//   direction 0 (prediction to target): a prediction surface element's value in volume 0;
//   direction 1 (target to prediction): a target surface element's value in volume 1.
// Programs whose metrics need direction 0 only plan one volume per pair (volumes_per_pair 1):
// direction 1 then counts the target's elements and their measure (the finalize needs both
// surfaces' sizes) with no distance (INF_RAW).
// Per direction a workgroup adds up: the elements, how many lie within the pair's surface-Dice
// limit (a raw value, computed on the host so that `raw <= limit` is MONAI's float32
// `distance <= threshold`), the largest raw value, the sum of the distances, and the elements'
// measure (1 each; with subvoxels, cell_grid 1, the boundary cell's length or area from
// `measures`) and the measure within the limit. Infinite distances (the other surface is empty)
// are counted but not summed: the finalize applies MONAI's empty-surface rules.
//
// With a percentile (mode 1), each direction's raw values are also appended to its list for the
// selection (surface_histogram.wgsl): list (pair, d) of the group is region pair_local * 2 + d
// of `lists` (the distance transform's spare buffer, a volume per list, so it cannot overflow),
// its length the atomic count in select_state (cleared by surface_clear.wgsl); with one volume
// per pair (volumes_per_pair for 2 above), only direction 0 is listed, in region pair_local (the
// Hausdorff distance is directed then). The order of a list depends on the order threads arrive
// in; the order statistics do not.
// Workgroups run over (pair, chunk), sharing the box's points (BoxWalk); the record of (pair, chunk) is
// partials[(pair * chunks + chunk) * 4 ..]:
//   [0] u32 (count, within, max raw, 0) direction 0    [2] f32 (sum, measure, within measure, 0)
//   [1] u32 the same, direction 1                      [3] f32 the same, direction 1
// summed in a fixed order (per thread in sequence, then a fixed tree), so every run is bitwise
// the same.

// #include "lib/surface_box.wgsl"

@group(0) @binding(1) var<storage, read> flags: array<u32>;
@group(0) @binding(2) var<storage, read> boxes: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read> pairs: array<PairInfo>;
// Per sample, the measure of each of the 2^(2^dims) cell codes (16 in 2D, 256 in 3D).
@group(0) @binding(4) var<storage, read> measures: array<f32>;
@group(0) @binding(5) var<storage, read> field: array<u32>;
@group(0) @binding(6) var<storage, read_write> partials: array<vec4<u32>>;
@group(0) @binding(7) var<storage, read_write> lists: array<u32>;
@group(0) @binding(8) var<storage, read_write> select_state: array<atomic<u32>>;

var<workgroup> tree: array<vec4<u32>, WORKGROUP_SIZE>;

// A fixed-order tree over the workgroup: components x, y, w added, z the maximum (as_float:
// all four added as f32). The total is returned to every thread.
fn reduce(tid: u32, value: vec4<u32>, as_float: bool) -> vec4<u32> {
  tree[tid] = value;
  workgroupBarrier();
  for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride >>= 1u) {
    if (tid < stride) {
      let a = tree[tid];
      let b = tree[tid + stride];
      if (as_float) {
        tree[tid] = bitcast<vec4<u32>>(bitcast<vec4<f32>>(a) + bitcast<vec4<f32>>(b));
      } else {
        tree[tid] = vec4<u32>(a.x + b.x, a.y + b.y, max(a.z, b.z), a.w + b.w);
      }
    }
    workgroupBarrier();
  }
  let total = tree[0];
  workgroupBarrier();
  return total;
}

struct Direction {
  counts: vec4<u32>,
  sums: vec4<f32>,
}

fn add(d: ptr<function, Direction>, raw: u32, measure: f32, limit: u32, spacing: vec4<f32>) {
  let within = raw <= limit && raw != INF_RAW;
  (*d).counts += vec4<u32>(1u, u32(within), 0u, 0u);
  (*d).counts.z = max((*d).counts.z, raw);
  if (raw != INF_RAW) {
    (*d).sums.x += raw_distance(raw, spacing);
  }
  (*d).sums.y += measure;
  if (within) {
    (*d).sums.z += measure;
  }
}

fn measure_of(cells: bool, code_index: u32) -> f32 {
  if (cells) {
    return measures[code_index];
  }
  return 1.0;
}

// Appends a value to list d of the pair (its length is word 3 of the list's select state).
fn append(pair: u32, pair_local: u32, d: u32, raw: u32) {
  let slot = atomicAdd(&select_state[(pair * 2u + d) * 8u + 3u], 1u);
  lists[(pair_local * params.volumes_per_pair + d) * params.voxels + slot] = raw;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let at = pair_chunk(wg.x);
  let pair_local = at.pair_local;
  let pair = at.pair;
  let info = pairs[pair];
  let limit = info.ints.x;
  let sample = info.ints.y;
  let table = sample << (1u << params.dims);
  let to_target = pair_local * params.volumes_per_pair * params.voxels;
  let to_pred = to_target + params.voxels;
  let both = params.volumes_per_pair == 2u;
  let cells = params.cell_grid != 0u;
  // Which flag bits mark the prediction's and the target's surface elements.
  let pred_bit = select(1u, 1u << 16u, cells);
  let target_bit = select(2u, 1u << 17u, cells);
  let listing = params.mode != 0u;
  var forward = Direction(vec4<u32>(0u), vec4<f32>(0.0));
  var backward = Direction(vec4<u32>(0u), vec4<f32>(0.0));
  var walk = box_walk(box_of(pair), at.chunk * WORKGROUP_SIZE + tid, params.chunks * WORKGROUP_SIZE);
  while (walk_next(&walk)) {
    let g = walk.g;
    let word = flags[pair_local * params.voxels + g];
    if ((word & pred_bit) != 0u) {
      let raw = field[to_target + g];
      add(&forward, raw, measure_of(cells, table + (word & 0xffu)), limit, info.spacing);
      if (listing) {
        append(pair, pair_local, 0u, raw);
      }
    }
    if ((word & target_bit) != 0u) {
      var raw = INF_RAW;
      if (both) {
        raw = field[to_pred + g];
      }
      add(&backward, raw, measure_of(cells, table + ((word >> 8u) & 0xffu)), limit, info.spacing);
      if (listing && both) {
        append(pair, pair_local, 1u, raw);
      }
    }
  }
  let record = (pair * params.chunks + at.chunk) * 4u;
  let c0 = reduce(tid, forward.counts, false);
  let c1 = reduce(tid, backward.counts, false);
  let s0 = reduce(tid, bitcast<vec4<u32>>(forward.sums), true);
  let s1 = reduce(tid, bitcast<vec4<u32>>(backward.sums), true);
  if (tid == 0u) {
    partials[record] = c0;
    partials[record + 1u] = c1;
    partials[record + 2u] = s0;
    partials[record + 3u] = s1;
  }
}
