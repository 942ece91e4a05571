// What the classic Dice losses' reduce kernels (dice_reduce_vec4, _scalar, _vec4_subgroups) share:
// the uniform block, the column view of a slab, and the fault record (included with
// `// #include "lib/dice_reduce.wgsl"`). The including kernel declares `truth` and includes
// the library that declares `pred` and UNIT_WIDTH, its elements per unit (lib/dice_pred_vec4.wgsl,
// lib/dice_pred_scalar.wgsl, or their f16 variants for predType 'f16').
//
// Each slab (one sample's elements) is viewed as `rows` rows of `cols` columns. Threads of a
// workgroup are split into `cols_per_group` columns x `lanes` lanes; lane k reads rows k,
// k + lanes, ... of its chunk, so one step of the workgroup reads contiguous memory. A chunk is
// either a contiguous run of rows (chunk_offset = rows_per_chunk, row_step = lanes) or, on
// GPUs, every chunks-th block of `lanes` rows of the whole slab (chunk_offset = lanes, row_step
// = chunks * lanes, rows_per_chunk = rows): then neighbouring workgroups read neighbouring rows
// at every step, one front streaming through memory. Each lane adds as many rows either way.

// #include "lib/numeric.wgsl"
// #include "lib/faults.wgsl"

override WORKGROUP_SIZE: u32 = 256u;

struct ReduceParams {
  rows: u32,
  cols: u32,
  cols_per_group: u32,
  lanes: u32,
  rows_per_chunk: u32,
  chunks: u32,
  // Rows from one chunk's first row to the next chunk's, and between a lane's successive rows.
  chunk_offset: u32,
  row_step: u32,
  tree_start: u32,
  // This dispatch covers workgroups linear_base + wg.x of the (slab, chunk) grid, and its
  // bindings start unit_base units into the tensor (see "binding windows" in src/program/grids.ts).
  linear_base: u32,
  unit_base: u32,
}

@group(0) @binding(0) var<uniform> params: ReduceParams;
@group(0) @binding(3) var<storage, read_write> partials: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> faults: array<vec4<u32>>;

// Where a thread reads: its (slab, chunk), its lane and column, and its rows row_first,
// row_first + row_step, ... below row_end, window-relative from `base` (plus row * cols per row).
struct Column {
  linear: u32,
  slab: u32,
  chunk: u32,
  lane: u32,
  col: u32,
  in_range: bool,
  row_first: u32,
  row_step: u32,
  row_end: u32,
  base: u32,
}

fn column_of(tid: u32, wg: vec3<u32>) -> Column {
  var c: Column;
  c.linear = params.linear_base + wg.x;
  c.chunk = c.linear % params.chunks;
  c.slab = c.linear / params.chunks;
  c.lane = tid / params.cols_per_group;
  c.col = wg.y * params.cols_per_group + tid % params.cols_per_group;
  c.in_range = c.lane < params.lanes && c.col < params.cols;
  let row_begin = c.chunk * params.chunk_offset;
  c.row_first = row_begin + c.lane;
  c.row_step = params.row_step;
  c.row_end = min(row_begin + params.rows_per_chunk, params.rows);
  // u32 arithmetic wraps, so subtracting the window base before adding the row is exact.
  c.base = c.slab * params.rows * params.cols + c.col - params.unit_base;
  return c;
}

// Notes the first non-finite lane of a unit of pred or target (rare: clean data never calls
// note_fault). `unit` is window-relative; the record holds the global element index.
fn check_unit(kind: u32, unit: u32, values: vec4<f32>) {
  if (!all_finite(values)) {
    for (var k = 0u; k < UNIT_WIDTH; k++) {
      if (!is_finite(values[k])) {
        note_fault(kind, (unit + params.unit_base) * UNIT_WIDTH + k);
        break;
      }
    }
  }
}

// The partials of column `col` of a workgroup: three vec4 (intersection, pred, target).
fn partial_index(c: Column, col: u32) -> u32 {
  return ((c.slab * params.chunks + c.chunk) * params.cols + col) * 3u;
}

// After the workgroup's last read: its fault record, one per (slab, chunk, column block).
fn store_column_faults(tid: u32, c: Column, wg: vec3<u32>) {
  workgroupBarrier();
  store_faults(tid, c.linear * ((params.cols + params.cols_per_group - 1u) / params.cols_per_group) + wg.y);
}
