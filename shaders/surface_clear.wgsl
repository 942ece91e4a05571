// The first pass of every surface and distance-transform program: resets what later passes
// accumulate with atomics. One workgroup.
//   status      12 words: fault counts 0, first indices NO_INDEX (lib/surface_faults.wgsl), the
//               loss and its parts 0
//   boxes       the first `mode` words: per pair (lo.xyz, pad, hi.xyz, pad), lo = u32 max, hi = 0
//               (surface_box.wgsl shrinks them with atomicMin / atomicMax)
//   histograms  the first `mode_2` words: 0 (the percentile lists' select state, whose lengths
//               surface_gather.wgsl counts up)

// #include "lib/surface_grid.wgsl"

@group(0) @binding(1) var<storage, read_write> status: array<u32>;
@group(0) @binding(2) var<storage, read_write> boxes: array<u32>;
@group(0) @binding(3) var<storage, read_write> histograms: array<u32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32) {
  if (tid < 12u) {
    status[tid] = select(0u, 0xffffffffu, tid >= 4u && tid < 8u);
  }
  for (var i = tid; i < params.mode; i += WORKGROUP_SIZE) {
    boxes[i] = select(0u, 0xffffffffu, i % 8u < 4u);
  }
  for (var i = tid; i < params.mode_2; i += WORKGROUP_SIZE) {
    histograms[i] = 0u;
  }
}
