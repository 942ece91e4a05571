// Generalized Wasserstein Dice, forward pass 1: per-workgroup partial sums per (sample, class),
// on logits (softmax over classes, computed per voxel in place) and an integer label map.
//
// wass_n = sum_k M[t_n, k] * p_k,n is the voxel's Wasserstein distance to its label t_n. Every
// per-sample quantity of the loss is a sum over classes c of
//   V_c = number of voxels labelled c,   W_c = sum of wass_n over the voxels labelled c
// so the pass runs voxel-major (lib/voxel_grid.wgsl): a thread walks its voxels in fixed
// order, computes wass once for each voxel whose label falls in its workgroup's block of
// classes (wg.y), and adds it to that label's registers. Per pair and chunk it writes
// (V, W, 0, 0) and a zero vec4 (lib/class_block.wgsl); faults (labels out of range, non-finite logits) go to one record per
// workgroup (lib/faults.wgsl).

// #include "lib/wasserstein.wgsl"
// #include "lib/faults.wgsl"
// #include "lib/class_block.wgsl"

@group(0) @binding(4) var<storage, read_write> partials: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> faults: array<vec4<u32>>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let linear = params.linear_base + wg.x;
  let range = voxel_range(linear);
  clear_faults(tid);
  // This workgroup's classes [class_begin, class_begin + block): lib/class_block.wgsl.
  let classes = class_block(wg.y);
  let class_begin = classes.x;
  let block = classes.y;
  workgroupBarrier();

  var sums: array<vec4<f32>, CLASS_BLOCK>;
  var unused: array<vec4<f32>, CLASS_BLOCK>;
  for (var voxel = range.x + tid; voxel < range.y; voxel += WORKGROUP_SIZE) {
    // Each logit is checked once, by the block that holds its class.
    for (var k = 0u; k < block; k++) {
      let at = element_index(voxel, class_begin + k);
      if (!is_finite(pred_at(at))) {
        note_fault(FAULT_PRED, at + params.element_base);
      }
    }
    let label = label_at(voxel - params.voxel_base);
    if (label >= params.classes) {
      // Out-of-range labels have no row of M; counted once per voxel.
      if (wg.y == 0u) {
        note_fault(FAULT_LABEL, voxel);
      }
    } else if (label >= class_begin && label < class_begin + block) {
      let softmax = wasserstein_softmax(voxel, label);
      sums[label - class_begin] += vec4<f32>(1.0, softmax.z / softmax.y, 0.0, 0.0);
    }
  }

  store_class_block(tid, linear, classes, block, &sums, &unused);
  store_faults(tid, linear * ((params.classes + CLASS_BLOCK - 1u) / CLASS_BLOCK) + wg.y);
}
