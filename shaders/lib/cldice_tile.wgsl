// clDice's stencil passes on tiles (included with `// #include "lib/cldice_tile.wgsl"`; the
// planner is src/program/cldice.ts). A workgroup takes a run of tiles; a tile is a box of
// tile_d x tile_h x tile_w cells of `tile_volumes` stacked volumes (several only when the box
// spans whole volumes: small volumes share a workgroup). Each thread owns one cell of the
// tile. The passes read what their stencils need into workgroup arrays once, over the tile
// and a halo of `reach` cells around it (2 or 1, clipped to 0 along an axis the tile spans
// whole), so a voxel's 3x3(x3) neighbourhoods come from workgroup memory, not from up to 27
// storage loads each.
//
// Volumes are the grid's (sample, class) volumes, foreground classes only or every class
// (`first_class` 1 or 0), of D x H x W cells (D = 1 in 2D) at element strides (stride_d,
// stride_h, stride_w) from the volume's base; the layout is only strides, so one kernel serves
// channels-first and channels-last. The including kernel declares the workgroup arrays it uses
// (sized WIDE_CAPACITY for reach 2, NARROW_CAPACITY for reach 1: the planner keeps
// tile_volumes times a box's cells within them) and reads `wide` in the pooling helpers below.
//
// Pooling follows torch's choices (MONAI's soft_erode / soft_dilate):
// - soft_erode: min over axes of 3-wide min-pools along each axis; torch's min-pool is
//   -maxpool(-x), whose gradient goes to the FIRST minimum of the window in scan order;
// - soft_dilate: 3x3(x3) max-pool, gradient to the FIRST maximum in scan order (d, h, w);
// - padding never wins: out-of-volume cells are skipped, never read.
// Min and max are exact in f32, so these choices are the ones torch makes in float64.

override WORKGROUP_SIZE: u32 = 256u;
// 2: soft_erode pools along H and W only (MONAI's 4D branch); 3: along D, H and W.
override SPATIAL_DIMS: u32 = 2u;
// Cells of the workgroup arrays for a tile with reach 2 and reach 1 (TILE_CAPACITY in
// src/program/cldice.ts: 9/2 and 5/2 per thread, an 8 x 8 x 4 tile with its halos).
override WIDE_CAPACITY: u32 = WORKGROUP_SIZE * 9u / 2u;
override NARROW_CAPACITY: u32 = WORKGROUP_SIZE * 5u / 2u;

struct TileParams {
  size_d: u32,
  size_h: u32,
  size_w: u32,
  classes: u32,
  stride_d: u32,
  stride_h: u32,
  stride_w: u32,
  // Element offsets between the classes of a sample and between samples.
  channel_stride: u32,
  sample_stride: u32,
  // 1: the grid's volumes are the foreground classes' only; 0: every class's.
  first_class: u32,
  volumes: u32,
  tile_d: u32,
  tile_h: u32,
  tile_w: u32,
  tile_volumes: u32,
  // Per axis, 2 where tiles cut the axis, 0 where a tile spans it whole.
  halo_d: u32,
  halo_h: u32,
  halo_w: u32,
  tiles_d: u32,
  tiles_h: u32,
  tiles_w: u32,
  tile_count: u32,
  // Runs of tiles: a workgroup takes `tiles_per_run` consecutive tiles of a group of whole stacks
  // (one stack, or several small ones), `runs_per_group` runs to a group.
  tiles_per_group: u32,
  runs_per_group: u32,
  tiles_per_run: u32,
  // This window's first workgroup and first bound element.
  linear_base: u32,
  element_base: u32,
}

@group(0) @binding(0) var<uniform> params: TileParams;

// One tile: its first stacked volume and its first cell.
struct Tile {
  volume: u32,
  origin: vec3<i32>,
}

// A cell of a tile or of a box around it: its volume, coordinates, and whether it exists.
struct Cell {
  volume: u32,
  at: vec3<i32>,
  inside: bool,
}

fn sizes() -> vec3<i32> {
  return vec3<i32>(vec3<u32>(params.size_d, params.size_h, params.size_w));
}

fn strides() -> vec3<u32> {
  return vec3<u32>(params.stride_d, params.stride_h, params.stride_w);
}

fn tile_size() -> vec3<u32> {
  return vec3<u32>(params.tile_d, params.tile_h, params.tile_w);
}

fn tiles_per_stack() -> u32 {
  return params.tiles_d * params.tiles_h * params.tiles_w;
}

// The tiles [x, y) of this workgroup's run.
fn run_of(workgroup: u32) -> vec2<u32> {
  let linear = params.linear_base + workgroup;
  let group_first = (linear / params.runs_per_group) * params.tiles_per_group;
  let first = group_first + (linear % params.runs_per_group) * params.tiles_per_run;
  let group_end = min(group_first + params.tiles_per_group, params.tile_count);
  return vec2<u32>(first, min(first + params.tiles_per_run, group_end));
}

fn tile_of(index: u32) -> Tile {
  let per_stack = tiles_per_stack();
  let r = index % per_stack;
  let t = vec3<u32>(r / (params.tiles_h * params.tiles_w), (r / params.tiles_w) % params.tiles_h, r % params.tiles_w);
  return Tile((index / per_stack) * params.tile_volumes, vec3<i32>(t * tile_size()));
}

fn class_of(volume: u32) -> u32 {
  return params.first_class + volume % (params.classes - params.first_class);
}

// Background (class 0): MONAI sums from class 1 on, so it takes no part in any sum or gradient.
fn is_background(volume: u32) -> bool {
  return class_of(volume) == 0u;
}

fn in_volume(at: vec3<i32>) -> bool {
  return all(at >= vec3<i32>(0)) && all(at < sizes());
}

// The element index of a cell, within this window's bindings (u32 arithmetic wraps, so
// subtracting the base is exact).
fn local_element(volume: u32, at: vec3<i32>) -> u32 {
  let sample = volume / (params.classes - params.first_class);
  let base = sample * params.sample_stride + class_of(volume) * params.channel_stride;
  return base + dot(vec3<u32>(at), strides()) - params.element_base;
}

// The halo of a box of `reach` around the tile, per axis.
fn halo(reach: u32) -> vec3<u32> {
  return min(vec3<u32>(params.halo_d, params.halo_h, params.halo_w), vec3<u32>(reach));
}

fn box_extent(reach: u32) -> vec3<u32> {
  return tile_size() + 2u * halo(reach);
}

// Cells of the box of `reach` over the whole stack: the loop bound of a cooperative load.
fn box_cells(reach: u32) -> u32 {
  let e = box_extent(reach);
  return params.tile_volumes * e.x * e.y * e.z;
}

// Cell `i` of the box of `reach` around `tile` (i in [0, box_cells(reach))).
fn box_cell(tile: Tile, i: u32, reach: u32) -> Cell {
  let e = box_extent(reach);
  let per_volume = e.x * e.y * e.z;
  let r = i % per_volume;
  let offset = vec3<u32>(r / (e.y * e.z), (r / e.z) % e.y, r % e.z);
  let at = tile.origin + vec3<i32>(offset) - vec3<i32>(halo(reach));
  let volume = tile.volume + i / per_volume;
  return Cell(volume, at, volume < params.volumes && in_volume(at));
}

// Where the cell `at` of the tile's stacked volume `volume` sits in a box of `reach`.
fn box_index(tile: Tile, volume: u32, at: vec3<i32>, reach: u32) -> u32 {
  let e = box_extent(reach);
  let o = vec3<u32>(at - tile.origin + vec3<i32>(halo(reach)));
  return (((volume - tile.volume) * e.x + o.x) * e.y + o.y) * e.z + o.z;
}

// The tile cell thread `tid` owns (a workgroup may hold more threads than a tile has cells).
fn thread_cell(tile: Tile, tid: u32) -> Cell {
  let t = tile_size();
  let per_volume = t.x * t.y * t.z;
  let r = tid % per_volume;
  let at = tile.origin + vec3<i32>(vec3<u32>(r / (t.y * t.z), (r / t.z) % t.y, r % t.z));
  let stacked = tid / per_volume;
  let volume = tile.volume + stacked;
  return Cell(volume, at, stacked < params.tile_volumes && volume < params.volumes && in_volume(at));
}

// 3x3x3 window offsets (od, oh, ow) in scan order are numbered 0 .. 26:
// (od + 1) * 9 + (oh + 1) * 3 + (ow + 1). In 2D the od = -1 and +1 rows fall outside (D = 1).
const WINDOW: u32 = 27u;

fn window_code(offset: vec3<i32>) -> u32 {
  return u32(dot(offset + vec3<i32>(1), vec3<i32>(9, 3, 1)));
}

// The unit step along `axis` (0: d, 1: h, 2: w), without indexing a vector by a variable.
fn axis_step(axis: u32) -> vec3<i32> {
  return vec3<i32>(vec3<u32>(axis) == vec3<u32>(0u, 1u, 2u));
}

// The axes soft_erode pools along: (h, w) in 2D, (d, h, w) in 3D.
fn first_erode_axis() -> u32 {
  return select(0u, 1u, SPATIAL_DIMS == 2u);
}

// `wide` (the tile's reach-2 box) at a cell of the tile's stacked volume `volume`.
fn wide_at(tile: Tile, volume: u32, at: vec3<i32>) -> f32 {
  return wide[box_index(tile, volume, at, 2u)];
}

// The first minimum of `wide` along `axis` at offsets -1, 0, +1 inside the volume (a cell
// within reach 1 of the tile); the lower neighbour comes first in scan order, so it wins a tie.
fn argmin_along(tile: Tile, volume: u32, at: vec3<i32>, axis: u32) -> vec3<i32> {
  let step = axis_step(axis);
  var best = at;
  let lower = at - step;
  if (in_volume(lower) && wide_at(tile, volume, lower) <= wide_at(tile, volume, at)) {
    best = lower;
  }
  let upper = at + step;
  if (in_volume(upper) && wide_at(tile, volume, upper) < wide_at(tile, volume, best)) {
    best = upper;
  }
  return best;
}

// Each axis pool's value at a cell within reach 1 of the tile (the d entry is unused in 2D).
fn axis_minima(tile: Tile, volume: u32, at: vec3<i32>) -> vec3<f32> {
  var values = vec3<f32>(0.0);
  if (SPATIAL_DIMS == 3u) {
    values.x = wide_at(tile, volume, argmin_along(tile, volume, at, 0u));
  }
  values.y = wide_at(tile, volume, argmin_along(tile, volume, at, 1u));
  values.z = wide_at(tile, volume, argmin_along(tile, volume, at, 2u));
  return values;
}

// soft_erode at a cell within reach 1 of the tile.
fn erode_value(tile: Tile, volume: u32, at: vec3<i32>) -> f32 {
  let v = axis_minima(tile, volume, at);
  let hw = min(v.y, v.z);
  return select(min(v.x, hw), hw, SPATIAL_DIMS == 2u);
}

// torch.min(a, b) backward: the smaller takes the gradient, a tie gives each half.
fn min_shares(a: f32, b: f32) -> vec2<f32> {
  if (a < b) { return vec2<f32>(1.0, 0.0); }
  if (a > b) { return vec2<f32>(0.0, 1.0); }
  return vec2<f32>(0.5, 0.5);
}

// The share of each axis pool in soft_erode's gradient at a cell within reach 1 of the tile:
// 2D min(p_h, p_w), 3D min(min(p_d, p_h), p_w), as MONAI nests them.
fn erode_shares(tile: Tile, volume: u32, at: vec3<i32>) -> vec3<f32> {
  let v = axis_minima(tile, volume, at);
  if (SPATIAL_DIMS == 2u) {
    return vec3<f32>(0.0, min_shares(v.y, v.z));
  }
  let inner = min_shares(v.x, v.y);
  let outer = min_shares(min(v.x, v.y), v.z);
  return vec3<f32>(inner * outer.x, outer.y);
}

// The 3x3(x3) window around `at` clipped to the volume, as offsets from `at`: x low, y high.
struct Window {
  low: vec3<i32>,
  high: vec3<i32>,
}

fn window_at(at: vec3<i32>) -> Window {
  return Window(max(at - vec3<i32>(1), vec3<i32>(0)) - at, min(at + vec3<i32>(1), sizes() - vec3<i32>(1)) - at);
}
