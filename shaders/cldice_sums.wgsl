// clDice forward: the seven foreground sums (classes 1 .. C-1), one partial pair per workgroup:
//   (sum skel_pred * target, sum skel_pred, sum skel_target * pred, sum skel_target)
//   (sum target * pred, sum target, sum pred, 0)
// Each thread adds its strided elements in order, then the fixed tree of cldice_tree.wgsl; no
// atomics on values, so the same inputs give bitwise the same partials. Every element of pred
// and target, background included, is checked: NaN or infinity goes to the workgroup's fault
// record (lib/faults.wgsl), folded into the status by cldice_finalize.
//
// The grid is elementwise: the flat tensor is cut in slabs (runs of whole volumes or samples:
// one large one, or several small ones, so that a workgroup's work follows the elements, not
// the number of volumes), each in chunks of whole workgroups: workgroup `linear_base + wg.x`
// takes chunk `linear % chunks_per_slab` of slab `linear / chunks_per_slab`, the same split
// whatever the binding windows, so the sums come out bitwise the same.

// #include "lib/cldice_tree.wgsl"
// #include "lib/faults.wgsl"
// #include "lib/numeric.wgsl"
// #include "lib/runs.wgsl"

override WORKGROUP_SIZE: u32 = 256u;

struct SumsParams {
  classes: u32,
  // An element's class is (index / channel_stride) % classes.
  channel_stride: u32,
  slab_elements: u32,
  chunks_per_slab: u32,
  elements_per_workgroup: u32,
  // The whole tensor's: the last slab may hold fewer volumes.
  elements: u32,
  // This window's first workgroup and first bound element.
  linear_base: u32,
  element_base: u32,
}

@group(0) @binding(0) var<uniform> params: SumsParams;

@group(0) @binding(1) var<storage, read> pred: array<f32>;
@group(0) @binding(2) var<storage, read> target_values: array<f32>;
@group(0) @binding(3) var<storage, read> pred_skeleton: array<f32>;
@group(0) @binding(4) var<storage, read> target_skeleton: array<f32>;
@group(0) @binding(5) var<storage, read_write> partials: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> faults: array<vec4<u32>>;

// MONAI sums from class 1 on: class 0 (background) takes no part in any sum.
fn is_foreground(element: u32) -> bool {
  return (element / params.channel_stride) % params.classes != 0u;
}

// The elements [first, end) of this workgroup: a chunk of a slab.
fn chunk_of(workgroup: u32) -> vec2<u32> {
  let linear = params.linear_base + workgroup;
  return run_in_groups(linear, params.chunks_per_slab, params.slab_elements, params.elements_per_workgroup, params.elements);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let range = chunk_of(wg.x);
  clear_faults(tid);
  workgroupBarrier();
  var skeleton_sum = vec4<f32>(0.0);
  var dice_sum = vec4<f32>(0.0);
  for (var element = range.x + tid; element < range.y; element += WORKGROUP_SIZE) {
    // Within this window's bindings (u32 arithmetic wraps, so subtracting the base is exact).
    let i = element - params.element_base;
    let p = pred[i];
    let t = target_values[i];
    if (!is_finite(p)) {
      note_fault(FAULT_PRED, element);
    }
    if (!is_finite(t)) {
      note_fault(FAULT_TARGET, element);
    }
    if (!is_foreground(element)) { continue; }
    let sp = pred_skeleton[i];
    let st = target_skeleton[i];
    skeleton_sum += vec4<f32>(sp * t, sp, st * p, st);
    dice_sum += vec4<f32>(t * p, t, p, 0.0);
  }
  // Its barriers also order every note_fault before store_faults.
  let total = workgroup_sum_pair(tid, SumPair(skeleton_sum, dice_sum));
  let linear = params.linear_base + wg.x;
  if (tid == 0u) {
    partials[2u * linear] = total.skeleton;
    partials[2u * linear + 1u] = total.dice;
  }
  store_faults(tid, linear);
}
