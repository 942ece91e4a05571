// clDice pooling over the binding `pooled`, with torch's choices (put after cldice_common.wgsl
// in front of the kernels that pool):
// - soft_erode: min over axes of 3-wide min-pools along each axis; torch's min-pool is
//   -maxpool(-x), whose gradient goes to the FIRST minimum of the window in scan order;
// - soft_dilate: 3x3(x3) max-pool, gradient to the FIRST maximum in scan order (d, h, w);
// - padding never wins: out-of-volume positions are skipped, not read.
// Min and max are exact in f32, so these choices are the ones torch makes in float64.

fn pooled_at(element: u32) -> f32 {
  return pooled[local(element)];
}

// The first minimum of pooled along `axis` at offsets -1, 0, +1 inside the volume; `c` is the
// element's coordinate along that axis (callers know it, which saves a division).
fn argmin_along(element: u32, axis: u32, c: i32) -> u32 {
  let stride = strides()[axis];
  var best = element;
  // The lower neighbour comes first in scan order, so it wins a tie.
  if (c > 0 && pooled_at(element - stride) <= pooled_at(element)) {
    best = element - stride;
  }
  if (c + 1 < sizes()[axis] && pooled_at(element + stride) < pooled_at(best)) {
    best = element + stride;
  }
  return best;
}

// The axes soft_erode pools along: (h, w) in 2D, (d, h, w) in 3D.
const FIRST_AXIS_2D: u32 = 1u;
fn first_erode_axis() -> u32 {
  return select(0u, FIRST_AXIS_2D, SPATIAL_DIMS == 2u);
}

// Each axis pool's value at `element`, whose coordinates are `here` (the d entry is unused in 2D).
fn axis_minima(element: u32, here: vec3<i32>) -> vec3<f32> {
  var values = vec3<f32>(0.0);
  for (var axis = first_erode_axis(); axis < 3u; axis++) {
    values[axis] = pooled_at(argmin_along(element, axis, here[axis]));
  }
  return values;
}

fn erode_value(element: u32, here: vec3<i32>) -> f32 {
  let v = axis_minima(element, here);
  let hw = min(v.y, v.z);
  return select(min(v.x, hw), hw, SPATIAL_DIMS == 2u);
}

// torch.min(a, b) backward: the smaller takes the gradient, a tie gives each half.
fn min_shares(a: f32, b: f32) -> vec2<f32> {
  if (a < b) { return vec2<f32>(1.0, 0.0); }
  if (a > b) { return vec2<f32>(0.0, 1.0); }
  return vec2<f32>(0.5, 0.5);
}

// The share of each axis pool in soft_erode's gradient at `element`: 2D min(p_h, p_w),
// 3D min(min(p_d, p_h), p_w), as MONAI nests them.
fn erode_shares(element: u32, here: vec3<i32>) -> vec3<f32> {
  let v = axis_minima(element, here);
  if (SPATIAL_DIMS == 2u) {
    return vec3<f32>(0.0, min_shares(v.y, v.z));
  }
  let inner = min_shares(v.x, v.y);
  let outer = min_shares(min(v.x, v.y), v.z);
  return vec3<f32>(inner * outer.x, outer.y);
}

// soft_dilate at `element`: the code of the first maximum in scan order and its value.
struct DilateChoice {
  code: u32,
  value: f32,
}

fn dilate_choice(element: u32, here: vec3<i32>) -> DilateChoice {
  // The window clipped to the volume, as offsets from `here`.
  let low = max(here - vec3<i32>(1), vec3<i32>(0)) - here;
  let high = min(here + vec3<i32>(1), sizes() - vec3<i32>(1)) - here;
  let s = strides();
  var best = DilateChoice(WINDOW, 0.0);
  // Scan order: d, then h, then w, each ascending.
  for (var od = low.x; od <= high.x; od++) {
    for (var oh = low.y; oh <= high.y; oh++) {
      let row = element + u32(od) * s.x + u32(oh) * s.y;
      for (var ow = low.z; ow <= high.z; ow++) {
        let value = pooled_at(row + u32(ow) * s.z);
        // Strictly greater: an equal value later in scan order does not replace the first.
        if (best.code == WINDOW || value > best.value) {
          best = DilateChoice(window_code(vec3<i32>(od, oh, ow)), value);
        }
      }
    }
  }
  return best;
}
