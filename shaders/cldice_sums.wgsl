// clDice forward: the seven foreground sums (classes 1 .. C-1), one partial pair per workgroup:
//   (sum skel_pred * target, sum skel_pred, sum skel_target * pred, sum skel_target)
//   (sum target * pred, sum target, sum pred, 0)
// Each thread adds its strided elements in order, then a fixed tree; no atomics, so the same
// inputs give bitwise the same partials.

@group(0) @binding(1) var<storage, read> pred: array<f32>;
@group(0) @binding(2) var<storage, read> target_values: array<f32>;
@group(0) @binding(3) var<storage, read> pred_skeleton: array<f32>;
@group(0) @binding(4) var<storage, read> target_skeleton: array<f32>;
@group(0) @binding(5) var<storage, read_write> partials: array<vec4<f32>>;

var<workgroup> skeleton_sums: array<vec4<f32>, WORKGROUP_SIZE>;
var<workgroup> dice_sums: array<vec4<f32>, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let range = chunk_of(wg.x);
  var skeleton_sum = vec4<f32>(0.0);
  var dice_sum = vec4<f32>(0.0);
  for (var element = range.x + tid; element < range.y; element += WORKGROUP_SIZE) {
    if (!is_foreground(element)) { continue; }
    let i = local(element);
    let p = pred[i];
    let t = target_values[i];
    let sp = pred_skeleton[i];
    let st = target_skeleton[i];
    skeleton_sum += vec4<f32>(sp * t, sp, st * p, st);
    dice_sum += vec4<f32>(t * p, t, p, 0.0);
  }
  skeleton_sums[tid] = skeleton_sum;
  dice_sums[tid] = dice_sum;
  workgroupBarrier();
  for (var half = WORKGROUP_SIZE / 2u; half > 0u; half /= 2u) {
    if (tid < half) {
      skeleton_sums[tid] += skeleton_sums[tid + half];
      dice_sums[tid] += dice_sums[tid + half];
    }
    workgroupBarrier();
  }
  if (tid == 0u) {
    let linear = params.linear_base + wg.x;
    partials[2u * linear] = skeleton_sums[0];
    partials[2u * linear + 1u] = dice_sums[0];
  }
}
