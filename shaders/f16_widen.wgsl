// f16 elements widened to f32, one window of a flat tensor: a loss whose passes read f32 volumes
// (clDice's stencils) takes f16 predictions through this pass (src/program/f16-convert.ts).
// Exact: every f16 value, NaN and infinities included, is an f32 value.
enable f16;

struct ConvertParams {
  count: u32,
}

@group(0) @binding(0) var<uniform> params: ConvertParams;
@group(0) @binding(1) var<storage, read> half_values: array<f16>;
@group(0) @binding(2) var<storage, read_write> full_values: array<f32>;

override WORKGROUP_SIZE: u32 = 256u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  // Grid-stride: neighbouring threads take neighbouring elements, the grid walks the window as one front.
  for (var i = id.x; i < params.count; i += groups.x * WORKGROUP_SIZE) {
    full_values[i] = f32(half_values[i]);
  }
}
