// How the classic losses' scalar reduce kernel reads pred: f32 units. Its variant
// lib/dice_pred_scalar_f16.wgsl (predType 'f16') reads f16, widened to f32 as it is read.

@group(0) @binding(1) var<storage, read> pred: array<f32>;

// Elements per unit (fault indices).
const UNIT_WIDTH: u32 = 1u;
