// Forward pass 2 of 2: one workgroup folds the partial sums into one (intersection, sum p,
// sum t) per group, computes each group's Dice, its weighted share of the loss, and the two
// coefficients of the gradient, and reduces the loss to a scalar.
//
// A group is (slab, class): per-class Dice has `classes` groups per slab, global Dice one.
// Group weights already hold the loss's normalisation (1/B, w_c/B or 1/(B*C)), so the loss
// is sum_g weight_g * (1 - dice_g) and, with dice = (2I + s_nr) / (P + G + s_dr),
//   dL/dp_i = weight_g * (-2 t_i / den + num / den^2) = a_g * t_i + b_g.
// Every sum runs in a fixed order: bitwise the same output for the same input. It also folds
// the reduce pass's fault records into the status buffer (lib/faults.wgsl).

// #include "lib/workgroup_sum.wgsl"
// #include "lib/fault_fold.wgsl"

override WORKGROUP_SIZE: u32 = 256u;

struct FinalizeParams {
  groups: u32,
  classes: u32,
  chunks: u32,
  cols: u32,
  vec_width: u32,
  periods: u32,
  smooth_nr: f32,
  smooth_dr: f32,
  fault_records: u32,    // workgroup fault records the reduce pass wrote
  fold_lanes: u32,       // threads that fold one group's partials (a power of two)
}

@group(0) @binding(0) var<uniform> params: FinalizeParams;
@group(0) @binding(1) var<storage, read> partials: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> class_weights: array<f32>;
// Per group: (dice, intersection, sum of pred, sum of target).
@group(0) @binding(3) var<storage, read_write> stats: array<vec4<f32>>;
// Per group: (a, b, 0, 0) with dL/dp_i = a * t_i + b.
@group(0) @binding(4) var<storage, read_write> coefs: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> loss: array<f32>;
// Words 0-7: the input faults (lib/fault_fold.wgsl); 8: the f32 bits of the loss.
@group(0) @binding(6) var<storage, read_write> status: array<u32>;
@group(0) @binding(7) var<storage, read_write> faults: array<vec4<u32>>;

// Item `item` of a group's partial sums (intersection, sum of pred, sum of target): chunk
// item / periods of the group's slab, and in that chunk's row the class's copy item % periods
// (a row holds `periods` copies of the class cycle; this class sits at class + k*classes).
fn partial(slab: u32, class_index: u32, item: u32) -> vec3<f32> {
  let chunk = item / params.periods;
  let element = class_index + (item % params.periods) * params.classes;
  let at = ((slab * params.chunks + chunk) * params.cols + element / params.vec_width) * 3u;
  let vec_lane = element % params.vec_width;
  return vec3<f32>(partials[at][vec_lane], partials[at + 1u][vec_lane], partials[at + 2u][vec_lane]);
}

// Neumaier-compensated: the partials are large and many, and a plain running f32 sum would
// round once it passes 2^24 even where f32 holds the exact total.
fn add_compensated(sums: ptr<function, vec3<f32>>, compensation: ptr<function, vec3<f32>>, x: vec3<f32>) {
  let t = *sums + x;
  *compensation += select((x - t) + *sums, (*sums - t) + x, abs(*sums) >= abs(x));
  *sums = t;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32) {
  fold_faults(tid, params.fault_records);
  // fold_lanes threads fold one group's items (lane k takes items k, k + lanes, ...), so a
  // round folds WORKGROUP_SIZE / fold_lanes groups; a fixed-order tree joins the lanes.
  let lanes = params.fold_lanes;
  let lane = tid % lanes;
  let groups_per_round = WORKGROUP_SIZE / lanes;
  let items = params.chunks * params.periods;
  var loss_part = 0.0;
  for (var first_group = 0u; first_group < params.groups; first_group += groups_per_round) {
    let group = first_group + tid / lanes;
    let slab = group / params.classes;
    let class_index = group % params.classes;
    var sums = vec3<f32>(0.0);
    var compensation = vec3<f32>(0.0);
    if (group < params.groups) {
      // Four items' loads are issued before their sums: a lane's sum is a chain of dependent
      // adds, and one load at a time would wait a memory latency per item. Same order of adds.
      var item = lane;
      for (; item < items && items - item > 3u * lanes; item += 4u * lanes) {
        let x0 = partial(slab, class_index, item);
        let x1 = partial(slab, class_index, item + lanes);
        let x2 = partial(slab, class_index, item + 2u * lanes);
        let x3 = partial(slab, class_index, item + 3u * lanes);
        add_compensated(&sums, &compensation, x0);
        add_compensated(&sums, &compensation, x1);
        add_compensated(&sums, &compensation, x2);
        add_compensated(&sums, &compensation, x3);
      }
      for (; item < items; item += lanes) {
        add_compensated(&sums, &compensation, partial(slab, class_index, item));
      }
    }
    let folded = lane_group_sum(tid, lanes, vec4<f32>(sums + compensation, 0.0)).xyz;
    if (lane == 0u && group < params.groups) {
      let numerator = 2.0 * folded.x + params.smooth_nr;
      let denominator = folded.y + folded.z + params.smooth_dr;
      let dice = numerator / denominator;
      let weight = class_weights[class_index];
      loss_part += weight * (1.0 - dice);
      stats[group] = vec4<f32>(dice, folded.x, folded.y, folded.z);
      coefs[group] = vec4<f32>(-2.0 * weight / denominator, weight * dice / denominator, 0.0, 0.0);
    }
  }

  let total = workgroup_sum(tid, vec4<f32>(loss_part, 0.0, 0.0, 0.0)).x;
  if (tid == 0u) {
    loss[0] = total;
    status[8] = bitcast<u32>(total);
  }
}
