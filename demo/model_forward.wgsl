// Forward pass of the demo's per-pixel model: hand-made features -> 16 ReLU units -> one logit
// per class -> sigmoid per class, or softmax over the classes (ACTIVATION). Each thread handles
// pixels of the batch in a grid-stride loop; it also gathers the batch's targets from the data
// set's masks, so the batch's images need not be contiguous. Writes the probabilities (the pred
// that wgsl-dice's loss reads) and the hidden activations the backward pass needs.
//
// Parameters, one f32 array: W1 [FEATURES][HIDDEN], b1 [HIDDEN], W2 [HIDDEN][MAX_CLASSES],
// b2 [MAX_CLASSES] (mirrored in model.ts).

const FEATURES: u32 = 8u;
const HIDDEN: u32 = 16u;
const MAX_CLASSES: u32 = 2u;
const B1: u32 = FEATURES * HIDDEN;
const W2: u32 = B1 + HIDDEN;
const B2: u32 = W2 + HIDDEN * MAX_CLASSES;

// 0: sigmoid per class (pred holds independent probabilities); 1: softmax over classes.
override ACTIVATION: u32 = 0u;
override WORKGROUP_SIZE: u32 = 64u;

struct ForwardParams {
  pixels_per_image: u32,
  batch: u32,
  // 1: pred is the polyp probability; 2: (background, polyp).
  classes: u32,
  pad: u32,
}

@group(0) @binding(0) var<uniform> params: ForwardParams;
@group(0) @binding(1) var<storage, read> features: array<f32>;
@group(0) @binding(2) var<storage, read> masks: array<f32>;
@group(0) @binding(3) var<storage, read> batch_images: array<u32>;
@group(0) @binding(4) var<storage, read> weights: array<f32>;
@group(0) @binding(5) var<storage, read_write> pred: array<f32>;
@group(0) @binding(6) var<storage, read_write> batch_target: array<f32>;
@group(0) @binding(7) var<storage, read_write> hidden: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let total = params.pixels_per_image * params.batch;
  let stride = groups.x * WORKGROUP_SIZE;
  for (var i = gid.x; i < total; i += stride) {
    let slot = i / params.pixels_per_image;
    let source = batch_images[slot] * params.pixels_per_image + i % params.pixels_per_image;

    var x: array<f32, FEATURES>;
    for (var f = 0u; f < FEATURES; f++) {
      x[f] = features[source * FEATURES + f];
    }
    var logits: array<f32, MAX_CLASSES>;
    for (var k = 0u; k < MAX_CLASSES; k++) {
      logits[k] = weights[B2 + k];
    }
    for (var h = 0u; h < HIDDEN; h++) {
      var a = weights[B1 + h];
      for (var f = 0u; f < FEATURES; f++) {
        a += x[f] * weights[f * HIDDEN + h];
      }
      a = max(a, 0.0);
      hidden[i * HIDDEN + h] = a;
      for (var k = 0u; k < MAX_CLASSES; k++) {
        logits[k] += a * weights[W2 + h * MAX_CLASSES + k];
      }
    }

    let polyp = masks[source];
    let base = i * params.classes;
    if (ACTIVATION == 1u) {
      var top = logits[0];
      for (var k = 1u; k < params.classes; k++) {
        top = max(top, logits[k]);
      }
      var total_exp = 0.0;
      for (var k = 0u; k < params.classes; k++) {
        total_exp += exp(logits[k] - top);
      }
      for (var k = 0u; k < params.classes; k++) {
        pred[base + k] = exp(logits[k] - top) / total_exp;
      }
    } else {
      for (var k = 0u; k < params.classes; k++) {
        pred[base + k] = 1.0 / (1.0 + exp(-logits[k]));
      }
    }
    // The last class is the polyp; with two classes the first is the background.
    batch_target[base + params.classes - 1u] = polyp;
    if (params.classes == 2u) {
      batch_target[base] = 1.0 - polyp;
    }
  }
}
