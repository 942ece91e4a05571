// What the distance-transform and surface passes share (included with
// `// #include "lib/surface_grid.wgsl"`): the uniform block, the grid, the per-pair bounding
// boxes, and the raw distance values.
//
// A *pair* is one (sample, class) of the caller's tensors; the passes of a program run over
// groups of pairs (src/program/surface-grid.ts plans them so a group's scratch fits one binding).
// A pair has `volumes_per_pair` distance volumes (e.g. the distance to the target's surface and
// to the prediction's), each a volume of the grid: the voxels, or with `cell_grid` the cells
// between voxels (one more per real axis). Spatial ranks 1-3 are padded to 3 on the left, so
// axis 2 is always the innermost (contiguous) axis.
//
// Raw distance values: with `exact`, integer squared steps (euclidean) or steps (taxicab,
// chessboard), exact in u32; otherwise the f32 bits of a squared distance weighted by the
// spacing. Both order as u32 (non-negative floats do), INF_RAW means "no feature at all".
//
// Pair boxes and rows: lib/surface_box.wgsl.

// #include "lib/numeric.wgsl"

override WORKGROUP_SIZE: u32 = 256u;

const INF_RAW: u32 = 0xffffffffu;
// An absent value in the edge-distance fields (no surface element there).
const NONE: u32 = 0xffffffffu;
const F32_INF_BITS: u32 = 0x7f800000u;
const F32_NAN_BITS: u32 = 0x7fc00000u;

const METRIC_EUCLIDEAN: u32 = 0u;
const METRIC_TAXICAB: u32 = 1u;
const METRIC_CHESSBOARD: u32 = 2u;

// Input kinds (pred_kind, target_kind; lib/surface_masks.wgsl).
const KIND_DENSE: u32 = 0u;
const KIND_U8: u32 = 1u;
const KIND_U16: u32 = 2u;
const KIND_U32: u32 = 3u;

struct SurfaceParams {
  // The grid the volumes live on (voxels, or cells), padded to 3D; `voxels` = their product.
  size_0: u32,
  size_1: u32,
  size_2: u32,
  voxels: u32,
  // Spatial rank of the caller's tensors (1-3): the last `dims` axes of the grid are real.
  dims: u32,
  cell_grid: u32,
  // This dispatch's group: pairs [pair_base, pair_base + pairs).
  pair_base: u32,
  pairs: u32,
  volumes_per_pair: u32,
  // Workgroups per volume (row passes) or per pair (box passes); also the partials' stride.
  chunks: u32,
  // The row axis of a row pass.
  axis: u32,
  // Volume j of a pair has the features whose flag bit (byte j & 31) equals byte j >> 7.
  features: u32,
  metric: u32,
  exact: u32,
  // The caller's tensors: C, kept classes per sample (class first_class + k is pair k of a
  // sample), the input kinds and layout, voxels per sample, and the window bases.
  classes: u32,
  kept: u32,
  first_class: u32,
  pred_kind: u32,
  target_kind: u32,
  channels_first: u32,
  sample_voxels: u32,
  voxel_base: u32,
  element_base: u32,
  // A pass's own mode: its round (percentile passes), what it decodes (features), ...
  mode: u32,
  mode_2: u32,
  // Kernel-specific scalars.
  scalar_0: f32,
  scalar_1: f32,
  // How a thread walks the points of a box or a range (software plans): 1, whole rows along the
  // innermost axis, coordinates stepped without a division; 0 (GPU plans): one point at a time,
  // neighbouring threads on neighbouring points.
  row_walk: u32,
  // The first sample of this dispatch's window of the caller's tensors.
  sample_base: u32,
}

@group(0) @binding(0) var<uniform> params: SurfaceParams;

// Per pair: (raw surface-Dice limit, sample, class, 0) and (axis weights w_0, w_1, w_2, scale):
// w_a = spacing_a^2 when not exact; scale multiplies an exact euclidean distance.
struct PairInfo {
  ints: vec4<u32>,
  spacing: vec4<f32>,
}

fn grid_size() -> vec3<u32> {
  return vec3<u32>(params.size_0, params.size_1, params.size_2);
}

fn grid_strides() -> vec3<u32> {
  return vec3<u32>(params.size_1 * params.size_2, params.size_2, 1u);
}

// Axis a of the padded grid is one of the caller's axes.
fn real_axes() -> vec3<bool> {
  return vec3<u32>(0u, 1u, 2u) + vec3<u32>(params.dims) >= vec3<u32>(3u);
}

fn coordinates(index: u32) -> vec3<u32> {
  return vec3<u32>(index / (params.size_1 * params.size_2), (index / params.size_2) % params.size_1, index % params.size_2);
}

fn linear_index(c: vec3<u32>) -> u32 {
  return dot(c, grid_strides());
}

// Volume j's feature test on a pair's flag word.
fn is_feature(flags: u32, j: u32) -> bool {
  let byte = (params.features >> (8u * j)) & 0xffu;
  return ((flags >> (byte & 31u)) & 1u) == (byte >> 7u);
}

// A pair-grid workgroup's pair and chunk: workgroup `linear` of a dispatch takes chunk
// linear % chunks of the group's pair linear / chunks.
struct PairChunk {
  pair_local: u32,
  pair: u32,
  sample: u32,
  class_index: u32,
  chunk: u32,
}

fn pair_chunk(linear: u32) -> PairChunk {
  let pair_local = linear / params.chunks;
  let pair = params.pair_base + pair_local;
  return PairChunk(pair_local, pair, pair / params.kept, params.first_class + pair % params.kept, linear % params.chunks);
}

// A row pass's volume and chunk: workgroup `linear` takes chunk linear % chunks of the group's
// volume linear / chunks, volume j of its pair.
struct VolumeChunk {
  volume: u32,
  pair_local: u32,
  pair: u32,
  j: u32,
  chunk: u32,
}

fn volume_chunk(linear: u32) -> VolumeChunk {
  let volume = linear / params.chunks;
  let pair_local = volume / params.volumes_per_pair;
  return VolumeChunk(volume, pair_local, params.pair_base + pair_local, volume % params.volumes_per_pair, linear % params.chunks);
}

// Items [begin, end) of chunk `chunk` when `count` items are cut in `chunks` equal chunks.
fn chunk_range(chunk: u32, count: u32) -> vec2<u32> {
  let per_chunk = (count + params.chunks - 1u) / params.chunks;
  let begin = min(chunk * per_chunk, count);
  return vec2<u32>(begin, min(begin + per_chunk, count));
}

// The caller's tensors, bound from a window that holds whole samples (see
// lib/surface_masks.wgsl). Window-relative voxel of a label map.
fn input_voxel(sample: u32, voxel: u32) -> u32 {
  return sample * params.sample_voxels + voxel - params.voxel_base;
}

// Window-relative element of a dense tensor; u32 arithmetic wraps, so subtracting the base last
// is exact.
fn input_element(sample: u32, class_index: u32, voxel: u32) -> u32 {
  if (params.channels_first != 0u) {
    return (sample * params.classes + class_index) * params.sample_voxels + voxel - params.element_base;
  }
  return (sample * params.sample_voxels + voxel) * params.classes + class_index - params.element_base;
}

// f32 from its bits at run time (a constant infinity or NaN is a shader-creation error).
fn from_bits(bits: u32) -> f32 {
  return bitcast<f32>(bits);
}

// Where a pair's per-voxel values sit in a per-sample buffer bound from the window's first
// sample (field_forward.wgsl's weights): each sample's pairs padded to whole 256-byte blocks, so
// that a window of samples starts on a binding offset.
fn sample_stride() -> u32 {
  return (params.kept * params.voxels + 63u) / 64u * 64u;
}

fn per_sample_index(pair: u32, voxel: u32) -> u32 {
  let sample = pair / params.kept;
  return (sample - params.sample_base) * sample_stride() + (pair % params.kept) * params.voxels + voxel;
}

// The raw value of `steps` voxel steps along an axis of weight `weight` (spacing^2); NONE steps: no
// feature, INF_RAW.
fn raw_of_steps(steps: u32, weight: f32) -> u32 {
  if (steps == NONE) {
    return INF_RAW;
  }
  if (params.exact == 0u) {
    let s = f32(steps);
    return bitcast<u32>(weight * (s * s));
  }
  return select(steps, steps * steps, params.metric == METRIC_EUCLIDEAN);
}

// The distance a raw value stands for, with its pair's spacing (PairInfo.spacing): see the
// header. INF_RAW is +infinity.
fn raw_distance(raw: u32, spacing: vec4<f32>) -> f32 {
  if (raw == INF_RAW) {
    return from_bits(F32_INF_BITS);
  }
  if (params.exact == 0u) {
    return sqrt(bitcast<f32>(raw));
  }
  if (params.metric == METRIC_EUCLIDEAN) {
    return spacing.w * sqrt(f32(raw));
  }
  return f32(raw);
}

// The voxels of [begin, end) one thread of a workgroup visits (within a sample or a volume of
// the grid): with row_walk a contiguous share of the range, coordinates stepped from the last;
// otherwise begin + tid, begin + tid + WORKGROUP_SIZE, ... After range_next returns true, `v` is
// the voxel and `c` its coordinates.
struct RangeWalk {
  v: u32,
  end: u32,
  step: u32,
  started: bool,
  c: vec3<u32>,
}

fn range_walk(begin: u32, end: u32, tid: u32) -> RangeWalk {
  if (params.row_walk == 0u) {
    return RangeWalk(begin + tid, end, WORKGROUP_SIZE, false, vec3<u32>(0u));
  }
  let share = (end - min(begin, end) + WORKGROUP_SIZE - 1u) / WORKGROUP_SIZE;
  let first = begin + tid * share;
  return RangeWalk(first, min(first + share, end), 1u, false, vec3<u32>(0u));
}

fn range_next(w: ptr<function, RangeWalk>) -> bool {
  if ((*w).started) {
    (*w).v += (*w).step;
    if ((*w).v >= (*w).end) {
      return false;
    }
    if (params.row_walk != 0u) {
      (*w).c.z += 1u;
      if ((*w).c.z == params.size_2) {
        (*w).c.z = 0u;
        (*w).c.y += 1u;
        if ((*w).c.y == params.size_1) {
          (*w).c.y = 0u;
          (*w).c.x += 1u;
        }
      }
      return true;
    }
  }
  if ((*w).v >= (*w).end) {
    return false;
  }
  (*w).started = true;
  (*w).c = coordinates((*w).v);
  return true;
}
