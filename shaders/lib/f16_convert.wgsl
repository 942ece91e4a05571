// What f16_widen.wgsl and f16_narrow.wgsl share: one window's element count, walked by the
// whole grid (neighbouring threads take neighbouring elements, the grid moves as one front).

struct ConvertParams {
  count: u32,
}

@group(0) @binding(0) var<uniform> params: ConvertParams;

override WORKGROUP_SIZE: u32 = 256u;

// The step from one element of a thread to its next.
fn grid_stride(groups: vec3<u32>) -> u32 {
  return groups.x * WORKGROUP_SIZE;
}
