// The class blocks of the voxel-major forward passes (family_forward.wgsl, wasserstein_forward.wgsl;
// included with `// #include "lib/class_block.wgsl"` after lib/voxel_grid.wgsl): a workgroup
// accumulates a block of up to BLOCK_CLASSES classes in registers (wg.y picks the block) and
// writes them to per-(sample, class, chunk) partials, pair-major; where a window edge cuts its
// chunk (lib/voxel_grid.wgsl chunk_part), each lane's running sums go through `carry` instead.

// Classes per block, at most CLASS_BLOCK: the planner sizes it to the per-thread register budget
// (sums x classes; src/program/voxel.ts).
override BLOCK_CLASSES: u32 = 16u;
// Unroll loops over a block to BLOCK_CLASSES (GPUs); off on software adapters, whose compiler
// then spends far longer (src/program/voxel.ts decides).
override UNROLL_CLASS_BLOCK: bool = false;

// The classes [x, x + y) of workgroup row `block_row`.
fn class_block(block_row: u32) -> vec2<u32> {
  let begin = block_row * BLOCK_CLASSES;
  return vec2<u32>(begin, min(BLOCK_CLASSES, params.classes - begin));
}

// Where the loops over a block of `block` classes stop: at a constant where they can, so the
// compiler unrolls them and keeps the per-class arrays in registers rather than in per-thread
// memory: C itself where one block holds every class (REGISTER_CLASSES), else on a GPU
// BLOCK_CLASSES, with an early exit at `block`; a software adapter keeps the loops (unrolled to
// 16, one pipeline took ~20 s to compile).
fn class_loop_bound(block: u32) -> u32 {
  return select(select(block, BLOCK_CLASSES, UNROLL_CLASS_BLOCK), REGISTER_CLASSES, REGISTER_CLASSES != 0u);
}

// Rows of class blocks (wg.y).
fn class_blocks() -> u32 {
  return (params.classes + BLOCK_CLASSES - 1u) / BLOCK_CLASSES;
}

// The partial of (sample, class) and chunk of workgroup `linear`: ((sample * C + class) * chunks + chunk).
fn class_partial(linear: u32, class_index: u32) -> u32 {
  let sample = linear / params.chunks;
  return (sample * params.classes + class_index) * params.chunks + linear % params.chunks;
}

// The lanes' running sums of chunks cut by a window edge: per edge (carry_slot), class block and
// lane, `per_class` vec4 for each class of the block (src/program/voxel.ts carryBytes).
@group(0) @binding(6) var<storage, read_write> carry: array<vec4<f32>>;

// Where vec4 `part` of class k of lane `tid` of workgroup row `block_row` is carried over edge `slot`.
fn carry_index(slot: u32, block_row: u32, tid: u32, k: u32, per_class: u32, part: u32) -> u32 {
  return (((slot * class_blocks() + block_row) * WORKGROUP_SIZE + tid) * BLOCK_CLASSES + k) * per_class + part;
}

// The fault record of this dispatch's workgroup wg (lib/faults.wgsl): one per dispatched
// workgroup and class block, so the parts of a cut chunk keep their own.
fn fault_record(wg: vec3<u32>) -> u32 {
  return (params.fault_base + wg.x) * class_blocks() + wg.y;
}
