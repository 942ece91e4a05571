// The finalize side of lib/faults.wgsl (included with `// #include "lib/fault_fold.wgsl"`):
// folds the passes' workgroup records into the status buffer. The including kernel declares
// `faults: array<vec4<u32>>` (read_write) and `status: array<u32>` (read_write).

// #include "lib/faults.wgsl"

// In a one-workgroup finalize: folds `records` workgroup records into the first 8 words of
// `status` (counts, then first indices; see decodeStatus in src/runtime/status.ts). Every thread
// of the workgroup must call it.
fn fold_faults(tid: u32, records: u32) {
  clear_faults(tid);
  workgroupBarrier();
  var counts = vec4<u32>(0u);
  var first = vec4<u32>(NO_INDEX);
  for (var r = tid; r < records; r += WORKGROUP_SIZE) {
    counts += faults[r * 2u];
    first = min(first, faults[r * 2u + 1u]);
  }
  for (var k = 0u; k < 4u; k++) {
    if (counts[k] != 0u) {
      atomicAdd(&workgroup_faults[k], counts[k]);
      atomicMin(&workgroup_faults[k + 4u], first[k]);
    }
  }
  workgroupBarrier();
  if (tid < 8u) {
    status[tid] = atomicLoad(&workgroup_faults[tid]);
  }
}

// After fold_faults: whether any fault was counted (the loss computed from such input is NaN).
fn input_faults_counted() -> bool {
  return atomicLoad(&workgroup_faults[0]) + atomicLoad(&workgroup_faults[1]) + atomicLoad(&workgroup_faults[2]) +
    atomicLoad(&workgroup_faults[3]) != 0u;
}
