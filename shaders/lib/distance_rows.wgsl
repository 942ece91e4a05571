// What both first-pass distance kernels (distance_first.wgsl: a thread a row;
// distance_first_tiles.wgsl: the workgroup along the rows) bind and need to know: the rows along
// the innermost axis (2) of one volume's box that a workgroup transforms, and where its flags
// and field values lie.

// #include "lib/surface_box.wgsl"

@group(0) @binding(1) var<storage, read> flags: array<u32>;
@group(0) @binding(2) var<storage, read> boxes: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read> pairs: array<PairInfo>;
@group(0) @binding(4) var<storage, read_write> field: array<u32>;

struct InnermostRows {
  chunk: u32,       // the workgroup's chunk of the volume's rows
  j: u32,           // the volume's feature selector (is_feature(flags, j))
  box: Box,
  rows: u32,        // rows along axis 2 in the box
  weight: f32,      // the axis's spacing weight (raw_of_steps)
  flag_base: u32,   // the pair's first flag
  field_base: u32,  // the volume's first field value
}

fn innermost_rows(workgroup: u32) -> InnermostRows {
  let at = volume_chunk(workgroup);
  let box = box_of(at.pair);
  return InnermostRows(
    at.chunk,
    at.j,
    box,
    row_count(box, 2u),
    pairs[at.pair].spacing.z,
    at.pair_local * params.voxels,
    at.volume * params.voxels,
  );
}
