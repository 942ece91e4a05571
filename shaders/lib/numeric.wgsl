// Numeric helpers shared by the kernels (included with `// #include "lib/numeric.wgsl"`).

// NaN and +-Inf have every exponent bit set; testing the bits cannot be optimised away the
// way `x != x` can under fast-math compilers.
fn is_finite(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u;
}

fn all_finite(x: vec4<f32>) -> bool {
  return all((bitcast<vec4<u32>>(x) & vec4<u32>(0x7f800000u)) != vec4<u32>(0x7f800000u));
}

// A quiet NaN: what a loss from faulty input is. WGSL rejects a NaN constant expression, so the
// bits come from a variable.
fn quiet_nan() -> f32 {
  var bits = 0x7fc00000u;
  return bitcast<f32>(bits);
}

// Both branches stay finite for any finite z.
fn sigmoid(z: f32) -> f32 {
  if (z >= 0.0) {
    return 1.0 / (1.0 + exp(-z));
  }
  let e = exp(z);
  return e / (1.0 + e);
}

// tanh from exp(-2|z|) <= 1, finite for any finite z (a tanh built on exp(2z) is not).
fn stable_tanh(z: f32) -> f32 {
  let e = exp(-2.0 * abs(z));
  return sign(z) * (1.0 - e) / (1.0 + e);
}

// log(1 + exp(x)) without overflow.
fn softplus(x: f32) -> f32 {
  return max(x, 0.0) + log(1.0 + exp(-abs(x)));
}

// x^gamma for x in [0, 1] with 0^0 = 1 (WGSL leaves pow(0, y) to the implementation).
fn power_from_zero(x: f32, gamma: f32) -> f32 {
  if (gamma == 0.0) {
    return 1.0;
  }
  if (x <= 0.0) {
    return 0.0;
  }
  return pow(x, gamma);
}
