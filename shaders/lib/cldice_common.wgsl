// clDice's elementwise passes (software plans; included with `// #include "lib/cldice_common.wgsl"`):
// every element of the grid runs its own stencil reading storage directly, no workgroup
// memory and no barrier (a software adapter pays for each barrier; GPU plans run the tiled
// passes of lib/cldice_tile.wgsl instead, with bitwise the same results).
//
// Only the foreground classes' volumes are computed (MONAI sums from class 1 on, so the
// background's skeleton takes no part in the loss); the last backward step writes dL/d pred = 0
// on the background. Scratch volumes are never written there and stay 0.
//
// Tensors are B x C volumes of D x H x W (D = 1 in 2D), channels-first or channels-last; the
// layout is only a set of strides, so one kernel serves both. An element's spatial neighbours
// lie in its own (sample, class) volume, so a pass's binding window holds whole volumes
// (channels-first) or whole samples (channels-last): see "binding windows" in src/program/grids.ts.
// The flat tensor is cut in slabs (runs of whole volumes or samples: one large one, or several
// small ones, so that a workgroup's work follows the elements, not the number of volumes), each
// in chunks of whole workgroups: workgroup `linear_base + wg.x` takes chunk
// `linear % chunks_per_slab` of slab `linear / chunks_per_slab`, the same split whatever the
// windows, so sums come out bitwise the same.

// #include "lib/runs.wgsl"

override WORKGROUP_SIZE: u32 = 256u;
// 2: soft_erode pools along H and W only (MONAI's 4D branch); 3: along D, H and W.
override SPATIAL_DIMS: u32 = 2u;

struct ClDiceParams {
  size_d: u32,
  size_h: u32,
  size_w: u32,
  classes: u32,
  stride_d: u32,
  stride_h: u32,
  stride_w: u32,
  // An element's class is (index / channel_stride) % classes.
  channel_stride: u32,
  slab_elements: u32,
  chunks_per_slab: u32,
  elements_per_workgroup: u32,
  // The whole tensor's: the last slab may hold fewer volumes.
  elements: u32,
  // This window's first workgroup and first bound element.
  linear_base: u32,
  element_base: u32,
}

@group(0) @binding(0) var<uniform> params: ClDiceParams;

fn sizes() -> vec3<i32> {
  return vec3<i32>(vec3<u32>(params.size_d, params.size_h, params.size_w));
}

fn strides() -> vec3<u32> {
  return vec3<u32>(params.stride_d, params.stride_h, params.stride_w);
}

// MONAI sums from class 1 on: class 0 (background) takes no part in any sum or gradient.
fn is_foreground(element: u32) -> bool {
  return (element / params.channel_stride) % params.classes != 0u;
}

// Index into a windowed binding (u32 arithmetic wraps, so subtracting the base is exact).
fn local(element: u32) -> u32 {
  return element - params.element_base;
}

// The elements [first, end) of this workgroup: a chunk of a slab.
fn chunk_of(workgroup: u32) -> vec2<u32> {
  let linear = params.linear_base + workgroup;
  return run_in_groups(linear, params.chunks_per_slab, params.slab_elements, params.elements_per_workgroup, params.elements);
}

fn coordinates(element: u32) -> vec3<i32> {
  return vec3<i32>((vec3<u32>(element) / strides()) % vec3<u32>(sizes()));
}
