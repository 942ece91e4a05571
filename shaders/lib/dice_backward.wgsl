// What the classic Dice losses' backward kernels (dice_backward_vec4, _scalar) share: the uniform
// block, the coefficients from dice_finalize.wgsl and the units a thread writes (included with
// `// #include "lib/dice_backward.wgsl"`). The including kernel declares `truth` and `grad`,
// whose element type (f32 or vec4<f32>) is its own.
//
// The grid (src/program/seed.ts): each slab is cut into chunks (only as many as binding windows
// need on a GPU), and a chunk is shared by `team` workgroups in a grid-stride loop: thread `tid`
// of member m writes units begin + m * WORKGROUP_SIZE + tid + k * stride, stride = team *
// WORKGROUP_SIZE. So at every step neighbouring workgroups write neighbouring addresses, and the
// pass streams through memory as one front, as a copy kernel does. With team = 1 (software
// adapters) a workgroup walks one contiguous chunk alone.

override WORKGROUP_SIZE: u32 = 256u;

struct BackwardParams {
  units_per_slab: u32,
  classes: u32,
  units_per_chunk: u32,
  chunks: u32,
  // Workgroups that share one chunk (interleaved, see above).
  team: u32,
  // This dispatch covers workgroups linear_base + wg.x of the (slab, chunk, member) grid, and its
  // bindings start unit_base units into the tensor (see "binding windows" in src/program/grids.ts).
  linear_base: u32,
  unit_base: u32,
}

@group(0) @binding(0) var<uniform> params: BackwardParams;
// Per group: (a, b, 0, 0) with dL/dp_i = a * t_i + b.
@group(0) @binding(2) var<storage, read> coefs: array<vec4<f32>>;

// What one thread writes: units first, first + stride, ... below end of its slab, whose
// window-relative base is slab_base (u32 arithmetic wraps, so subtracting the window base
// first is exact); the slab's first group is first_group.
struct Units {
  first_group: u32,
  first: u32,
  stride: u32,
  end: u32,
  slab_base: u32,
}

fn units_of(tid: u32, wg: vec3<u32>) -> Units {
  let linear = params.linear_base + wg.x;
  let piece = linear / params.team;
  let member = linear % params.team;
  let slab = piece / params.chunks;
  let begin = (piece % params.chunks) * params.units_per_chunk;
  return Units(
    slab * params.classes,
    begin + member * WORKGROUP_SIZE + tid,
    params.team * WORKGROUP_SIZE,
    min(begin + params.units_per_chunk, params.units_per_slab),
    slab * params.units_per_slab - params.unit_base,
  );
}
