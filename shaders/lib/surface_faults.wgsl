// Input faults of the surface passes (included with `// #include "lib/surface_faults.wgsl"`):
// per workgroup, integer atomics on workgroup memory (counts and first indices, independent of
// the order threads arrive in), then one global atomic per kind into the status words (the
// layout of decodeStatus in src/runtime/status.ts: counts in words 0-3, first indices in 4-7),
// which the program's first pass cleared. A thread touches them only when it found a fault.
// The including kernel declares `status: array<atomic<u32>>` (read_write).

const NO_INDEX: u32 = 0xffffffffu;
// A label >= C in a label map.
const FAULT_LABEL: u32 = 0u;
// pred: not 0 or 1 (a binary mask), or NaN or infinite (a prediction).
const FAULT_PRED: u32 = 1u;
// target: not 0 or 1 (a binary mask), or NaN or infinite (a soft target).
const FAULT_TARGET: u32 = 2u;

var<workgroup> surface_faults: array<atomic<u32>, 8>;

// Before the workgroup's first note_fault, followed by a barrier.
fn clear_faults(tid: u32) {
  if (tid < 4u) {
    atomicStore(&surface_faults[tid], 0u);
    atomicStore(&surface_faults[tid + 4u], NO_INDEX);
  }
}

fn note_fault(kind: u32, index: u32) {
  atomicAdd(&surface_faults[kind], 1u);
  atomicMin(&surface_faults[kind + 4u], index);
}

// After a barrier that follows the workgroup's last note_fault.
fn flush_faults(tid: u32) {
  if (tid < 4u) {
    let count = atomicLoad(&surface_faults[tid]);
    if (count != 0u) {
      atomicAdd(&status[tid], count);
      atomicMin(&status[tid + 4u], atomicLoad(&surface_faults[tid + 4u]));
    }
  }
}

// Neither 0 nor 1 (NaN and infinities included).
fn not_binary(x: f32) -> bool {
  return !(x == 0.0 || x == 1.0);
}
