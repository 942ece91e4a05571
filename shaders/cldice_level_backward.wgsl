// clDice backward, one level j in one pass (levels run K + 1 down to 0). With x_j = `level`
// (x_0 = pred), x_{j+1} = soft_erode(x_j) and delta_j = relu(x_j - soft_dilate(x_{j+1})), x_j
// is used three times, so its gradient G_j = dL/dx_j gathers three terms:
//   G_j = gd_j + erode^T(G_{j+1}) - dilate^T(gd_{j-1})
// - gd_j = dL/d delta_j through delta_j's relu (x_j's own use), from the skeleton recurrence
//   skel_j = skel_{j-1} + relu(delta_j - skel_{j-1} delta_j): with g_j = dL/d skel_j and
//   m = [delta_j - skel_{j-1} delta_j > 0] (relu'(0) = 0),
//     gd_j = g_j m (1 - skel_{j-1}) [delta_j > 0]   (level 0: gd_0 = g_0 [delta_0 > 0]),
//     g_{j-1} = g_j (1 - m delta_j);
//   the top g_K comes from the loss: c.x t + c.y (finalize's coefficients);
// - erode^T(G_{j+1}): element q of x_j visits, axis by axis, the cells p = q + o (o = -1, 0, +1
//   along the axis) whose 3-wide min-pool covers q; where that pool chose q, q takes the pool's
//   share of p's gradient (erode_shares: torch.min halves ties);
// - dilate^T(gd_{j-1}): soft_open_{j-1} = soft_dilate(x_j), so q gathers, in window-code order,
//   gd_{j-1} of the cells whose 3x3(x3) max-pool chose q (fixed order, no atomics).
// The sum is formed in that order: gd_j, the erode terms, then the dilate terms subtracted.
// TOP (j = K + 1) has only the dilate term; FINAL (j = 0) has no dilate term and adds the
// terms the loss has in pred directly (tsens numerator, soft Dice), writing dL/d pred, and 0
// on the background. A middle pass also hands g_{j-1} down; TOP hands down g_K.
// A tile reads x_j with a halo of 2 into workgroup memory, and works out gd_{j-1} and the
// dilation's choices over a halo of 1 there (lib/cldice_tile.wgsl).

// #include "lib/cldice_tile_run.wgsl"
// #include "lib/cldice_erode_gather.wgsl"

// j = K + 1: G_{K+1} = -dilate^T(gd_K), with g_K from the loss (and handed down in g_out).
override TOP: bool = false;
// j = 0: dL/d pred.
override FINAL: bool = false;
// j - 1 = 0: gd_{j-1} = g_0 [delta_0 > 0] (skel_0 = delta_0; `skeleton_lower` unused).
override LOWER_FIRST: bool = false;

// (PREC_T, PREC_1, SENS_ST, DICE_T), (DICE_1, 0, 0, 0): see cldice_finalize.wgsl.
@group(0) @binding(1) var<storage, read> coefficients: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> target_values: array<f32>;
@group(0) @binding(3) var<storage, read> target_skeleton: array<f32>;
// x_j (TOP: x_{K+1}).
@group(0) @binding(4) var<storage, read> level: array<f32>;
// G_{j+1} (unused by TOP).
@group(0) @binding(5) var<storage, read> grad_next: array<f32>;
// g_j (unused by TOP).
@group(0) @binding(6) var<storage, read> g_in: array<f32>;
// delta_j, skel_{j-1} (unused by TOP; skel unused by FINAL).
@group(0) @binding(7) var<storage, read> delta_upper: array<f32>;
@group(0) @binding(8) var<storage, read> skeleton_upper: array<f32>;
// delta_{j-1}, skel_{j-2} (TOP: delta_K, skel_{K-1}; unused by FINAL).
@group(0) @binding(9) var<storage, read> delta_lower: array<f32>;
@group(0) @binding(10) var<storage, read> skeleton_lower: array<f32>;
// G_j (FINAL: dL/d pred).
@group(0) @binding(11) var<storage, read_write> grad_level: array<f32>;
// g_{j-1} (TOP: g_K; unused by FINAL).
@group(0) @binding(12) var<storage, read_write> g_out: array<f32>;

// gd_{j-1} and the choice of soft_dilate(x_j) over a halo of 1 (x_j is in `wide`: lib/cldice_tile_run.wgsl).
var<workgroup> lower_grad: array<f32, NARROW_CAPACITY>;
var<workgroup> lower_choice: array<u32, NARROW_CAPACITY>;

// dL/d skel_K: the loss's coefficients on the target (tiles other than FINAL's are foreground).
fn loss_g(i: u32) -> f32 {
  let c = coefficients[0];
  return c.x * target_values[i] + c.y;
}

// gd at a level k >= 1 from g_k, delta_k and skel_{k-1}.
fn grad_delta(g: f32, d: f32, s: f32) -> f32 {
  return select(0.0, select(0.0, g * (1.0 - s), d - s * d > 0.0), d > 0.0);
}

// g_{k-1} from g_k, delta_k and skel_{k-1}.
fn g_below(g: f32, d: f32, s: f32) -> f32 {
  return select(g, g * (1.0 - d), d - s * d > 0.0);
}

// gd_{j-1} at element i.
fn lower_grad_delta(i: u32) -> f32 {
  var g: f32;
  if (TOP) {
    g = loss_g(i);
  } else {
    g = g_below(g_in[i], delta_upper[i], skeleton_upper[i]);
  }
  let d = delta_lower[i];
  if (LOWER_FIRST) {
    return select(0.0, g, d > 0.0);
  }
  return grad_delta(g, d, skeleton_lower[i]);
}

// G_{j+1} for the erode gather (lib/cldice_erode_gather.wgsl).
fn next_gradient(site: Site, at: vec3<i32>) -> f32 {
  return grad_next[local_element(site.volume, at)];
}

// `sum` minus dilate^T(gd_{j-1}) at q, term by term: the cells p = q - offset whose window
// chose q, in window-code order.
fn subtract_dilate_terms(tile: Tile, volume: u32, here: vec3<i32>, start: f32) -> f32 {
  // p = here - offset must lie in the volume: offset in [here - (size - 1), here] and [-1, 1].
  let low = max(here - sizes() + vec3<i32>(1), vec3<i32>(-1));
  let high = min(here, vec3<i32>(1));
  var sum = start;
  for (var od = low.x; od <= high.x; od++) {
    for (var oh = low.y; oh <= high.y; oh++) {
      for (var ow = low.z; ow <= high.z; ow++) {
        let offset = vec3<i32>(od, oh, ow);
        let p = box_index(tile, volume, here - offset, 1u);
        if (lower_choice[p] == window_code(offset)) {
          sum -= lower_grad[p];
        }
      }
    }
  }
  return sum;
}

// The last pass's grid holds the background too, where it writes 0 and reads no x.
fn reads_level(volume: u32) -> bool {
  return !is_background(volume);
}

fn tile_step(tile: Tile, tid: u32) {
  if (!FINAL) {
    for (var i = tid; i < box_cells(1u); i += WORKGROUP_SIZE) {
      let cell = box_cell(tile, i, 1u);
      if (cell.inside) {
        lower_grad[i] = lower_grad_delta(local_element(cell.volume, cell.at));
        lower_choice[i] = dilate_choice(Site(tile, cell.volume), cell.at).code;
      }
    }
    workgroupBarrier();
  }
  let cell = thread_cell(tile, tid);
  if (cell.inside) {
    let i = local_element(cell.volume, cell.at);
    if (FINAL && is_background(cell.volume)) {
      grad_level[i] = 0.0;
    } else if (TOP) {
      g_out[i] = loss_g(i);
      grad_level[i] = subtract_dilate_terms(tile, cell.volume, cell.at, 0.0);
    } else {
      let g = g_in[i];
      let d = delta_upper[i];
      var sum: f32;
      if (FINAL) {
        sum = select(0.0, g, d > 0.0);
      } else {
        let s = skeleton_upper[i];
        sum = grad_delta(g, d, s);
        g_out[i] = g_below(g, d, s);
      }
      sum = add_erode_terms(Site(tile, cell.volume), cell.at, sum);
      if (FINAL) {
        let c0 = coefficients[0];
        sum += c0.z * target_skeleton[i] + c0.w * target_values[i] + coefficients[1].x;
      } else {
        sum = subtract_dilate_terms(tile, cell.volume, cell.at, sum);
      }
      grad_level[i] = sum;
    }
  }
}
