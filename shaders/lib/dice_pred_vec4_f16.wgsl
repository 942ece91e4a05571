// pred as vec4<f16> units (predType 'f16'): a variant of lib/dice_pred_vec4.wgsl.
enable f16;

@group(0) @binding(1) var<storage, read> pred: array<vec4<f16>>;

const UNIT_WIDTH: u32 = 4u;
