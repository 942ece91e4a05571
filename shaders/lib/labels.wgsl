// Integer label maps, read in place (included with `// #include "lib/labels.wgsl"`). The
// including kernel declares the binding `truth: array<u32>` and the override TARGET_KIND.
// u8 labels are packed 4 to a word, u16 labels 2, u32 labels 1; `voxel` counts from the
// start of the bound window, which starts on a whole word (src/program/grids.ts aligns windows).

const TARGET_DENSE: u32 = 0u;
const TARGET_U8: u32 = 1u;
const TARGET_U16: u32 = 2u;
const TARGET_U32: u32 = 3u;

fn label_at(voxel: u32) -> u32 {
  switch (TARGET_KIND) {
    case TARGET_U8: { return (truth[voxel >> 2u] >> ((voxel & 3u) * 8u)) & 0xffu; }
    case TARGET_U16: { return (truth[voxel >> 1u] >> ((voxel & 1u) * 16u)) & 0xffffu; }
    default: { return truth[voxel]; }
  }
}
