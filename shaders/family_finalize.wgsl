// Loss-family forward pass 2: one workgroup turns the partial sums into every per-group score,
// the scalar loss, the status counters, and the per-(sample, class) gradient coefficients
// that the backward pass needs. Every loop and tree runs in a fixed order.
//
// A group pools (sample, class) pairs: per-class Dice pools none, batch Dice pools samples,
// global Dice pools classes. With tp, fp = P - tp, fn = G - tp (tp = I, or for the soft-label
// L1 form tp = (P + G - sum|p - g|) / 2 = T = sum min(p, g)) the group's score is
//   score = (num_tp * tp + smooth_nr) / max(den_tp * tp + den_fp * fp + den_fn * fn + smooth_dr, den_min)
// (with tp_min, nnU-Net's clip_tp, the tp terms use max(tp, tp_min) while fp and fn keep tp)
// which covers Dice, Jaccard, Tversky and F-beta in each peer's variant; value is 1 - score,
// -log(max(score, log_eps)) or -score. Generalized Dice pools classes with weights from the
// target volumes (MONAI's rule for empty classes). The loss is
//   lambda_dice * (sum_g weight_g * value_g)^gamma + lambda_aux * cross-entropy
//     + lambda_focal * focal_norm * sum_(b,c) (positive_c * F+ + negative_c * F-).
// It also folds the forward pass's fault records into the status buffer (lib/faults.wgsl).

// #include "lib/numeric.wgsl"
// #include "lib/family_modes.wgsl"
// #include "lib/workgroup_sum.wgsl"
// #include "lib/fault_fold.wgsl"

override WORKGROUP_SIZE: u32 = 256u;
// Modes, fixed when the pipeline is created (src/program/family.ts); values in lib/family_modes.wgsl.
override POOL_BATCH: bool = false;
override POOL_CLASSES: bool = false;
override SOFT_L1: bool = false;        // tp = T = sum min(p, g), the soft-label L1 form
override TRANSFORM: u32 = 0u;          // TRANSFORM_*
override EMPTY_ZERO: bool = false;     // value 0 for groups whose target mass is 0 (smp)
override CLASS_WEIGHTING: u32 = 0u;    // WEIGHTING_*
override AUX_KIND: u32 = 0u;           // AUX_*
override FOCAL: bool = false;          // the focal sums F+, F- are in the partials
// What the forward pass stored (family_forward.wgsl): the second vec4 of each partial at all
// (SUMS_B), and M apart from G (SEPARATE_MASS; else M = G).
override SUMS_B: bool = false;
override SEPARATE_MASS: bool = false;

struct FinalizeParams {
  batch: u32,
  classes: u32,
  chunks: u32,
  group_count: u32,
  num_tp: f32,
  den_tp: f32,
  den_fp: f32,
  den_fn: f32,
  smooth_nr: f32,
  smooth_dr: f32,
  den_min: f32,
  tp_min: f32,           // lower clip of tp in the score (nnU-Net clip_tp); -F32_MAX for none
  log_eps: f32,
  gamma: f32,
  lambda_dice: f32,
  lambda_aux: f32,
  ce_divisor: f32,       // the cross-entropy sum is divided by this; 0: by the true classes' weights
  lambda_focal: f32,
  focal_norm: f32,       // 1 / the focal reduction's element count
  fault_records: u32,    // workgroup fault records the forward pass wrote
  fold_lanes: u32,       // threads that fold one pair's chunks (a power of two)
  // The power of two (2^-ceil(log2 elements)) the forward scaled every cross-entropy and focal
  // term by: their sums stay finite wherever their means are (src/program/family.ts).
  term_scale: f32,
}

@group(0) @binding(0) var<uniform> params: FinalizeParams;
// Per pair and chunk (pair-major), two vec4: (I, P, G, T) and (AUX, M, F+, F-), with only the
// sums the loss needs (family_forward.wgsl); the second is not written unless SUMS_B.
@group(0) @binding(1) var<storage, read> partials: array<vec4<f32>>;
// Per class, two vec4: (included, fixed group weight, cross-entropy weight, 0) and
// (focal factor on F+, focal factor on F-, 0, 0).
@group(0) @binding(2) var<storage, read> class_info: array<vec4<f32>>;
// Per pair, two vec4: (I, P, G, T) and (AUX, M, member weight, weighted focal sum).
@group(0) @binding(3) var<storage, read_write> pair_sums: array<vec4<f32>>;
// Per group, two vec4: (score, tp, P, G) and (value, T, M, weight).
@group(0) @binding(4) var<storage, read_write> stats: array<vec4<f32>>;
// Per pair, two vec4: (dL/dI, dL/dP, dL/dT, dL/dAUX) and (dL/dF+, dL/dF-, 0, 0);
// then per group: (dv/dI, dv/dP, dv/dD, 0) scratch; then the inverse-frequency class weights,
// four a vec4 (here rather than in a buffer of their own: a ninth storage buffer would pass
// WebGPU's default limit of eight a stage).
@group(0) @binding(5) var<storage, read_write> coefs: array<vec4<f32>>;
// The caller's scalar loss.
@group(0) @binding(6) var<storage, read_write> loss: array<f32>;
// Words 0-7: the input faults (lib/fault_fold.wgsl); 8-11: the f32 bits of the loss, its
// Dice part, cross-entropy part and focal part.
@group(0) @binding(7) var<storage, read_write> status: array<u32>;
@group(0) @binding(8) var<storage, read_write> faults: array<vec4<u32>>;

// (Dice, cross-entropy, focal): what the loss's outer terms put on every coefficient.
var<workgroup> scales: vec3<f32>;

// Where class c's inverse-frequency weight lives in coefs (component c % 4).
fn class_weight_index(c: u32) -> u32 {
  return 2u * params.batch * params.classes + params.group_count + c / 4u;
}

fn partial_index(b: u32, c: u32, chunk: u32) -> u32 {
  return ((b * params.classes + c) * params.chunks + chunk) * 2u;
}

fn included(c: u32) -> bool {
  return class_info[c * 2u].x != 0.0;
}

fn is_gdl() -> bool {
  return CLASS_WEIGHTING == WEIGHTING_SQUARE || CLASS_WEIGHTING == WEIGHTING_SIMPLE || CLASS_WEIGHTING == WEIGHTING_UNIFORM;
}

// Generalized Dice weight of a class from its target volume; +inf for an empty class.
fn gdl_weight(mass: f32) -> f32 {
  switch (CLASS_WEIGHTING) {
    case WEIGHTING_SQUARE: { return 1.0 / (mass * mass); }
    case WEIGHTING_SIMPLE: { return 1.0 / mass; }
    default: { return 1.0; }
  }
}

// What phase 1 gathers besides the pair sums.
struct ChunkTotals {
  ce: vec4<f32>,   // (0, 0, sum of weighted cross-entropy, sum of the true classes' weights)
  focal: f32,      // the weighted focal sum
}

// Phase 1: fold the chunks into per-pair sums, and gather the cross-entropy and focal totals.
// fold_lanes threads fold one pair's chunks (lane k takes chunks k, k + lanes, ...), so a round
// folds WORKGROUP_SIZE / fold_lanes pairs; a fixed-order tree joins the lanes.
fn fold_chunks(tid: u32) -> ChunkTotals {
  let pairs = params.batch * params.classes;
  let lanes = params.fold_lanes;
  let lane = tid % lanes;
  let pairs_per_round = WORKGROUP_SIZE / lanes;
  var ce_totals = vec4<f32>(0.0);
  var focal_part = 0.0;
  for (var first_pair = 0u; first_pair < pairs; first_pair += pairs_per_round) {
    let pair = first_pair + tid / lanes;
    let b = pair / params.classes;
    let c = pair % params.classes;
    // Chunk partials are large and many: compensated sums (lib/workgroup_sum.wgsl).
    var a = Compensated(vec4<f32>(0.0), vec4<f32>(0.0));
    var m = Compensated(vec4<f32>(0.0), vec4<f32>(0.0));
    if (pair < pairs) {
      for (var chunk = lane; chunk < params.chunks; chunk += lanes) {
        let at = partial_index(b, c, chunk);
        a = compensated_add(a, partials[at]);
        if (SUMS_B) {
          m = compensated_add(m, partials[at + 1u]);
        }
      }
    }
    let sums_a = lane_group_sum(tid, lanes, a.sum + a.error);
    var sums_b = vec4<f32>(0.0);
    if (SUMS_B) {
      sums_b = lane_group_sum(tid, lanes, m.sum + m.error);
    }
    if (!SEPARATE_MASS) {
      sums_b.y = sums_a.z;   // M = G: neither squared nor absolute sums
    }
    if (lane == 0u && pair < pairs) {
      var focal = 0.0;
      if (FOCAL) {
        let factors = class_info[c * 2u + 1u];
        focal = factors.x * sums_b.z + factors.y * sums_b.w;
      }
      pair_sums[pair * 2u] = sums_a;
      pair_sums[pair * 2u + 1u] = vec4<f32>(sums_b.x, sums_b.y, 0.0, focal);
      let ce_weight = class_info[c * 2u].z;
      ce_totals += vec4<f32>(0.0, 0.0, ce_weight * sums_b.x, ce_weight * sums_b.y);
      focal_part += focal;
    }
  }
  let totals = ChunkTotals(workgroup_sum(tid, ce_totals), workgroup_sum(tid, vec4<f32>(focal_part, 0.0, 0.0, 0.0)).x);
  storageBarrier();
  return totals;
}

// The target mass of class c summed over `samples` samples from sample `first`.
fn class_mass(first: u32, samples: u32, c: u32) -> f32 {
  var mass = 0.0;
  for (var j = 0u; j < samples; j++) {
    mass += pair_sums[((first + j) * params.classes + c) * 2u + 1u].y;
  }
  return mass;
}

// Phase 2 (inverse frequency only): class weights over the whole batch, normalised to sum to 1
// over the included classes (computed here so they follow each batch), for any class count:
// each thread weighs classes tid, tid + WORKGROUP_SIZE, ...; a fixed-order tree sums them.
fn inverse_frequency_weights(tid: u32) {
  var part = 0.0;
  for (var c = tid; c < params.classes; c += WORKGROUP_SIZE) {
    let w = select(0.0, 1.0 / max(class_mass(0u, params.batch, c), 1.0), included(c));
    coefs[class_weight_index(c)][c % 4u] = w;
    part += w;
  }
  let total = workgroup_sum(tid, vec4<f32>(part, 0.0, 0.0, 0.0)).x;
  for (var c = tid; c < params.classes; c += WORKGROUP_SIZE) {
    coefs[class_weight_index(c)][c % 4u] /= total;
  }
  storageBarrier();
}

// A group's score and its slopes: d score / d tp, and d score / d P with G fixed.
struct Score {
  score: f32,
  d_tp: f32,
  d_p: f32,
}

// score = (num_tp * tp' + smooth_nr) / max(den_tp * tp' + den_fp * fp + den_fn * fn + smooth_dr, den_min)
// with fp = P - tp, fn = G - tp and tp' = max(tp, tp_min) (clip_tp: slope 0 below the clip, as
// torch.clip); zero slopes through the denominator's clamp. Where the sums or tp_min are huge
// (finite, past 2^64) every term is first scaled by 2^-64, exactly, so 2 tp' or a denominator
// near f32's limit does not overflow where the score is finite; the slopes scale back. Sums that
// already overflowed give NaN: the forward's f32 sums passed f32's range.
fn score_of(tp: f32, p: f32, g: f32) -> Score {
  if (!is_finite(tp) || !is_finite(p) || !is_finite(g)) {
    let nan = quiet_nan();
    return Score(nan, nan, nan);
  }
  let tp_clipped = max(tp, params.tp_min);
  let big = max(max(abs(tp_clipped), abs(tp)), max(abs(p), abs(g))) > 1.8446744e19;
  let scale = select(1.0, 5.421011e-20, big);   // 2^-64
  let num_tp = params.num_tp;
  let tp_slope = select(0.0, 1.0, tp >= params.tp_min);
  let numerator = num_tp * (scale * tp_clipped) + scale * params.smooth_nr;
  let k_tp = params.den_tp - params.den_fp - params.den_fn;
  let raw_den = k_tp * (scale * tp) + params.den_tp * (scale * tp_clipped - scale * tp) + params.den_fp * (scale * p) +
    params.den_fn * (scale * g) + scale * params.smooth_dr;
  let den_min = scale * params.den_min;
  let clamped = raw_den < den_min;
  let denominator = max(raw_den, den_min);
  var s = Score(numerator / denominator, num_tp * tp_slope / denominator, 0.0);
  if (!clamped) {
    s.d_tp -= numerator * (k_tp + params.den_tp * (tp_slope - 1.0)) / (denominator * denominator);
    s.d_p = -numerator * params.den_fp / (denominator * denominator);
  }
  s.d_tp *= scale;
  s.d_p *= scale;
  return s;
}

// A group's value from its score, and d value / d score.
fn value_of(score: f32) -> vec2<f32> {
  switch (TRANSFORM) {
    case TRANSFORM_NEGATIVE_LOG: {
      return vec2<f32>(-log(max(score, params.log_eps)), select(0.0, -1.0 / score, score > params.log_eps));
    }
    case TRANSFORM_NEGATIVE: { return vec2<f32>(-score, -1.0); }
    default: { return vec2<f32>(1.0 - score, -1.0); }
  }
}

// Phase 3: one thread per group: pooled sums, score, value and its derivatives (stats, and the
// group's slopes in coefs' scratch tail). Returns the thread's share of the weighted value sum.
fn group_values(tid: u32) -> f32 {
  let pairs = params.batch * params.classes;
  let group_classes = select(params.classes, 1u, POOL_CLASSES);
  let member_batches = select(1u, params.batch, POOL_BATCH);
  let member_classes = select(1u, params.classes, POOL_CLASSES);
  var loss_part = 0.0;
  for (var group = tid; group < params.group_count; group += WORKGROUP_SIZE) {
    let gb = group / group_classes;
    let gc = group % group_classes;

    // Generalized Dice: weights from the target volume of each class in this group; an
    // empty class takes the largest finite weight of the group (0 if none is finite).
    var max_finite = 0.0;
    if (is_gdl()) {
      for (var k = 0u; k < member_classes; k++) {
        let w = gdl_weight(class_mass(gb, member_batches, gc + k));
        if (included(gc + k) && is_finite(w)) { max_finite = max(max_finite, w); }
      }
    }

    var s = vec4<f32>(0.0);   // weighted I, P, G, T
    var mass_total = 0.0;
    for (var k = 0u; k < member_classes; k++) {
      let c = gc + k;
      var member_weight = select(0.0, 1.0, included(c));
      if (member_weight != 0.0 && is_gdl()) {
        let w = gdl_weight(class_mass(gb, member_batches, c));
        member_weight = select(max_finite, w, is_finite(w));
      }
      for (var j = 0u; j < member_batches; j++) {
        let pair = (gb + j) * params.classes + c;
        s += member_weight * pair_sums[pair * 2u];
        mass_total += select(0.0, pair_sums[pair * 2u + 1u].y, included(c));
        pair_sums[pair * 2u + 1u].z = member_weight;
      }
    }

    let tp = select(s.x, s.w, SOFT_L1);
    let score = score_of(tp, s.y, s.z);
    var value = value_of(score.score);   // (value, d value / d score)
    if (EMPTY_ZERO && mass_total == 0.0) {
      value = vec2<f32>(0.0);
    }

    var weight = class_info[gc * 2u].y;
    if (CLASS_WEIGHTING == WEIGHTING_INVERSE_FREQUENCY) {
      weight *= coefs[class_weight_index(gc)][gc % 4u];
    }
    stats[group * 2u] = vec4<f32>(score.score, tp, s.y, s.z);
    stats[group * 2u + 1u] = vec4<f32>(value.x, s.w, mass_total, weight);

    // Groups of weight 0 (excluded classes) may hold 0/0 without smoothing: they must not
    // reach the loss or the gradient, since 0 * NaN is NaN.
    var d = vec3<f32>(0.0);
    if (weight != 0.0) {
      loss_part += weight * value.x;
      // Chain to the pooled sums: plain form tp = I (coefficient on g); soft L1 form
      // tp = sum min(p, g) (coefficient on its derivative (1 - sign(p - g)) / 2, kept apart
      // from the P term: folding them together cancels catastrophically when -log makes
      // d_tp huge).
      let g = weight * value.y;
      d = select(vec3<f32>(g * score.d_tp, g * score.d_p, 0.0), vec3<f32>(0.0, g * score.d_p, g * score.d_tp), SOFT_L1);
    }
    coefs[2u * pairs + group] = vec4<f32>(d, 0.0);
  }
  return loss_part;
}

// Phase 4 (thread 0): the scalar loss and its parts, and the scales its outer terms put on
// every coefficient.
fn write_loss(dice_total: f32, totals: ChunkTotals) {
  var dice_loss = dice_total;
  var dice_scale = params.lambda_dice;
  if (params.gamma != 1.0) {
    dice_loss = pow(max(dice_total, 0.0), params.gamma);
    dice_scale *= params.gamma * pow(max(dice_total, 0.0), params.gamma - 1.0);
  }
  var aux_loss = 0.0;
  var aux_scale = 0.0;
  // torch's divisors: the true classes' weights (class-index mean), a count (probability
  // targets, binary CE), or 1 (sum); nothing left to divide by (all ignored) gives 0.
  let ce_divisor = select(params.ce_divisor, totals.ce.w, params.ce_divisor == 0.0);
  if (AUX_KIND != AUX_NONE && ce_divisor > 0.0) {
    // The cross-entropy terms were summed times term_scale: divided by the divisor so scaled,
    // the quotient is exactly the unscaled one, and finite wherever the mean is.
    aux_loss = totals.ce.z / (params.term_scale * ce_divisor);
    aux_scale = params.lambda_aux / ce_divisor;
  }
  // A term of weight 0 stays out even when it is not finite (0 * inf is NaN).
  var total = params.lambda_aux * aux_loss;
  if (params.lambda_dice != 0.0) {
    total += params.lambda_dice * dice_loss;
  } else {
    dice_scale = 0.0;
  }
  let focal_loss = totals.focal * (params.focal_norm / params.term_scale);
  if (FOCAL) {
    total += params.lambda_focal * focal_loss;
  }
  // A loss that is not a number never looks like one (-Infinity would look the best ever): NaN,
  // also whenever the forward counted a fault in the input. The parts (words 9-11) stay as they
  // came out, so the caller sees which term overflowed.
  if (input_faults_counted() || !is_finite(total)) {
    total = quiet_nan();
  }
  loss[0] = total;
  status[8] = bitcast<u32>(total);
  status[9] = bitcast<u32>(dice_loss);
  status[10] = bitcast<u32>(aux_loss);
  status[11] = bitcast<u32>(focal_loss);
  scales = vec3<f32>(dice_scale, aux_scale, params.lambda_focal * params.focal_norm);
}

// Phase 5: per-pair coefficients for the backward pass.
fn pair_coefficients(tid: u32) {
  let pairs = params.batch * params.classes;
  let group_classes = select(params.classes, 1u, POOL_CLASSES);
  let scale = scales;
  for (var pair = tid; pair < pairs; pair += WORKGROUP_SIZE) {
    let b = pair / params.classes;
    let c = pair % params.classes;
    let gb = select(b, 0u, POOL_BATCH);
    let gc = select(c, 0u, POOL_CLASSES);
    let group_d = coefs[2u * pairs + gb * group_classes + gc];
    let member_weight = pair_sums[pair * 2u + 1u].z;
    var dice_d = vec3<f32>(0.0);
    if (scale.x != 0.0) {
      dice_d = scale.x * member_weight * group_d.xyz;
    }
    coefs[pair * 2u] = vec4<f32>(dice_d, scale.y * class_info[c * 2u].z);
    var focal_d = vec2<f32>(0.0);
    if (FOCAL) {
      focal_d = scale.z * class_info[c * 2u + 1u].xy;
    }
    coefs[pair * 2u + 1u] = vec4<f32>(focal_d, 0.0, 0.0);
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32) {
  fold_faults(tid, params.fault_records);
  let totals = fold_chunks(tid);
  if (CLASS_WEIGHTING == WEIGHTING_INVERSE_FREQUENCY) {
    inverse_frequency_weights(tid);
  }
  let dice_total = workgroup_sum(tid, vec4<f32>(group_values(tid), 0.0, 0.0, 0.0)).x;
  storageBarrier();
  if (tid == 0u) {
    write_loss(dice_total, totals);
  }
  workgroupBarrier();
  pair_coefficients(tid);
}
