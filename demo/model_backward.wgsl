// Backward pass of the demo's model, per pixel: takes dL/dpred from wgsl-dice's loss, applies
// the chain rule through the activation (sigmoid: dz = dp * p * (1 - p); softmax:
// dz_k = p_k * (dp_k - sum_j p_j dp_j)) and through the ReLU layer, and stores dL/dlogits and
// dL/d(hidden pre-activation) for the parameter gradients (model_param_grad.wgsl).

const FEATURES: u32 = 8u;
const HIDDEN: u32 = 16u;
const MAX_CLASSES: u32 = 2u;
const W2: u32 = FEATURES * HIDDEN + HIDDEN;

override ACTIVATION: u32 = 0u;
override WORKGROUP_SIZE: u32 = 64u;

struct BackwardParams {
  pixels: u32,
  classes: u32,
  pad0: u32,
  pad1: u32,
}

@group(0) @binding(0) var<uniform> params: BackwardParams;
@group(0) @binding(1) var<storage, read> weights: array<f32>;
@group(0) @binding(2) var<storage, read> pred: array<f32>;
@group(0) @binding(3) var<storage, read> grad_pred: array<f32>;
@group(0) @binding(4) var<storage, read> hidden: array<f32>;
// [pixels][MAX_CLASSES]; classes past params.classes get 0, so their parameters stay put.
@group(0) @binding(5) var<storage, read_write> grad_logits: array<f32>;
@group(0) @binding(6) var<storage, read_write> grad_hidden: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let stride = groups.x * WORKGROUP_SIZE;
  for (var i = gid.x; i < params.pixels; i += stride) {
    let base = i * params.classes;
    var dz: array<f32, MAX_CLASSES>;
    if (ACTIVATION == 1u) {
      var weighted = 0.0;
      for (var k = 0u; k < params.classes; k++) {
        weighted += pred[base + k] * grad_pred[base + k];
      }
      for (var k = 0u; k < params.classes; k++) {
        dz[k] = pred[base + k] * (grad_pred[base + k] - weighted);
      }
    } else {
      for (var k = 0u; k < params.classes; k++) {
        let p = pred[base + k];
        dz[k] = grad_pred[base + k] * p * (1.0 - p);
      }
    }
    for (var k = 0u; k < MAX_CLASSES; k++) {
      grad_logits[i * MAX_CLASSES + k] = dz[k];
    }
    for (var h = 0u; h < HIDDEN; h++) {
      var d = 0.0;
      if (hidden[i * HIDDEN + h] > 0.0) {
        for (var k = 0u; k < MAX_CLASSES; k++) {
          d += weights[W2 + h * MAX_CLASSES + k] * dz[k];
        }
      }
      grad_hidden[i * HIDDEN + h] = d;
    }
  }
}
