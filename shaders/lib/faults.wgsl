// Input faults found by a pass (included with `// #include "lib/faults.wgsl"`): per workgroup,
// how many labels were out of range and how many pred, target and mask values were NaN or
// infinite, with the first global index of each. Integer atomics on workgroup memory: counts
// and minima do not depend on the order threads arrive in, so the record is deterministic, and
// a thread touches them only when it found a fault (never on clean data).
// The including kernel declares `faults: array<vec4<u32>>` (read_write) and WORKGROUP_SIZE.

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

// After a barrier that follows the last note_fault: the workgroup's record, two vec4 at `slot`.
fn store_faults(tid: u32, slot: u32) {
  if (tid == 0u) {
    faults[slot * 2u] = vec4<u32>(
      atomicLoad(&workgroup_faults[0]), atomicLoad(&workgroup_faults[1]),
      atomicLoad(&workgroup_faults[2]), atomicLoad(&workgroup_faults[3]));
    faults[slot * 2u + 1u] = vec4<u32>(
      atomicLoad(&workgroup_faults[4]), atomicLoad(&workgroup_faults[5]),
      atomicLoad(&workgroup_faults[6]), atomicLoad(&workgroup_faults[7]));
  }
}
