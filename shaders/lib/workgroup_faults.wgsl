// A workgroup's input-fault counters (included with `// #include "lib/workgroup_faults.wgsl"`):
// per fault kind a count and the first global index, integer atomics on workgroup memory, so the
// record does not depend on the order threads arrive in. Where a workgroup's record goes:
// lib/faults.wgsl (a record per workgroup, folded by a finalize) or lib/surface_faults.wgsl
// (global atomics into the status words).

const NO_INDEX: u32 = 0xffffffffu;
const FAULT_LABEL: u32 = 0u;
const FAULT_PRED: u32 = 1u;
const FAULT_TARGET: u32 = 2u;
const FAULT_MASK: u32 = 3u;

// Counts in 0..3, first indices in 4..7.
var<workgroup> workgroup_faults: array<atomic<u32>, 8>;

// Before the workgroup's first fault; a barrier must follow before any note_fault.
fn clear_faults(tid: u32) {
  if (tid < 4u) {
    atomicStore(&workgroup_faults[tid], 0u);
    atomicStore(&workgroup_faults[tid + 4u], NO_INDEX);
  }
}

fn note_fault(kind: u32, index: u32) {
  atomicAdd(&workgroup_faults[kind], 1u);
  atomicMin(&workgroup_faults[kind + 4u], index);
}

