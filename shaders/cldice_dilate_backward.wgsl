// clDice backward through open_k = soft_dilate(x_{k+1}) (delta_k = relu(x_k - open_k), so open_k
// receives -dL/d delta_k). A gather: each element q of x_{k+1} adds, in window-code order, the
// gradients of the positions p whose window chose q (choice[p] = code with p + offset = q).
// Fixed order, no atomics.

// #include "lib/cldice_foreground.wgsl"
// #include "lib/cldice_window.wgsl"

// Add onto what `grad_level` holds (x_{k+1}'s gradient from deeper levels) or start from 0.
override ACCUMULATE: bool = false;

@group(0) @binding(1) var<storage, read> choice: array<u32>;
@group(0) @binding(2) var<storage, read> grad_delta: array<f32>;
@group(0) @binding(3) var<storage, read_write> grad_level: array<f32>;

fn foreground_step(element: u32) {
  let s = strides();
  let here = coordinates(element);
  // p = element - offset must lie in the volume: offset in [here - (size - 1), here] and [-1, 1].
  let low = max(here - sizes() + vec3<i32>(1), vec3<i32>(-1));
  let high = min(here, vec3<i32>(1));
  var sum = 0.0;
  if (ACCUMULATE) {
    sum = grad_level[local(element)];
  }
  // Window-code order (d, h, w ascending): a fixed order of the additions.
  for (var od = low.x; od <= high.x; od++) {
    for (var oh = low.y; oh <= high.y; oh++) {
      let row = element - u32(od) * s.x - u32(oh) * s.y;
      for (var ow = low.z; ow <= high.z; ow++) {
        let p = local(row - u32(ow) * s.z);
        if (choice[p] == window_code(vec3<i32>(od, oh, ow))) {
          sum -= grad_delta[p];
        }
      }
    }
  }
  grad_level[local(element)] = sum;
}
