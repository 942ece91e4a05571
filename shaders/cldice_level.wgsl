// clDice forward: one level k of MONAI's soft_skel, in one pass. With x_k = `level`:
//   x_{k+1} = soft_erode(x_k)                        (written to `eroded`: the next level's input)
//   delta_k = relu(x_k - soft_dilate(x_{k+1}))       (soft_open(x_k) = soft_dilate(x_{k+1}))
//   skel_0 = delta_0,  skel_k = skel_{k-1} + relu(delta_k - skel_{k-1} * delta_k)
// delta_k and skel_k are kept: the backward pass needs them at every level. A tile reads x_k
// with a halo of 2 into workgroup memory, erodes it over a halo of 1, and dilates that: the
// erode and the dilate of a level share one pass (lib/cldice_tile.wgsl).

// #include "lib/cldice_tile_run.wgsl"
// #include "lib/cldice_skeleton_step.wgsl"

@group(0) @binding(1) var<storage, read> level: array<f32>;
@group(0) @binding(2) var<storage, read> previous: array<f32>;
@group(0) @binding(3) var<storage, read_write> eroded: array<f32>;
@group(0) @binding(4) var<storage, read_write> delta: array<f32>;
@group(0) @binding(5) var<storage, read_write> skeleton: array<f32>;

// x_{k+1} over the tile and a halo of 1 (x_k is in `wide`: lib/cldice_tile_run.wgsl).
var<workgroup> narrow: array<f32, NARROW_CAPACITY>;

// Every volume of the grid (the foreground's) has its levels computed.
fn reads_level(volume: u32) -> bool {
  return true;
}

fn tile_step(tile: Tile, tid: u32) {
  for (var i = tid; i < box_cells(1u); i += WORKGROUP_SIZE) {
    let cell = box_cell(tile, i, 1u);
    if (cell.inside) {
      narrow[i] = erode_value(Site(tile, cell.volume), cell.at);
    }
  }
  workgroupBarrier();
  let cell = thread_cell(tile, tid);
  if (cell.inside) {
    let i = local_element(cell.volume, cell.at);
    eroded[i] = narrow[box_index(tile, cell.volume, cell.at, 1u)];
    // soft_dilate(x_{k+1}): the maximum of the window (its value; the backward finds which).
    let window = window_at(cell.at);
    var open = narrow[box_index(tile, cell.volume, cell.at + window.low, 1u)];
    for (var od = window.low.x; od <= window.high.x; od++) {
      for (var oh = window.low.y; oh <= window.high.y; oh++) {
        for (var ow = window.low.z; ow <= window.high.z; ow++) {
          open = max(open, narrow[box_index(tile, cell.volume, cell.at + vec3<i32>(od, oh, ow), 1u)]);
        }
      }
    }
    store_skeleton_step(i, max(wide[box_index(tile, cell.volume, cell.at, 2u)] - open, 0.0));
  }
}
