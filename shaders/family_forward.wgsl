// Loss-family forward pass 1: per-workgroup partial sums for every Dice-family loss, read
// voxel by voxel. A thread reads a voxel's logits once, applies the activation once (softmax
// and argmax see the whole class vector right there, so no statistics pre-pass exists) and
// accumulates the sums of a block of up to BLOCK_CLASSES classes in registers; wg.y picks the
// block, so C > BLOCK_CLASSES re-reads only the logits a softmax normalises over.
//
// Per (sample, class) pair and chunk it writes up to two vec4, in fixed order:
//   (I = sum w*p*g, P = sum w*p^ord, G = sum w*g^ord, T = sum w*min(p, g))
//   (AUX = sum w*aux, M = sum w*g, F+ = sum w*focal*g, F- = sum w*focal*(1 - g))
// but only the sums its loss needs: I except in the soft-label L1 form, T only there, AUX with a
// cross-entropy, M only where it differs from G (squared or absolute sums; the finalize reads G
// otherwise), F+ and F- with a focal term (F- in the sigmoid form). A sum it does not need is
// never added to (a constant zero costs no register), and the second vec4 is not stored at all
// when it holds none; src/program/family.ts derives the switches from the modes.
// (T is the soft-label intersection (P + G - sum|p - g|) / 2 summed without its
// cancellation; in the softmax focal form F+ = sum w*focal, F- = 0. With SOFT_ABS, MONAI's
// soft_label, which sums absolute values: P = sum w*|p|, G = sum w*|g| and
// T = sum w*(|p| + |g| - |p - g|) / 2 = sum w*min(|p|, |g|) where p and g have the same sign,
// else 0.) w is the element weight (mask x not-ignored), aux the cross-entropy term on the
// logits (whatever the activation), focal MONAI's focal term on the raw logit;
// family_finalize.wgsl applies alpha and the class weights. aux and focal are summed times
// term_scale, 2^-ceil(log2(elements)), an exact scaling that keeps their sums finite wherever
// their means are (one logit of -3e38 gives a binary cross-entropy term of 3e38, two overflow).
// Faults (labels out of range, non-finite pred, target, mask) go to one record per workgroup
// (lib/faults.wgsl).
//
// Each lane adds at most 2^16 voxels in sequence (the planner caps voxels_per_chunk), then a
// fixed-order sum per class over the workgroup (lib/block_sum.wgsl, or its subgroup variant):
// the sums are bitwise the same on every run.

// #include "lib/family_voxel.wgsl"
// #include "lib/faults.wgsl"
// #include "lib/class_block.wgsl"
// #include "lib/block_sum.wgsl"

// M = sum w*g kept apart from G (squared or absolute sums); else the finalize takes G for it.
override SEPARATE_MASS: bool = false;
// The second vec4 (AUX, M, F+, F-) holds a sum: a cross-entropy, SEPARATE_MASS or a focal term
// (src/program/family.ts tells family_finalize.wgsl the same).
override SUMS_B: bool = false;

@group(0) @binding(4) var<storage, read_write> partials: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> faults: array<vec4<u32>>;

// MONAI's focal term of one element. Sigmoid form, on the logit z:
//   (z - z g - log sigmoid(z)) * exp(gamma * log sigmoid(-z (2g - 1)));
// softmax form, with log_q the log-softmax over the focal classes: -(1 - q)^gamma * log_q * g.
// Returned times params.term_scale (see the header), computed so that logits near f32's limit
// (3e38) give the finite terms they have: log_q = z - lse is formed scaled, and a class with
// g = 0 adds 0 rather than 0 * infinity.
fn focal_term(z: f32, g: f32, lse: f32) -> f32 {
  let scale = params.term_scale;
  if (FOCAL_KIND == FOCAL_SOFTMAX) {
    if (g == 0.0) {
      return 0.0;
    }
    return -power_from_zero(1.0 - exp(z - lse), params.focal_gamma) * (scale * z - scale * lse) * g;
  }
  let bce = z - z * g + softplus(-z);
  return exp(-params.focal_gamma * softplus(z * (2.0 * g - 1.0))) * (scale * bce);
}

// The cross-entropy term of one element on its logit z, times params.term_scale (see focal_term).
fn cross_entropy_term(z: f32, g: f32, lse: f32) -> f32 {
  let scale = params.term_scale;
  if (AUX_KIND == AUX_SOFTMAX_CE) {
    // The log-softmax of the logits, also when the Dice term uses another activation.
    let target_mass = smoothed(g);
    return select(0.0, -target_mass * (scale * z - scale * lse), target_mass != 0.0);
  }
  // Binary cross-entropy with logits, overflow-free.
  return scale * (params.pos_weight * g * softplus(-z) + (1.0 - g) * softplus(z));
}

// One element's (p*g, P term, G term, T term), see the header.
fn dice_terms(p: f32, g: f32) -> vec4<f32> {
  if (SOFT_ABS) {
    let t = select(0.0, min(abs(p), abs(g)), p * g > 0.0);
    return vec4<f32>(p * g, abs(p), abs(g), t);
  }
  return vec4<f32>(p * g, select(p, p * p, SQUARED), select(g, g * g, SQUARED), min(p, g));
}

// Input faults. The voxel loop only ORs these tests into a per-thread flag (arithmetic); a
// thread that saw one re-reads its voxels in note_voxel_faults, which records each fault with
// its index. Clean data so never reaches an atomic (on lavapipe the per-element branches to
// note_fault cost ~7% of the softmax forward).
fn mask_fault(v: Voxel, voxel: u32) -> bool {
  // A shared mask is read by every sample: its values are counted with the first one.
  return MASK_MODE != MASK_NONE && !is_finite(v.mask_value) && (MASK_PER_SAMPLE || voxel < params.spatial);
}

// Out-of-range labels match no class; counted once per voxel.
fn label_fault(v: Voxel) -> bool {
  return TARGET_KIND != TARGET_DENSE && !v.ignored && v.label >= params.classes;
}

// Counted as pred too: with mask: 'logits' a finite logit times a finite mask can overflow f32
// (1e30 x 1e10); a non-finite mask is the mask's fault. (Other modes skip the second test.)
fn pred_fault(raw: f32, v: Voxel) -> bool {
  let overflowed = MASK_MODE == MASK_LOGITS && !is_finite(raw * v.logit_scale) && is_finite(v.logit_scale);
  return !is_finite(raw) | overflowed;
}

fn target_fault(raw_g: f32) -> bool {
  return TARGET_KIND == TARGET_DENSE && !is_finite(raw_g);
}

// Records the faults of one voxel's block of classes (the slow path, see above).
fn note_voxel_faults(voxel: u32, class_begin: u32, block: u32, first_block: bool) {
  let v = voxel_info(voxel);
  if (first_block && mask_fault(v, voxel)) {
    note_fault(FAULT_MASK, voxel);
  }
  if (first_block && label_fault(v)) {
    note_fault(FAULT_LABEL, voxel);
  }
  for (var k = 0u; k < block; k++) {
    let at = element_index(voxel, class_begin + k);
    if (pred_fault(pred_at(at), v)) {
      note_fault(FAULT_PRED, at + params.element_base);
    }
    if (target_fault(raw_target(v, voxel, class_begin + k))) {
      note_fault(FAULT_TARGET, at + params.element_base);
    }
  }
}

// (z, 1 if a fault) of one logit of the voxel's block, scaled by the mask in mask-the-logits
// mode: from `loaded` where the quads were loaded up front, else read here.
fn scaled_logit(v: Voxel, voxel: u32, class_index: u32, loaded: f32) -> vec2<f32> {
  var raw = loaded;
  if (!classes_in_quads()) {
    raw = pred_at(element_index(voxel, class_index));
  }
  return vec2<f32>(raw * v.logit_scale, select(0.0, 1.0, pred_fault(raw, v)));
}

// The early exit of a loop over a block that does not run to a constant of its own size.
fn past_block(k: u32, block: u32) -> bool {
  return REGISTER_CLASSES == 0u && k >= block;
}

// One class's accumulators: (I, P, G, T) and (AUX, M, F+, F-).
struct Sums {
  a: vec4<f32>,
  b: vec4<f32>,
}

// `sums` plus one element's terms, weighted by w: only the sums the loss needs (see the header).
fn accumulate(sums: Sums, w: f32, p: f32, g: f32, aux: f32, focal: vec2<f32>) -> Sums {
  var s = sums;
  let terms = dice_terms(p, g);
  if (!SOFT_L1) {
    s.a.x += w * terms.x;
  }
  s.a.y += w * terms.y;
  s.a.z += w * terms.z;
  if (SOFT_L1) {
    s.a.w += w * terms.w;
  }
  if (AUX_KIND != AUX_NONE) {
    s.b.x += w * aux;
  }
  if (SEPARATE_MASS) {
    s.b.y += w * g;
  }
  if (FOCAL_KIND != FOCAL_NONE) {
    s.b.z += focal.x;
  }
  if (FOCAL_KIND == FOCAL_SIGMOID) {
    s.b.w += focal.y;
  }
  return s;
}

// `sums` with the components the loss never adds to (see accumulate) set to 0, a constant.
fn accumulated_a(sums: vec4<f32>) -> vec4<f32> {
  return vec4<f32>(select(sums.x, 0.0, SOFT_L1), sums.yz, select(0.0, sums.w, SOFT_L1));
}

fn accumulated_b(sums: vec4<f32>) -> vec4<f32> {
  return vec4<f32>(
    select(0.0, sums.x, AUX_KIND != AUX_NONE),
    select(0.0, sums.y, SEPARATE_MASS),
    select(0.0, sums.z, FOCAL_KIND != FOCAL_NONE),
    select(0.0, sums.w, FOCAL_KIND == FOCAL_SIGMOID),
  );
}

// A chunk cut by a window edge (lib/voxel_grid.wgsl chunk_part): each lane takes up its sums from
// the window before (`save` false: from slot carry_slot - 1), or leaves them for the next (`save`
// true: to slot carry_slot).
fn carry_sums(
  tid: u32,
  block_row: u32,
  classes: vec2<u32>,
  loop_bound: u32,
  sums_a: ptr<function, array<vec4<f32>, CLASS_BLOCK>>,
  sums_b: ptr<function, array<vec4<f32>, CLASS_BLOCK>>,
  save: bool,
) {
  let slot = select(params.carry_slot - 1u, params.carry_slot, save);
  for (var k = 0u; k < loop_bound; k++) {
    if (k >= classes.y) {
      break;
    }
    let a = carry_index(slot, block_row, tid, k, 2u, 0u);
    if (save) {
      carry[a] = (*sums_a)[k];
      if (SUMS_B) {
        carry[a + 1u] = (*sums_b)[k];
      }
    } else {
      // Only the sums the loss adds to: the others stay constant zeros (no registers).
      (*sums_a)[k] = accumulated_a(carry[a]);
      if (SUMS_B) {
        (*sums_b)[k] = accumulated_b(carry[a + 1u]);
      }
    }
  }
}

// Every thread calls this once, after its last voxel: the workgroup's sums of each class of the
// block go to partials, two vec4 per (sample, class) and chunk (the second only where it holds
// a sum). `loop_bound` is the voxel loop's, a constant where it can be, so the arrays are
// indexed by constants and stay in registers.
fn store_sums(
  tid: u32,
  linear: u32,
  classes: vec2<u32>,
  loop_bound: u32,
  sums_a: ptr<function, array<vec4<f32>, CLASS_BLOCK>>,
  sums_b: ptr<function, array<vec4<f32>, CLASS_BLOCK>>,
) {
  for (var k = 0u; k < loop_bound; k++) {
    if (k >= classes.y) {
      break;
    }
    let totals = block_sum(tid, (*sums_a)[k], (*sums_b)[k], SUMS_B);
    if (tid == 0u) {
      let out = class_partial(linear, classes.x + k) * 2u;
      partials[out] = totals.a;
      if (SUMS_B) {
        partials[out + 1u] = totals.b;
      }
    }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let part = chunk_part(wg.x);
  let first = first_voxel(part, tid);
  let classes = class_block(wg.y);
  let class_begin = classes.x;
  let block = classes.y;
  let first_block = wg.y == 0u;
  // Softmax, argmax and the softmax cross-entropy need every class of the voxel; a block
  // holding them all (in registers) uses its own, others re-read them.
  let whole_vector = REGISTER_CLASSES != 0u;
  let needs_lse = ACTIVATION == ACT_SOFTMAX || AUX_KIND == AUX_SOFTMAX_CE;
  // Whether a voxel's terms need its class vector first (max, log-sum-exp, argmax); the
  // element-wise activations read and use each logit in one loop, holding none.
  let vector_pass = needs_lse || ACTIVATION == ACT_ARGMAX;
  clear_faults(tid);
  workgroupBarrier();

  // The loops over the block run to a constant where they can (lib/class_block.wgsl).
  let loop_bound = class_loop_bound(block);
  var sums_a: array<vec4<f32>, CLASS_BLOCK>;
  var sums_b: array<vec4<f32>, CLASS_BLOCK>;
  var logits: array<f32, CLASS_BLOCK>;
  // exp(z - max) of each class, when one block in registers holds the whole vector: the
  // softmax then costs C exps, not 2C (the log-sum-exp's and p's).
  var exps: array<f32, CLASS_BLOCK>;
  if (part.carried_in) {
    carry_sums(tid, wg.y, classes, loop_bound, &sums_a, &sums_b, false);
  }
  var suspect = false;
  for (var voxel = first; voxel < part.end; voxel += WORKGROUP_SIZE) {
    let v = voxel_info(voxel);
    if (first_block) {
      suspect = suspect | mask_fault(v, voxel) | label_fault(v);
    }

    // Quads are loaded up front; otherwise each logit is read where its fault is checked.
    if (classes_in_quads()) {
      load_register_logits(voxel, &logits);
    }
    var best = 0.0;
    var best_class = 0u;
    if (vector_pass) {
      for (var k = 0u; k < loop_bound; k++) {
        if (past_block(k, block)) {
          break;
        }
        let z = scaled_logit(v, voxel, class_begin + k, logits[k]);
        suspect = suspect | (z.y != 0.0);
        logits[k] = z.x;
        // Strict '>' keeps the first maximum, as torch.argmax does.
        if (k == 0u || z.x > best) {
          best = z.x;
          best_class = class_begin + k;
        }
      }
    }
    var lse = 0.0;
    var total = 0.0;
    if (needs_lse && whole_vector) {
      for (var k = 0u; k < REGISTER_CLASSES; k++) {
        exps[k] = exp(logits[k] - best);
        total += exps[k];
      }
      lse = best + log(total);
    } else if (needs_lse) {
      lse = log_sum_exp(voxel, v.logit_scale, 0u).y;
    }
    if (ACTIVATION == ACT_ARGMAX && !whole_vector) {
      best_class = first_argmax(voxel, v.logit_scale);
    }
    var focal_lse = 0.0;
    if (FOCAL_KIND == FOCAL_SOFTMAX) {
      focal_lse = log_sum_exp(voxel, v.logit_scale, params.focal_first_class).y;
    }

    for (var k = 0u; k < loop_bound; k++) {
      if (past_block(k, block)) {
        break;
      }
      let c = class_begin + k;
      var z = logits[k];
      if (!vector_pass) {
        // Element-wise activations read each logit here: no class vector is held.
        let scaled = scaled_logit(v, voxel, c, logits[k]);
        suspect = suspect | (scaled.y != 0.0);
        z = scaled.x;
      }
      let raw_g = raw_target(v, voxel, c);
      suspect = suspect | target_fault(raw_g);
      let e = target_element(v, raw_g);
      let g = e.x;
      let w = e.y;
      var p: f32;
      switch (ACTIVATION) {
        case ACT_SIGMOID: { p = sigmoid(z); }
        case ACT_SOFTMAX: {
          if (whole_vector) {
            p = exps[k] / total;
          } else {
            p = exp(z - lse);
          }
        }
        case ACT_ARGMAX: { p = select(0.0, 1.0, c == best_class); }
        case ACT_THRESHOLD: { p = select(0.0, 1.0, z > params.threshold); }
        case ACT_TANH: { p = stable_tanh(z); }
        default: { p = z; }
      }
      var aux = 0.0;
      if (AUX_KIND != AUX_NONE) {
        aux = cross_entropy_term(z, g, lse);
      }
      var focal = vec2<f32>(0.0);
      if (FOCAL_KIND != FOCAL_NONE && c >= params.focal_first_class) {
        let f = w * focal_term(z, g, focal_lse);
        // The sigmoid form's alpha weighs g and 1 - g apart; the softmax form's term holds g.
        focal = select(vec2<f32>(f * g, f * (1.0 - g)), vec2<f32>(f, 0.0), FOCAL_KIND == FOCAL_SOFTMAX);
      }
      let sums = accumulate(Sums(sums_a[k], sums_b[k]), w, p, g, aux, focal);
      sums_a[k] = sums.a;
      sums_b[k] = sums.b;
    }
  }

  if (suspect) {
    for (var voxel = first; voxel < part.end; voxel += WORKGROUP_SIZE) {
      note_voxel_faults(voxel, class_begin, block, first_block);
    }
  }

  if (part.carries_out) {
    carry_sums(tid, wg.y, classes, loop_bound, &sums_a, &sums_b, true);
  } else {
    store_sums(tid, part.linear, classes, loop_bound, &sums_a, &sums_b);
  }
  store_faults(tid, fault_record(wg));
}
