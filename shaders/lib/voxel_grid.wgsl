// The voxel-major grid that the loss family's passes (lib/family_voxel.wgsl) and Generalized
// Wasserstein Dice's (lib/wasserstein.wgsl) share: which voxels a workgroup reads, where a
// voxel's classes lie, and its logits in registers.
//
// Workgroups run over (sample, chunk): sample `linear / chunks`, voxels
// [chunk * voxels_per_chunk, +voxels_per_chunk) of that sample. A dispatch runs workgroups
// linear_base + wg.x with pred, a dense target, a label map and a per-sample mask bound from
// voxel `voxel_base` (element `element_base`) to `voxel_end`; see "binding windows" in
// src/program/grids.ts. A forward chunk a window edge cuts is read in parts, one per window
// (chunk_part; VoxelWindow in src/program/voxel.ts). Channels-last puts a voxel's C values side
// by side, channels-first S apart.
//
// The includer declares the uniform `params` with the fields classes, spatial, chunks,
// voxels_per_chunk, linear_base, voxel_base, voxel_end, element_base, carry_slot and fault_base
// (packed by src/program/voxel.ts).

// #include "lib/voxel_pred.wgsl"

override WORKGROUP_SIZE: u32 = 256u;
override CHANNELS_FIRST: bool = false;

// The most classes a thread keeps in per-class arrays: a forward class block, the backward's
// cached logits (CLASS_BLOCK in src/core/limits.ts).
const CLASS_BLOCK: u32 = 16u;
// C itself where one class block holds every class, else 0 (src/program/voxel.ts). Loops over a
// voxel's classes then have a constant trip count, so the compiler unrolls them and keeps the
// per-class arrays in registers; indexed by a loop variable they would live in per-thread
// memory, slow on GPUs and slower still on a software rasteriser.
override REGISTER_CLASSES: u32 = 0u;

// Whether a voxel's classes are read (and written) four at a time: channels-last, with a
// class count in registers that is a multiple of 4 (lib/voxel_pred.wgsl).
fn classes_in_quads() -> bool {
  return REGISTER_CLASSES != 0u && REGISTER_CLASSES % 4u == 0u && !CHANNELS_FIRST;
}

// The voxels [begin, end) of workgroup `linear`, global.
fn voxel_range(linear: u32) -> vec2<u32> {
  let sample = linear / params.chunks;
  let begin = sample * params.spatial + (linear % params.chunks) * params.voxels_per_chunk;
  return vec2<u32>(begin, min(begin + params.voxels_per_chunk, (sample + 1u) * params.spatial));
}

// The part of a workgroup's chunk in this dispatch's window, [voxel_base, voxel_end):
// [begin, end). `carried_in`: the chunk began in an earlier window (the lanes' sums so far are in
// the carry scratch); `carries_out`: it goes on in the next. The same for every thread.
struct ChunkPart {
  linear: u32,  // the workgroup in the whole grid
  chunk_begin: u32,
  begin: u32,
  end: u32,
  carried_in: bool,
  carries_out: bool,
}

// Of this dispatch's workgroup `workgroup` (wg.x).
fn chunk_part(workgroup: u32) -> ChunkPart {
  let linear = params.linear_base + workgroup;
  let chunk = voxel_range(linear);
  return ChunkPart(
    linear,
    chunk.x,
    max(chunk.x, params.voxel_base),
    min(chunk.y, params.voxel_end),
    (chunk.x < params.voxel_base),
    (chunk.y > params.voxel_end),
  );
}

// Thread `tid`'s first voxel of the part: a lane keeps the positions chunk start + tid +
// k * WORKGROUP_SIZE it has in the whole chunk, so a chunk read in parts adds the same voxels in
// the same order in every lane.
fn first_voxel(part: ChunkPart, tid: u32) -> u32 {
  var first = part.chunk_begin + tid;
  if (first < part.begin) {
    first += (part.begin - first + WORKGROUP_SIZE - 1u) / WORKGROUP_SIZE * WORKGROUP_SIZE;
  }
  return first;
}

// Window-relative index of (voxel, class) in pred, a dense target and grad; u32 arithmetic
// wraps, so subtracting the window base last is exact.
fn element_index(voxel: u32, class_index: u32) -> u32 {
  if (CHANNELS_FIRST) {
    let sample = voxel / params.spatial;
    return (sample * params.classes + class_index) * params.spatial + voxel % params.spatial - params.element_base;
  }
  return voxel * params.classes + class_index - params.element_base;
}

// The raw logits of a voxel's REGISTER_CLASSES classes (call only where that is not 0), a vec4 at
// a time where they come in quads.
fn load_register_logits(voxel: u32, logits: ptr<function, array<f32, CLASS_BLOCK>>) {
  if (classes_in_quads()) {
    for (var q = 0u; q < REGISTER_CLASSES / 4u; q++) {
      let quad = pred_quad(element_index(voxel, 4u * q));
      for (var j = 0u; j < 4u; j++) {
        (*logits)[4u * q + j] = quad[j];
      }
    }
  } else {
    for (var c = 0u; c < REGISTER_CLASSES; c++) {
      (*logits)[c] = pred_at(element_index(voxel, c));
    }
  }
}

// (max, log-sum-exp) of the scaled logits of classes [first, C) of a voxel, read from pred.
fn log_sum_exp(voxel: u32, scale: f32, first: u32) -> vec2<f32> {
  var best = pred_at(element_index(voxel, first)) * scale;
  for (var c = first + 1u; c < params.classes; c++) {
    best = max(best, pred_at(element_index(voxel, c)) * scale);
  }
  var total = 0.0;
  for (var c = first; c < params.classes; c++) {
    total += exp(pred_at(element_index(voxel, c)) * scale - best);
  }
  return vec2<f32>(best, best + log(total));
}
