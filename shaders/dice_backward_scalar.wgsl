// Backward pass, scalar loads: the fallback of dice_backward_vec4.wgsl for shapes whose slabs
// are not a whole number of vec4s. dL/dp_i = a_g * t_i + b_g with g = slab*classes + i mod C.

override WORKGROUP_SIZE: u32 = 256u;

struct BackwardParams {
  units_per_slab: u32,
  classes: u32,
  units_per_chunk: u32,
  chunks: u32,
  // This dispatch covers workgroups linear_base + wg.x of the (slab, chunk) grid, and its
  // bindings start unit_base units into the tensor (see "binding windows" in src/plan.ts).
  linear_base: u32,
  unit_base: u32,
  pad0: u32,
  pad1: u32,
}

@group(0) @binding(0) var<uniform> params: BackwardParams;
@group(0) @binding(1) var<storage, read> truth: array<f32>;
@group(0) @binding(2) var<storage, read> coefs: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> grad: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let linear = params.linear_base + wg.x;
  let slab = linear / params.chunks;
  let begin = (linear % params.chunks) * params.units_per_chunk;
  let end = min(begin + params.units_per_chunk, params.units_per_slab);
  let slab_base = slab * params.units_per_slab - params.unit_base;
  for (var unit = begin + tid; unit < end; unit += WORKGROUP_SIZE) {
    let c = coefs[slab * params.classes + unit % params.classes];
    grad[slab_base + unit] = c.x * truth[slab_base + unit] + c.y;
  }
}
