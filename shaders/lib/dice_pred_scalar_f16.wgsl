// pred as f16 units (predType 'f16'): a variant of lib/dice_pred_scalar.wgsl.
enable f16;

@group(0) @binding(1) var<storage, read> pred: array<f16>;

const UNIT_WIDTH: u32 = 1u;
