// f32 -> f16 with IEEE rounding for every value (included with `// #include "lib/f16_rounding.wgsl"`
// by the f16 gradient variants): WGSL leaves the conversion of a value beyond f16's range
// undefined, so the infinities (|v| >= 65520 rounds up to them) and NaN are written from their bits.
enable f16;

fn to_f16(v: f32) -> f16 {
  if (abs(v) < 65520.0) {
    return f16(v);
  }
  // (x: +-infinity, y: NaN)
  let special = bitcast<vec2<f16>>(select(0xfc00u, 0x7c00u, v > 0.0) | 0x7e000000u);
  return select(special.y, special.x, abs(v) >= 65520.0);
}
