// Input faults of the surface passes (included with `// #include "lib/surface_faults.wgsl"`):
// per workgroup, the counters of lib/workgroup_faults.wgsl, then one global atomic per kind into
// the status words (the layout of decodeStatus in src/runtime/status.ts: counts in words 0-3,
// first indices in 4-7), which the program's first pass cleared; min and add do not depend on
// the order workgroups arrive in. A thread touches them only when it found a fault. For binary
// masks FAULT_PRED and FAULT_TARGET count values other than 0 and 1; for predictions and soft
// targets, NaN and infinities. The including kernel declares `status: array<atomic<u32>>`.

// #include "lib/workgroup_faults.wgsl"

// After a barrier that follows the workgroup's last note_fault.
fn flush_faults(tid: u32) {
  if (tid < 4u) {
    let count = atomicLoad(&workgroup_faults[tid]);
    if (count != 0u) {
      atomicAdd(&status[tid], count);
      atomicMin(&status[tid + 4u], atomicLoad(&workgroup_faults[tid + 4u]));
    }
  }
}

// Neither 0 nor 1 (NaN and infinities included).
fn not_binary(x: f32) -> bool {
  return !(x == 0.0 || x == 1.0);
}
