// Backward pass (vec4 loads): dL/dp_i = a_g * t_i + b_g, one elementwise pass that reads the
// target once and writes the gradient once. The per-group coefficients come from
// dice_finalize.wgsl, so the predictions are not read again.
//
// Element u*4 + m of a slab belongs to class (u*4 + m) mod classes, i.e. group slab*classes +
// that class. The grid is in lib/dice_backward.wgsl.

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
  let r = units_of(tid, wg);
  // A step of `stride` vec4s shifts a thread's classes by `shift`. (u mod classes) * 4 stays
  // small, so no class index can overflow u32.
  let shift = (r.stride * 4u) % params.classes;
  var class0 = ((r.first % params.classes) * 4u) % params.classes;
  if (shift == 0u) {
    // The planner makes this the case on GPUs (global Dice and power-of-two class counts
    // always): the coefficients are loaded once, and each step issues four loads before its
    // four stores. The loads cannot move past a store of the same thread by themselves (the
    // compiler cannot prove `truth` and `grad` apart), so without this a thread would have one
    // load in flight.
    let k = coefficients(r.first_group, class0);
    var u = r.first;
    for (; u < r.end && r.end - u > 3u * r.stride; u += 4u * r.stride) {
      let i = r.slab_base + u;
      let t0 = truth[i];
      let t1 = truth[i + r.stride];
      let t2 = truth[i + 2u * r.stride];
      let t3 = truth[i + 3u * r.stride];
      grad[i] = k[0] * t0 + k[1];
      grad[i + r.stride] = k[0] * t1 + k[1];
      grad[i + 2u * r.stride] = k[0] * t2 + k[1];
      grad[i + 3u * r.stride] = k[0] * t3 + k[1];
    }
    for (; u < r.end; u += r.stride) {
      let i = r.slab_base + u;
      grad[i] = k[0] * truth[i] + k[1];
    }
  } else {
    // Other class counts with a stride the planner could not make a whole number of class
    // cycles (software plans, whose workgroups walk their chunk alone): the classes move on.
    for (var u = r.first; u < r.end; u += r.stride) {
      let i = r.slab_base + u;
      let k = coefficients(r.first_group, class0);
      grad[i] = k[0] * truth[i] + k[1];
      class0 = (class0 + shift) % params.classes;
    }
  }
}
