// What the seed losses' backward kernels (dice_backward_vec4, _scalar) share: the uniform
// block, the coefficients from dice_finalize.wgsl and the range of units a workgroup writes
// (included with `// #include "lib/dice_backward.wgsl"`). The including kernel declares
// `truth` and `grad`, whose element type (f32 or vec4<f32>) is its own.

override WORKGROUP_SIZE: u32 = 256u;

struct BackwardParams {
  units_per_slab: u32,
  classes: u32,
  units_per_chunk: u32,
  chunks: u32,
  // This dispatch covers workgroups linear_base + wg.x of the (slab, chunk) grid, and its
  // bindings start unit_base units into the tensor (see "binding windows" in src/program/grids.ts).
  linear_base: u32,
  unit_base: u32,
}

@group(0) @binding(0) var<uniform> params: BackwardParams;
// Per group: (a, b, 0, 0) with dL/dp_i = a * t_i + b.
@group(0) @binding(2) var<storage, read> coefs: array<vec4<f32>>;

// A workgroup's slab, its units [begin, end) of that slab, and the slab's window-relative base
// (u32 arithmetic wraps, so subtracting the window base first is exact).
struct UnitRange {
  slab: u32,
  begin: u32,
  end: u32,
  slab_base: u32,
}

fn unit_range(wg: vec3<u32>) -> UnitRange {
  let linear = params.linear_base + wg.x;
  let slab = linear / params.chunks;
  let begin = (linear % params.chunks) * params.units_per_chunk;
  let end = min(begin + params.units_per_chunk, params.units_per_slab);
  return UnitRange(slab, begin, end, slab * params.units_per_slab - params.unit_base);
}
