// Generalized Wasserstein Dice, forward pass 2: one workgroup turns the per-(sample, class)
// partial sums (V_c, W_c: see wasserstein_forward.wgsl) into the loss of every sample, the
// scalar loss, the status counters and the per-(sample, class) gradient coefficients.
// MONAI's GeneralizedWassersteinDiceLoss with per-sample class weights alpha (the fixed
// behaviour for batch > 1, MONAI PR #8744):
//   default: alpha_0 = 0, alpha_c = 1 else;  TP = sum_c alpha_c (V_c - W_c),  den = 2 TP + sum_c W_c
//   GDL:     alpha_c = 1 / (V_c + 1);          TP as above,                     den = sum_c alpha_c (2 V_c - W_c)
//   loss_b = 1 - (2 TP + smooth_nr) / (den + smooth_dr),  loss = scale * sum_b loss_b
// alpha depends on the labels only, so d loss_b / d W_c = -(2 dTP den' - num dden) / den'^2 with
// dTP = -alpha_c and dden = 1 - 2 alpha_c (default) or -alpha_c (GDL). Fixed-order loops only.
// It also folds the forward pass's fault records into the status buffer (lib/faults.wgsl).

// #include "lib/numeric.wgsl"
// #include "lib/workgroup_sum.wgsl"
// #include "lib/fault_fold.wgsl"

override WORKGROUP_SIZE: u32 = 256u;
override WEIGHTING: u32 = 0u;   // ALPHA_*: the class weights alpha

const ALPHA_DEFAULT: u32 = 0u;  // 0 for class 0, 1 else
const ALPHA_GDL: u32 = 1u;      // 1 / (V_c + 1)

struct FinalizeParams {
  batch: u32,
  classes: u32,
  chunks: u32,
  smooth_nr: f32,
  smooth_dr: f32,
  scale: f32,       // 1 / B for the mean, else 1
  fault_records: u32,
  fold_lanes: u32,  // threads that fold one pair's chunks (a power of two)
}

@group(0) @binding(0) var<uniform> params: FinalizeParams;
// Per (sample, class) and chunk, pair-major: (V, W, 0, 0).
@group(0) @binding(1) var<storage, read> partials: array<vec4<f32>>;
// Per (sample, class): (V, W, dL/dW, 0), for the backward pass.
@group(0) @binding(2) var<storage, read_write> class_sums: array<vec4<f32>>;
// Per sample: (loss, TP, denominator, sum of Wasserstein distances).
@group(0) @binding(3) var<storage, read_write> stats: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> loss: array<f32>;
// Words 0-7: the input faults (lib/fault_fold.wgsl); 8: the f32 bits of the loss.
@group(0) @binding(5) var<storage, read_write> status: array<u32>;
@group(0) @binding(6) var<storage, read_write> faults: array<vec4<u32>>;

fn alpha(c: u32, volume: f32) -> f32 {
  if (WEIGHTING == ALPHA_GDL) {
    return 1.0 / (volume + 1.0);
  }
  return select(1.0, 0.0, c == 0u);
}

// Phase 1: each pair's chunks folded into class_sums (V, W): fold_lanes threads a pair (lane k
// takes chunks k, k + lanes, ...), compensated sums joined by a fixed-order tree.
fn fold_chunks(tid: u32) {
  let pairs = params.batch * params.classes;
  let lanes = params.fold_lanes;
  let lane = tid % lanes;
  for (var first_pair = 0u; first_pair < pairs; first_pair += WORKGROUP_SIZE / lanes) {
    let pair = first_pair + tid / lanes;
    var s = Compensated(vec4<f32>(0.0), vec4<f32>(0.0));
    if (pair < pairs) {
      for (var chunk = lane; chunk < params.chunks; chunk += lanes) {
        s = compensated_add(s, partials[pair * params.chunks + chunk]);
      }
    }
    let total = lane_group_sum(tid, lanes, s.sum + s.error);
    if (lane == 0u && pair < pairs) {
      class_sums[pair] = vec4<f32>(total.xy, 0.0, 0.0);
    }
  }
}

// Phase 2: one thread per sample: its loss (stats) and dL/dW of each of its classes; returns
// the thread's share of the scaled loss.
fn sample_losses(tid: u32) -> f32 {
  var part = 0.0;
  for (var b = tid; b < params.batch; b += WORKGROUP_SIZE) {
    var tp = 0.0;
    var errors = 0.0;
    var gdl_den = 0.0;
    for (var c = 0u; c < params.classes; c++) {
      let s = class_sums[b * params.classes + c];
      let a = alpha(c, s.x);
      tp += a * (s.x - s.y);
      errors += s.y;
      gdl_den += a * (2.0 * s.x - s.y);
    }
    let den = select(2.0 * tp + errors, gdl_den, WEIGHTING == ALPHA_GDL) + params.smooth_dr;
    let num = 2.0 * tp + params.smooth_nr;
    let value = 1.0 - num / den;
    stats[b] = vec4<f32>(value, tp, den - params.smooth_dr, errors);
    part += params.scale * value;
    for (var c = 0u; c < params.classes; c++) {
      let s = class_sums[b * params.classes + c];
      let a = alpha(c, s.x);
      let d_den = select(1.0 - 2.0 * a, -a, WEIGHTING == ALPHA_GDL);
      let d_value = -(-2.0 * a * den - num * d_den) / (den * den);
      class_sums[b * params.classes + c].z = params.scale * d_value;
    }
  }
  return part;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32) {
  fold_faults(tid, params.fault_records);
  fold_chunks(tid);
  storageBarrier();
  var total = workgroup_sum(tid, vec4<f32>(sample_losses(tid), 0.0, 0.0, 0.0)).x;
  if (tid == 0u) {
    // A loss from faulty input is NaN, never a number that looks like a loss.
    if (input_faults_counted() || !is_finite(total)) {
      total = quiet_nan();
    }
    loss[0] = total;
    status[8] = bitcast<u32>(total);
  }
}
