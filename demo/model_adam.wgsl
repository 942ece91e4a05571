// Adam step for the demo's model: adds the per-chunk gradient partials in a fixed order and
// updates every parameter with bias-corrected first and second moments.

const PARAMETERS: u32 = 178u;

struct AdamParams {
  chunks: u32,
  // 1-based step number, for the bias correction.
  step: u32,
  learning_rate: f32,
  beta1: f32,
  beta2: f32,
  epsilon: f32,
  pad0: u32,
  pad1: u32,
}

@group(0) @binding(0) var<uniform> params: AdamParams;
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> weights: array<f32>;
// [PARAMETERS] first moments, then [PARAMETERS] second moments.
@group(0) @binding(3) var<storage, read_write> moments: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) parameter: u32) {
  if (parameter >= PARAMETERS) {
    return;
  }
  var g = 0.0;
  for (var chunk = 0u; chunk < params.chunks; chunk++) {
    g += partials[chunk * PARAMETERS + parameter];
  }
  let m = params.beta1 * moments[parameter] + (1.0 - params.beta1) * g;
  let v = params.beta2 * moments[PARAMETERS + parameter] + (1.0 - params.beta2) * g * g;
  moments[parameter] = m;
  moments[PARAMETERS + parameter] = v;
  let t = f32(params.step);
  let m_hat = m / (1.0 - pow(params.beta1, t));
  let v_hat = v / (1.0 - pow(params.beta2, t));
  weights[parameter] -= params.learning_rate * m_hat / (sqrt(v_hat) + params.epsilon);
}
