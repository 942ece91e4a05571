// clDice's pooling, with torch's choices (MONAI's soft_erode / soft_dilate), shared by the
// passes that read a volume from storage (lib/cldice_pool.wgsl, software plans) and those that
// read it from workgroup memory (lib/cldice_tile.wgsl, GPU plans). The includer says where a
// cell's value is: `struct Site` (which volume, and where it is held) and
// `fn pooled(site: Site, at: vec3<i32>) -> f32` for a cell at coordinates (d, h, w) of that
// volume, and `fn sizes() -> vec3<i32>`.
// - soft_erode: min over axes of 3-wide min-pools along each axis; torch's min-pool is
//   -maxpool(-x), whose gradient goes to the FIRST minimum of the window in scan order;
// - soft_dilate: 3x3(x3) max-pool, gradient to the FIRST maximum in scan order (d, h, w);
// - padding never wins: out-of-volume cells are skipped, never read.
// Min and max are exact in f32, so these choices are the ones torch makes in float64.

// #include "lib/cldice_window.wgsl"

fn in_volume(at: vec3<i32>) -> bool {
  return all(at >= vec3<i32>(0)) && all(at < sizes());
}

// The unit step along `axis` (0: d, 1: h, 2: w), without indexing a vector by a variable.
fn axis_step(axis: u32) -> vec3<i32> {
  return vec3<i32>(vec3<u32>(axis) == vec3<u32>(0u, 1u, 2u));
}

// The `axis` entry of v, without indexing a vector by a variable.
fn axis_entry(v: vec3<f32>, axis: u32) -> f32 {
  return select(select(v.x, v.y, axis == 1u), v.z, axis == 2u);
}

// The axes soft_erode pools along: (h, w) in 2D, (d, h, w) in 3D.
fn first_erode_axis() -> u32 {
  return select(0u, 1u, SPATIAL_DIMS == 2u);
}

// The first minimum along `axis` at offsets -1, 0, +1 inside the volume; the lower neighbour
// comes first in scan order, so it wins a tie.
fn argmin_along(site: Site, at: vec3<i32>, axis: u32) -> vec3<i32> {
  let step = axis_step(axis);
  var best = at;
  let lower = at - step;
  if (in_volume(lower) && pooled(site, lower) <= pooled(site, at)) {
    best = lower;
  }
  let upper = at + step;
  if (in_volume(upper) && pooled(site, upper) < pooled(site, best)) {
    best = upper;
  }
  return best;
}

// Each axis pool's value at `at` (the d entry is unused in 2D).
fn axis_minima(site: Site, at: vec3<i32>) -> vec3<f32> {
  var values = vec3<f32>(0.0);
  if (SPATIAL_DIMS == 3u) {
    values.x = pooled(site, argmin_along(site, at, 0u));
  }
  values.y = pooled(site, argmin_along(site, at, 1u));
  values.z = pooled(site, argmin_along(site, at, 2u));
  return values;
}

fn erode_value(site: Site, at: vec3<i32>) -> f32 {
  let v = axis_minima(site, at);
  let hw = min(v.y, v.z);
  return select(min(v.x, hw), hw, SPATIAL_DIMS == 2u);
}

// torch.min(a, b) backward: the smaller takes the gradient, a tie gives each half.
fn min_shares(a: f32, b: f32) -> vec2<f32> {
  if (a < b) { return vec2<f32>(1.0, 0.0); }
  if (a > b) { return vec2<f32>(0.0, 1.0); }
  return vec2<f32>(0.5, 0.5);
}

// The share of each axis pool in soft_erode's gradient at `at`: 2D min(p_h, p_w), 3D
// min(min(p_d, p_h), p_w), as MONAI nests them.
fn erode_shares(site: Site, at: vec3<i32>) -> vec3<f32> {
  let v = axis_minima(site, at);
  if (SPATIAL_DIMS == 2u) {
    return vec3<f32>(0.0, min_shares(v.y, v.z));
  }
  let inner = min_shares(v.x, v.y);
  let outer = min_shares(min(v.x, v.y), v.z);
  return vec3<f32>(inner * outer.x, outer.y);
}

// The 3x3(x3) window around `at` clipped to the volume, as offsets from `at`.
struct Window {
  low: vec3<i32>,
  high: vec3<i32>,
}

fn window_at(at: vec3<i32>) -> Window {
  return Window(max(at - vec3<i32>(1), vec3<i32>(0)) - at, min(at + vec3<i32>(1), sizes() - vec3<i32>(1)) - at);
}

// soft_dilate at `at`: the code of the first maximum in scan order and its value.
struct DilateChoice {
  code: u32,
  value: f32,
}

fn dilate_choice(site: Site, at: vec3<i32>) -> DilateChoice {
  let window = window_at(at);
  var best = DilateChoice(WINDOW, 0.0);
  // Scan order: d, then h, then w, each ascending.
  for (var od = window.low.x; od <= window.high.x; od++) {
    for (var oh = window.low.y; oh <= window.high.y; oh++) {
      for (var ow = window.low.z; ow <= window.high.z; ow++) {
        let offset = vec3<i32>(od, oh, ow);
        let value = pooled(site, at + offset);
        // Strictly greater: an equal value later in scan order does not replace the first.
        if (best.code == WINDOW || value > best.value) {
          best = DilateChoice(window_code(offset), value);
        }
      }
    }
  }
  return best;
}
