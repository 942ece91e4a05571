// The entry point of clDice's tiled level passes (included with
// `// #include "lib/cldice_tile_run.wgsl"`): a workgroup takes its run of tiles
// (lib/cldice_tile.wgsl) one after another. For each it reads x (the including kernel's `level`
// binding) over the tile and a halo of 2 into `wide`, in the volumes where the including kernel's
//   fn reads_level(volume: u32) -> bool
// says it reads x, waits for the workgroup, and runs the including kernel's
//   fn tile_step(tile: Tile, tid: u32)
// which works out the tile's cells from workgroup memory.

// #include "lib/cldice_tile.wgsl"

// x over the tile and a halo of 2 (lib/cldice_pooling.wgsl pools it).
var<workgroup> wide: array<f32, WIDE_CAPACITY>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let run = run_of(wg.x);
  for (var index = run.x; index < run.y; index++) {
    let tile = tile_of(index);
    for (var i = tid; i < box_cells(2u); i += WORKGROUP_SIZE) {
      let cell = box_cell(tile, i, 2u);
      if (cell.inside && reads_level(cell.volume)) {
        wide[i] = level[local_element(cell.volume, cell.at)];
      }
    }
    workgroupBarrier();
    tile_step(tile, tid);
    // The next tile of the run refills the workgroup arrays (the run is the workgroup's: uniform).
    if (index + 1u < run.y) {
      workgroupBarrier();
    }
  }
}
