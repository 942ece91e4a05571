// How the classic losses' vec4 reduce kernels read pred: vec4<f32> units. Its variant
// lib/dice_pred_vec4_f16.wgsl (predType 'f16', composed in its place by src/kernels/sources.ts)
// reads vec4<f16>; the kernels widen every unit to f32 as they read it.

@group(0) @binding(1) var<storage, read> pred: array<vec4<f32>>;

// Elements per unit (fault indices).
const UNIT_WIDTH: u32 = 4u;
