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
// channels-first and channels-last. The workgroup arrays are sized WIDE_CAPACITY for reach 2,
// NARROW_CAPACITY for reach 1 (the planner keeps tile_volumes times a box's cells within them):
// `wide` (reach 2), which lib/cldice_tile_run.wgsl declares and fills, and the including kernel's own.
//
// Pooling follows torch's choices: lib/cldice_pooling.wgsl, reading `wide`.

// #include "lib/runs.wgsl"
// #include "lib/cldice_pooling.wgsl"

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
  return run_in_groups(linear, params.runs_per_group, params.tiles_per_group, params.tiles_per_run, params.tile_count);
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

// Where the pooling of lib/cldice_pooling.wgsl reads: `wide`, the tile's reach-2 box in
// workgroup memory, for one stacked volume.
struct Site {
  tile: Tile,
  volume: u32,
}

fn pooled(site: Site, at: vec3<i32>) -> f32 {
  return wide[box_index(site.tile, site.volume, at, 2u)];
}
