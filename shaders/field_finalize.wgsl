// Distance-field losses, finalize: the loss from the forward partials, and the coefficients of
// the backward pass. One workgroup.
//
// mode 0, Hausdorff-DT: cells are the pairs, or with `batch` (mode_2 bit 3) the kept classes
// (a cell pools its samples); f[cell] = sum of its pairs' partials (samples, then chunks, in
// order) * scalar_1 (1 / the voxels a cell averages over). Reduction (mode_2 bits 0-1): 0 mean,
// 1 sum, 2 none (the loss is the sum of the values, each its own output); bit 2: log(1 + x)
// after the reduction (LogHausdorffDTLoss; element-wise for none). values[cell] = the cell's
// value (after log for none), coefs[pair] = d(loss)/d(f[its cell]) * 2 * scalar_1, so that
// d(loss)/dp = coefs[pair] (p - t) w.
// mode 1, boundary: B = (sum of every partial) / scalar_1 (the element count); the family's
// loss gets lambda B added (lambda = scalar_0), in `loss` and in the status words; values[0] = B,
// coefs[0] = lambda / count, so that d(loss)/dp += coefs[0] phi.

// #include "lib/surface_grid.wgsl"

@group(0) @binding(1) var<storage, read> partials: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> coefs: array<f32>;
@group(0) @binding(3) var<storage, read_write> values: array<f32>;
@group(0) @binding(4) var<storage, read_write> loss: array<f32>;
@group(0) @binding(5) var<storage, read_write> status: array<u32>;

const REDUCTION_MEAN: u32 = 0u;
const REDUCTION_SUM: u32 = 1u;
const REDUCTION_NONE: u32 = 2u;

fn pair_sum(pair: u32) -> f32 {
  var total = 0.0;
  for (var chunk = 0u; chunk < params.chunks; chunk++) {
    total += partials[pair * params.chunks + chunk].x;
  }
  return total;
}

fn set_loss(value: f32) {
  loss[0] = value;
  status[8] = bitcast<u32>(value);
}

fn boundary() {
  var total = 0.0;
  for (var pair = 0u; pair < params.pairs; pair++) {
    total += pair_sum(pair);
  }
  let b = total / params.scalar_1;
  set_loss(loss[0] + params.scalar_0 * b);
  values[0] = b;
  coefs[0] = params.scalar_0 / params.scalar_1;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32) {
  if (params.mode == 1u) {
    if (tid == 0u) {
      boundary();
    }
    return;
  }
  let reduction = params.mode_2 & 3u;
  let log_after = (params.mode_2 & 4u) != 0u;
  let pooled = (params.mode_2 & 8u) != 0u;
  let cells = select(params.pairs, params.kept, pooled);
  let samples = params.pairs / params.kept;
  for (var cell = tid; cell < cells; cell += WORKGROUP_SIZE) {
    var f = 0.0;
    if (pooled) {
      for (var s = 0u; s < samples; s++) {
        f += pair_sum(s * params.kept + cell);
      }
    } else {
      f = pair_sum(cell);
    }
    values[cell] = f * params.scalar_1;
  }
  storageBarrier();
  workgroupBarrier();
  if (tid != 0u) {
    return;
  }
  var total = 0.0;
  for (var cell = 0u; cell < cells; cell++) {
    total += values[cell];
  }
  var value = total;
  var scale = 1.0;
  if (reduction == REDUCTION_MEAN) {
    value = total / f32(cells);
    scale = 1.0 / f32(cells);
  }
  if (reduction == REDUCTION_NONE) {
    // Each value is its own output; the loss is their sum (what the gradient is of).
    var sum = 0.0;
    for (var pair = 0u; pair < params.pairs; pair++) {
      let f = values[select(pair, pair % params.kept, pooled)];
      coefs[pair] = select(1.0, 1.0 / (1.0 + f), log_after) * 2.0 * params.scalar_1;
    }
    for (var cell = 0u; cell < cells; cell++) {
      let f = values[cell];
      let out = select(f, log(1.0 + f), log_after);
      values[cell] = out;
      sum += out;
    }
    set_loss(sum);
    return;
  }
  if (log_after) {
    scale /= 1.0 + value;
    value = log(1.0 + value);
  }
  set_loss(value);
  for (var pair = 0u; pair < params.pairs; pair++) {
    coefs[pair] = scale * 2.0 * params.scalar_1;
  }
}
