// Surface metrics, first pass over the caller's masks: the bounding box of each pair (sample,
// kept class) over both masks, so that every later pass touches only that box (MONAI crops the
// same way; a CT organ fills a small part of the volume), and the input's faults (labels >= C,
// dense values other than 0 and 1).
//
// Workgroups run over (sample, chunk) of this window's samples (sample_base + wg.x / chunks),
// voxel-major: a label map is read once for every class. Each workgroup shrinks boxes of its own
// in workgroup memory (reading before each atomic, so that a voxel inside the box so far costs
// no atomic; label maps through runs, below), then merges them into the pairs' boxes with global
// atomicMin / atomicMax: min and max do not depend on the order, so the boxes are the same on
// every run. The grid here is the voxel grid (cell_grid 0) whatever the later passes run on.
// Both inputs are label maps, or both dense.

// #include "lib/surface_masks.wgsl"
// #include "lib/surface_faults.wgsl"

@group(0) @binding(1) var<storage, read> pred_in: array<u32>;
@group(0) @binding(2) var<storage, read> target_in: array<u32>;
@group(0) @binding(3) var<storage, read_write> boxes: array<atomic<u32>>;
@group(0) @binding(4) var<storage, read_write> status: array<atomic<u32>>;

// The most classes kept per sample (MAX_CLASSES in src/core/limits.ts).
const MAX_KEPT: u32 = 256u;
// Per kept class: lo.xyz then hi.xyz.
var<workgroup> local_boxes: array<atomic<u32>, MAX_KEPT * 6u>;

fn grow(kept_index: u32, c: vec3<u32>) {
  let at = kept_index * 6u;
  for (var a = 0u; a < 3u; a++) {
    if (c[a] < atomicLoad(&local_boxes[at + a])) {
      atomicMin(&local_boxes[at + a], c[a]);
    }
    if (c[a] > atomicLoad(&local_boxes[at + 3u + a])) {
      atomicMax(&local_boxes[at + 3u + a], c[a]);
    }
  }
}

// Label maps: each thread keeps the box of the run of voxels of one kept class it is in, per
// map (0 pred, 1 target), in registers, and grows the workgroup's box of that class only when
// the run ends (another class, or the end of its voxels). A software plan's thread walks its
// voxels in order, so runs are long and most voxels cost no atomic. Boxes are mins and maxes:
// the same whatever the runs.
struct Run {
  kept_index: u32,
  lo: vec3<u32>,
  hi: vec3<u32>,
}

var<private> runs: array<Run, 2>;

fn end_run(which: u32) {
  let r = runs[which];
  if (r.kept_index != NONE) {
    grow(r.kept_index, r.lo);
    grow(r.kept_index, r.hi);
  }
  runs[which].kept_index = NONE;
}

// A class of a label, if it is kept.
fn grow_label(which: u32, label: u32, c: vec3<u32>) {
  if (label < params.first_class || label >= params.first_class + params.kept) {
    return;
  }
  let k = label - params.first_class;
  if (runs[which].kept_index == k) {
    runs[which].lo = min(runs[which].lo, c);
    runs[which].hi = max(runs[which].hi, c);
  } else {
    end_run(which);
    runs[which] = Run(k, c, c);
  }
}

fn label_voxel(sample: u32, v: u32, c: vec3<u32>) {
  let lp = pred_label(sample, v);
  let lt = target_label(sample, v);
  let global_voxel = sample * params.sample_voxels + v;
  if (lp >= params.classes) {
    note_fault(FAULT_LABEL, global_voxel);
  } else {
    grow_label(0u, lp, c);
  }
  if (lt >= params.classes) {
    note_fault(FAULT_LABEL, global_voxel);
  } else {
    grow_label(1u, lt, c);
  }
}

fn dense_voxel(sample: u32, v: u32, c: vec3<u32>) {
  for (var k = 0u; k < params.classes; k++) {
    let p = pred_value(sample, k, v);
    let t = target_value(sample, k, v);
    if (not_binary(p)) {
      note_fault(FAULT_PRED, input_element(sample, k, v) + params.element_base);
    }
    if (not_binary(t)) {
      note_fault(FAULT_TARGET, input_element(sample, k, v) + params.element_base);
    }
    if ((p == 1.0 || t == 1.0) && k >= params.first_class) {
      grow(k - params.first_class, c);
    }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  clear_faults(tid);
  for (var i = tid; i < params.kept * 6u; i += WORKGROUP_SIZE) {
    atomicStore(&local_boxes[i], select(0u, 0xffffffffu, i % 6u < 3u));
  }
  workgroupBarrier();
  let sample = params.sample_base + wg.x / params.chunks;
  let range = chunk_range(wg.x % params.chunks, params.sample_voxels);
  let dense = params.pred_kind == KIND_DENSE;
  runs[0].kept_index = NONE;
  runs[1].kept_index = NONE;
  var walk = range_walk(range.x, range.y, tid);
  while (range_next(&walk)) {
    if (dense) {
      dense_voxel(sample, walk.v, walk.c);
    } else {
      label_voxel(sample, walk.v, walk.c);
    }
  }
  end_run(0u);
  end_run(1u);
  workgroupBarrier();
  flush_faults(tid);
  for (var k = tid; k < params.kept; k += WORKGROUP_SIZE) {
    let at = k * 6u;
    if (atomicLoad(&local_boxes[at]) == 0xffffffffu) {
      continue;
    }
    let pair = (sample * params.kept + k) * 8u;
    for (var a = 0u; a < 3u; a++) {
      atomicMin(&boxes[pair + a], atomicLoad(&local_boxes[at + a]));
      atomicMax(&boxes[pair + 4u + a], atomicLoad(&local_boxes[at + 3u + a]));
    }
  }
}
