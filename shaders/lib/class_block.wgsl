// The per-class partial sums of the voxel-major forward passes (family_forward.wgsl,
// wasserstein_forward.wgsl; included with `// #include "lib/class_block.wgsl"`): a workgroup
// accumulates a block of up to CLASS_BLOCK classes (wg.y picks the block) in registers, two vec4
// per class, and stores them after one fixed-order tree per class. The including kernel
// declares `partials: array<vec4<f32>>` (read_write) and includes lib/voxel_grid.wgsl.

// Unroll loops over a block to CLASS_BLOCK (GPUs); off on software adapters, whose compiler
// then spends far longer (src/program/family.ts decides).
override UNROLL_CLASS_BLOCK: bool = false;

var<workgroup> block_a: array<vec4<f32>, WORKGROUP_SIZE>;
var<workgroup> block_b: array<vec4<f32>, WORKGROUP_SIZE>;

// The classes [x, x + y) of workgroup row `block_row`.
fn class_block(block_row: u32) -> vec2<u32> {
  let begin = block_row * CLASS_BLOCK;
  return vec2<u32>(begin, min(CLASS_BLOCK, params.classes - begin));
}

// Every thread of the workgroup calls this once, after its last voxel: partials get two vec4
// per (sample, class) and chunk, pair-major, at ((sample * C + class) * chunks + chunk) * 2.
// `loop_bound` is the voxel loop's: a constant where it can be (REGISTER_CLASSES, or
// CLASS_BLOCK unrolled), so the arrays are indexed by constants and stay in registers.
fn store_class_block(
  tid: u32,
  linear: u32,
  classes: vec2<u32>,
  loop_bound: u32,
  sums_a: ptr<function, array<vec4<f32>, CLASS_BLOCK>>,
  sums_b: ptr<function, array<vec4<f32>, CLASS_BLOCK>>,
) {
  let sample = linear / params.chunks;
  let chunk = linear % params.chunks;
  for (var k = 0u; k < loop_bound; k++) {
    if (k >= classes.y) {
      break;
    }
    block_a[tid] = (*sums_a)[k];
    block_b[tid] = (*sums_b)[k];
    workgroupBarrier();
    for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride >>= 1u) {
      if (tid < stride) {
        block_a[tid] += block_a[tid + stride];
        block_b[tid] += block_b[tid + stride];
      }
      workgroupBarrier();
    }
    if (tid == 0u) {
      let out = ((sample * params.classes + classes.x + k) * params.chunks + chunk) * 2u;
      partials[out] = block_a[0];
      partials[out + 1u] = block_b[0];
    }
    workgroupBarrier();
  }
}
