// f16 elements widened to f32, one window of a flat tensor: a loss whose passes read f32 volumes
// (clDice's stencils) takes f16 predictions through this pass (src/program/f16-convert.ts).
// Exact: every f16 value, NaN and infinities included, is an f32 value.
enable f16;

// #include "lib/f16_convert.wgsl"

@group(0) @binding(1) var<storage, read> half_values: array<f16>;
@group(0) @binding(2) var<storage, read_write> full_values: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  for (var i = id.x; i < params.count; i += grid_stride(groups)) {
    full_values[i] = f32(half_values[i]);
  }
}
