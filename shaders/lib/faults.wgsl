// Input faults found by a pass (included with `// #include "lib/faults.wgsl"`): per workgroup,
// how many labels were out of range and how many pred, target and mask values were NaN or
// infinite, with the first global index of each. Integer atomics on workgroup memory: counts
// and minima do not depend on the order threads arrive in, so the record is deterministic, and
// a thread touches them only when it found a fault (never on clean data).
// The including kernel declares `faults: array<vec4<u32>>` (read_write) and WORKGROUP_SIZE.

// #include "lib/workgroup_faults.wgsl"

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
