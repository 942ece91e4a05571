// f32 elements rounded to f16, one window of a flat tensor: a loss whose passes write an f32
// gradient volume (clDice's backward) hands an f16 gradient over through this pass
// (src/program/f16-convert.ts), rounded as lib/f16_rounding.wgsl says.

// #include "lib/f16_rounding.wgsl"
// #include "lib/f16_convert.wgsl"

@group(0) @binding(1) var<storage, read> full_values: array<f32>;
@group(0) @binding(2) var<storage, read_write> half_values: array<f16>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  for (var i = id.x; i < params.count; i += grid_stride(groups)) {
    half_values[i] = to_f16(full_values[i]);
  }
}
