// Parameter gradients of the demo's model, summed over the batch's pixels: one thread per
// parameter, one workgroup per chunk of pixels, each writing its partial sums; the Adam step
// (model_adam.wgsl) adds the chunks in a fixed order. No atomics, no barriers: on a CPU
// implementation such as lavapipe a few fat workgroups are the fast shape.

const FEATURES: u32 = 8u;
const HIDDEN: u32 = 16u;
const MAX_CLASSES: u32 = 2u;
const B1: u32 = FEATURES * HIDDEN;
const W2: u32 = B1 + HIDDEN;
const B2: u32 = W2 + HIDDEN * MAX_CLASSES;
const PARAMETERS: u32 = B2 + MAX_CLASSES;

struct GradParams {
  pixels_per_image: u32,
  pixels: u32,
  pixels_per_chunk: u32,
  pad: u32,
}

@group(0) @binding(0) var<uniform> params: GradParams;
@group(0) @binding(1) var<storage, read> features: array<f32>;
@group(0) @binding(2) var<storage, read> batch_images: array<u32>;
@group(0) @binding(3) var<storage, read> hidden: array<f32>;
@group(0) @binding(4) var<storage, read> grad_logits: array<f32>;
@group(0) @binding(5) var<storage, read> grad_hidden: array<f32>;
// [chunk][PARAMETERS]
@group(0) @binding(6) var<storage, read_write> partials: array<f32>;

fn feature(i: u32, f: u32) -> f32 {
  let source = batch_images[i / params.pixels_per_image] * params.pixels_per_image + i % params.pixels_per_image;
  return features[source * FEATURES + f];
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) parameter: u32, @builtin(workgroup_id) chunk: vec3<u32>) {
  if (parameter >= PARAMETERS) {
    return;
  }
  let begin = chunk.x * params.pixels_per_chunk;
  let end = min(begin + params.pixels_per_chunk, params.pixels);
  var sum = 0.0;
  if (parameter < B1) {
    let f = parameter / HIDDEN;
    let h = parameter % HIDDEN;
    for (var i = begin; i < end; i++) {
      sum += feature(i, f) * grad_hidden[i * HIDDEN + h];
    }
  } else if (parameter < W2) {
    let h = parameter - B1;
    for (var i = begin; i < end; i++) {
      sum += grad_hidden[i * HIDDEN + h];
    }
  } else if (parameter < B2) {
    let h = (parameter - W2) / MAX_CLASSES;
    let k = (parameter - W2) % MAX_CLASSES;
    for (var i = begin; i < end; i++) {
      sum += hidden[i * HIDDEN + h] * grad_logits[i * MAX_CLASSES + k];
    }
  } else {
    let k = parameter - B2;
    for (var i = begin; i < end; i++) {
      sum += grad_logits[i * MAX_CLASSES + k];
    }
  }
  partials[chunk.x * PARAMETERS + parameter] = sum;
}
