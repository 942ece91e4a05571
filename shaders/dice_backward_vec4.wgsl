// Backward pass (vec4 loads): dL/dp_i = a_g * t_i + b_g, one elementwise pass that reads the
// target once and writes the gradient once. The per-group coefficients come from
// dice_finalize.wgsl, so the predictions are not read again.
//
// Each workgroup covers one chunk of one slab; element u*4 + m of a slab belongs to class
// (u*4 + m) mod classes, i.e. group slab*classes + that class.

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
@group(0) @binding(1) var<storage, read> truth: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> coefs: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> grad: array<vec4<f32>>;

fn gradient(group: u32, t: f32) -> f32 {
  let c = coefs[group];
  return c.x * t + c.y;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let linear = params.linear_base + wg.x;
  let slab = linear / params.chunks;
  let begin = (linear % params.chunks) * params.units_per_chunk;
  let end = min(begin + params.units_per_chunk, params.units_per_slab);
  let slab_base = slab * params.units_per_slab - params.unit_base;
  let first_group = slab * params.classes;
  for (var unit = begin + tid; unit < end; unit += WORKGROUP_SIZE) {
    let t = truth[slab_base + unit];
    // (unit mod classes) * 4 stays small, so the class index cannot overflow u32.
    let class0 = ((unit % params.classes) * 4u) % params.classes;
    grad[slab_base + unit] = vec4<f32>(
      gradient(first_group + class0, t.x),
      gradient(first_group + (class0 + 1u) % params.classes, t.y),
      gradient(first_group + (class0 + 2u) % params.classes, t.z),
      gradient(first_group + (class0 + 3u) % params.classes, t.w),
    );
  }
}
