// Generalized Wasserstein Dice, forward pass 1: per-workgroup partial sums per (sample, class),
// on logits (softmax over classes, computed per voxel in place) and an integer label map.
//
// wass_n = sum_k M[t_n, k] * p_k,n is the voxel's Wasserstein distance to its label t_n. Every
// per-sample quantity of the loss is a sum over classes c of
//   V_c = number of voxels labelled c,   W_c = sum of wass_n over the voxels labelled c
// so the pass runs voxel-major (lib/voxel_grid.wgsl): a thread walks its voxels in fixed order,
// computes wass once for each voxel whose label falls in its workgroup's block of classes (wg.y),
// and adds (1, wass) to that class's registers, selected by constant indices (an array indexed
// by the label would live in per-thread memory). Up to CLASS_BLOCK classes (REGISTER_CLASSES) a
// voxel's logits are read once into registers; wider class axes stream them. Per pair and chunk
// it writes one vec4 (V, W, 0, 0). Faults (labels out of range, non-finite logits) only set a
// flag on the hot path; a thread that saw one re-reads its voxels to record them (lib/faults.wgsl).

// #include "lib/wasserstein.wgsl"
// #include "lib/faults.wgsl"
// #include "lib/class_block.wgsl"
// #include "lib/block_sum.wgsl"

@group(0) @binding(4) var<storage, read_write> partials: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> faults: array<vec4<u32>>;

// Records the faults of one voxel: its label once (first block), each logit of the block once.
fn note_voxel_faults(voxel: u32, classes: vec2<u32>, first_block: bool) {
  if (first_block && label_at(voxel - params.voxel_base) >= params.classes) {
    note_fault(FAULT_LABEL, voxel);
  }
  for (var k = 0u; k < classes.y; k++) {
    let at = element_index(voxel, classes.x + k);
    if (!is_finite(pred_at(at))) {
      note_fault(FAULT_PRED, at + params.element_base);
    }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let part = chunk_part(wg.x);
  let first = first_voxel(part, tid);
  let classes = class_block(wg.y);
  let first_block = wg.y == 0u;
  clear_faults(tid);
  workgroupBarrier();

  // The loops over the block run to a constant where they can (lib/class_block.wgsl).
  let loop_bound = class_loop_bound(classes.y);
  var sums: array<vec4<f32>, CLASS_BLOCK>;   // (V, W, 0, 0) of each class of the block
  var logits: array<f32, CLASS_BLOCK>;
  var suspect = false;
  if (part.carried_in) {
    // The chunk began in the window before: each lane takes up its sums (lib/voxel_grid.wgsl chunk_part).
    for (var k = 0u; k < loop_bound; k++) {
      if (k >= classes.y) {
        break;
      }
      // (V, W): the other two stay constant zeros (no registers).
      sums[k] = vec4<f32>(carry[carry_index(params.carry_slot - 1u, wg.y, tid, k, 1u, 0u)].xy, 0.0, 0.0);
    }
  }
  for (var voxel = first; voxel < part.end; voxel += WORKGROUP_SIZE) {
    let label = label_at(voxel - params.voxel_base);
    // Out-of-range labels have no row of M: no sum takes them (flagged once, by the first block).
    let labelled = label < params.classes;
    suspect = suspect | (first_block && !labelled);
    var softmax: VoxelSoftmax;
    if (REGISTER_CLASSES != 0u) {
      load_register_logits(voxel, &logits);
      for (var k = 0u; k < REGISTER_CLASSES; k++) {
        suspect = suspect | !is_finite(logits[k]);
      }
      softmax = register_softmax(min(label, REGISTER_CLASSES - 1u), &logits);
    } else {
      for (var k = 0u; k < loop_bound; k++) {
        if (k >= classes.y) {
          break;
        }
        suspect = suspect | !is_finite(pred_at(element_index(voxel, classes.x + k)));
      }
      if (labelled && label - classes.x < classes.y) {
        softmax = streamed_softmax(voxel, label);
      }
    }
    let contribution = vec4<f32>(1.0, softmax.weighted / softmax.total, 0.0, 0.0);
    for (var k = 0u; k < loop_bound; k++) {
      if (k >= classes.y) {
        break;
      }
      sums[k] += select(vec4<f32>(0.0), contribution, labelled && label == classes.x + k);
    }
  }

  if (suspect) {
    for (var voxel = first; voxel < part.end; voxel += WORKGROUP_SIZE) {
      note_voxel_faults(voxel, classes, first_block);
    }
  }

  for (var k = 0u; k < loop_bound; k++) {
    if (k >= classes.y) {
      break;
    }
    if (part.carries_out) {
      carry[carry_index(params.carry_slot, wg.y, tid, k, 1u, 0u)] = sums[k];
    } else {
      let total = block_sum(tid, sums[k], vec4<f32>(0.0), false).a;
      if (tid == 0u) {
        partials[class_partial(part.linear, classes.x + k)] = total;
      }
    }
  }
  store_faults(tid, fault_record(wg));
}
