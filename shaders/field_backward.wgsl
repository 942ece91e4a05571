// Distance-field losses, backward: d(loss)/d(input) per element, through the activation
// (mode_2), from the forward's per-voxel weights and the finalize's coefficients.
//   mode 0, Hausdorff-DT: dL/dp_c = coefs[cell] (p_c - t_c) w_c for kept classes, 0 for the
//     others; written (the loss's whole gradient).
//   mode 1, boundary: dL/dp_c = coefs[0] phi_c for kept classes; added to what the family's
//     backward wrote.
// Through the activation: sigmoid p (1 - p), tanh 1 - p^2, softmax p_j (g_j - sum_c p_c g_c).
// Workgroups run over (sample, chunk) of this window's samples (sample_base + wg.x / chunks),
// contiguous voxels; a thread takes a voxel's classes.

// #include "lib/field_loss.wgsl"

@group(0) @binding(1) var<storage, read> pred_in: array<u32>;
@group(0) @binding(2) var<storage, read> target_in: array<u32>;
@group(0) @binding(3) var<storage, read> weights: array<f32>;
@group(0) @binding(4) var<storage, read> coefs: array<f32>;
@group(0) @binding(5) var<storage, read_write> grad: array<f32>;

// d(loss)/dp of one class at a voxel (0 for a class the loss leaves out).
fn loss_gradient(sample: u32, class_index: u32, voxel: u32, p: f32) -> f32 {
  if (class_index < params.first_class) {
    return 0.0;
  }
  let kept_index = class_index - params.first_class;
  let pair = sample * params.kept + kept_index;
  let w = weights[per_sample_index(pair, voxel)];
  if (params.mode == LOSS_BOUNDARY) {
    return coefs[0] * w;
  }
  return coefs[pair] * (p - target_of(sample, class_index, voxel)) * w;
}

fn write_gradient(sample: u32, class_index: u32, voxel: u32, g: f32) {
  let at = input_element(sample, class_index, voxel);
  if (params.mode == LOSS_BOUNDARY) {
    grad[at] += g;
  } else {
    grad[at] = g;
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let sample = params.sample_base + wg.x / params.chunks;
  let range = chunk_range(wg.x % params.chunks, params.voxels);
  for (var v = range.x + tid; v < range.y; v += WORKGROUP_SIZE) {
    if (params.mode_2 != ACTIVATION_SOFTMAX) {
      for (var c = 0u; c < params.classes; c++) {
        let p = probability(sample, c, v, vec2<f32>(0.0, 1.0));
        var g = loss_gradient(sample, c, v, p);
        if (params.mode_2 == ACTIVATION_SIGMOID) {
          g *= p * (1.0 - p);
        } else if (params.mode_2 == ACTIVATION_TANH) {
          g *= 1.0 - p * p;
        }
        write_gradient(sample, c, v, g);
      }
      continue;
    }
    let softmax = softmax_stats(sample, v);
    var dot = 0.0;
    for (var c = params.first_class; c < params.classes; c++) {
      let p = probability(sample, c, v, softmax);
      dot += p * loss_gradient(sample, c, v, p);
    }
    for (var c = 0u; c < params.classes; c++) {
      let p = probability(sample, c, v, softmax);
      write_gradient(sample, c, v, p * (loss_gradient(sample, c, v, p) - dot));
    }
  }
}
