// Backward pass (vec4 loads): dL/dp_i = a_g * t_i + b_g, one elementwise pass that reads the
// target once and writes the gradient once. The per-group coefficients come from
// dice_finalize.wgsl, so the predictions are not read again.
//
// Each workgroup covers one chunk of one slab; element u*4 + m of a slab belongs to class
// (u*4 + m) mod classes, i.e. group slab*classes + that class.

// #include "lib/dice_backward.wgsl"

@group(0) @binding(1) var<storage, read> truth: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> grad: array<vec4<f32>>;

// The (a, b) coefficients of the four classes of one vec4, starting at class `class0`, as
// a mat2x4: column 0 holds the four a, column 1 the four b.
fn coefficients(first_group: u32, class0: u32) -> mat2x4<f32> {
  let c0 = coefs[first_group + class0];
  let c1 = coefs[first_group + (class0 + 1u) % params.classes];
  let c2 = coefs[first_group + (class0 + 2u) % params.classes];
  let c3 = coefs[first_group + (class0 + 3u) % params.classes];
  return mat2x4<f32>(vec4<f32>(c0.x, c1.x, c2.x, c3.x), vec4<f32>(c0.y, c1.y, c2.y, c3.y));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let r = unit_range(wg);
  let first_group = r.slab * params.classes;
  // Each step moves a thread WORKGROUP_SIZE vec4s on, which shifts its classes by `shift`.
  // (u mod classes) * 4 stays small, so no class index can overflow u32.
  let shift = (WORKGROUP_SIZE * 4u) % params.classes;
  var class0 = (((r.begin + tid) % params.classes) * 4u) % params.classes;
  var k = coefficients(first_group, class0);
  for (var unit = r.begin + tid; unit < r.end; unit += WORKGROUP_SIZE) {
    let i = r.slab_base + unit;
    grad[i] = k[0] * truth[i] + k[1];
    // For power-of-two class counts (global Dice included) the shift is 0: the coefficients
    // are loaded once per thread and the loop is a pure multiply-add stream.
    if (shift != 0u) {
      class0 = (class0 + shift) % params.classes;
      k = coefficients(first_group, class0);
    }
  }
}
