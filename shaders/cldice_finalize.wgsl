// clDice forward, last pass: one workgroup adds the partials (fixed order), then
//   tprec = (sum sp*t + smoothing) / (sum sp + smoothing),  tsens = (sum st*p + smoothing) / (sum st + smoothing)
//   cl_dice = 1 - 2 tprec tsens / (tprec + tsens)
//   soft_dice = 1 - (2 sum t*p + smoothing) / (sum t + sum p + smoothing)
//   loss = (1 - alpha) soft_dice + alpha cl_dice        (alpha = 1: SoftclDiceLoss)
// and the coefficients of the gradient, on foreground elements:
//   dL/d skel_pred = PREC_T * t + PREC_1
//   dL/d pred (direct) = SENS_ST * st + DICE_T * t + DICE_1
// It also folds the sums pass's fault records into the status buffer (lib/fault_fold.wgsl). It
// follows cldice_tree.wgsl, not cldice_common.wgsl: it has its own parameters.

// #include "lib/cldice_tree.wgsl"
// #include "lib/fault_fold.wgsl"

override WORKGROUP_SIZE: u32 = 256u;

struct FinalizeParams {
  partial_pairs: u32,
  smoothing: f32,
  alpha: f32,
  fault_records: u32,
}

@group(0) @binding(0) var<uniform> params: FinalizeParams;
@group(0) @binding(1) var<storage, read> partials: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> loss: array<f32>;
// (loss, cl_dice, soft_dice, tprec), (tsens, 0, 0, 0)
@group(0) @binding(3) var<storage, read_write> stats: array<vec4<f32>>;
// (PREC_T, PREC_1, SENS_ST, DICE_T), (DICE_1, 0, 0, 0)
@group(0) @binding(4) var<storage, read_write> coefficients: array<vec4<f32>>;
// Words 0-7: the input faults (lib/fault_fold.wgsl); 8-11: the f32 bits of loss, cl_dice, soft_dice, tprec.
@group(0) @binding(5) var<storage, read_write> status: array<u32>;
@group(0) @binding(6) var<storage, read_write> faults: array<vec4<u32>>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32) {
  fold_faults(tid, params.fault_records);
  var skeleton_sum = vec4<f32>(0.0);
  var dice_sum = vec4<f32>(0.0);
  for (var pair = tid; pair < params.partial_pairs; pair += WORKGROUP_SIZE) {
    skeleton_sum += partials[2u * pair];
    dice_sum += partials[2u * pair + 1u];
  }
  let total = workgroup_sum_pair(tid, SumPair(skeleton_sum, dice_sum));
  if (tid != 0u) { return; }
  let s = total.skeleton;
  let d = total.dice;
  let smoothing = params.smoothing;
  let alpha = params.alpha;
  let prec_den = s.y + smoothing;
  let sens_den = s.w + smoothing;
  let tprec = (s.x + smoothing) / prec_den;
  let tsens = (s.z + smoothing) / sens_den;
  let harmonic = tprec + tsens;
  let cl_dice = 1.0 - 2.0 * tprec * tsens / harmonic;
  let dice_den = d.y + d.z + smoothing;
  let dice_num = 2.0 * d.x + smoothing;
  let soft_dice = 1.0 - dice_num / dice_den;
  let value = (1.0 - alpha) * soft_dice + alpha * cl_dice;
  loss[0] = value;
  stats[0] = vec4<f32>(value, cl_dice, soft_dice, tprec);
  stats[1] = vec4<f32>(tsens, 0.0, 0.0, 0.0);
  status[8] = bitcast<u32>(value);
  status[9] = bitcast<u32>(cl_dice);
  status[10] = bitcast<u32>(soft_dice);
  status[11] = bitcast<u32>(tprec);

  // d cl_dice / d tprec = -2 tsens^2 / (tprec + tsens)^2, and symmetrically for tsens.
  let d_prec = alpha * -2.0 * tsens * tsens / (harmonic * harmonic);
  let d_sens = alpha * -2.0 * tprec * tprec / (harmonic * harmonic);
  coefficients[0] = vec4<f32>(
    d_prec / prec_den,
    -d_prec * tprec / prec_den,
    d_sens / sens_den,
    -(1.0 - alpha) * 2.0 / dice_den,
  );
  coefficients[1] = vec4<f32>((1.0 - alpha) * dice_num / (dice_den * dice_den), 0.0, 0.0, 0.0);
}
