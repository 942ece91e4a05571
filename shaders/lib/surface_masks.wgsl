// The caller's masks and predictions as the surface passes read them (included with
// `// #include "lib/surface_masks.wgsl"`): integer label maps (a class is a label; u8 labels
// packed 4 to a word, u16 2) or dense f32 tensors, channels-first or channels-last. The
// including kernel declares `pred_in` and `target_in: array<u32>` (read): raw f32 bits or packed
// labels, bound from a window that holds whole samples, starting at voxel `voxel_base` (label
// maps) or element `element_base` (dense) of the tensor.
//
// `voxel` below is a voxel of the caller's grid within its sample (row-major over the spatial
// axes), not a cell.

// #include "lib/surface_grid.wgsl"

// The caller's voxel grid, padded to 3D: the grid less the extra cell on each real axis.
fn voxel_size() -> vec3<u32> {
  return grid_size() - select(vec3<u32>(0u), vec3<u32>(params.cell_grid), real_axes());
}

fn voxel_index(c: vec3<u32>) -> u32 {
  let n = voxel_size();
  return (c.x * n.y + c.y) * n.z + c.z;
}

fn label_word(kind: u32, local_voxel: u32) -> u32 {
  switch (kind) {
    case KIND_U8: { return local_voxel >> 2u; }
    case KIND_U16: { return local_voxel >> 1u; }
    default: { return local_voxel; }
  }
}

fn label_in_word(kind: u32, word: u32, local_voxel: u32) -> u32 {
  switch (kind) {
    case KIND_U8: { return (word >> ((local_voxel & 3u) * 8u)) & 0xffu; }
    case KIND_U16: { return (word >> ((local_voxel & 1u) * 16u)) & 0xffffu; }
    default: { return word; }
  }
}

fn pred_label(sample: u32, voxel: u32) -> u32 {
  let v = input_voxel(sample, voxel);
  return label_in_word(params.pred_kind, pred_in[label_word(params.pred_kind, v)], v);
}

fn target_label(sample: u32, voxel: u32) -> u32 {
  let v = input_voxel(sample, voxel);
  return label_in_word(params.target_kind, target_in[label_word(params.target_kind, v)], v);
}

fn pred_value(sample: u32, class_index: u32, voxel: u32) -> f32 {
  return bitcast<f32>(pred_in[input_element(sample, class_index, voxel)]);
}

fn target_value(sample: u32, class_index: u32, voxel: u32) -> f32 {
  return bitcast<f32>(target_in[input_element(sample, class_index, voxel)]);
}

// Membership of a binary mask: the label is the class, or the dense value is exactly 1 (values
// other than 0 and 1 are faults, counted by the pass that first reads them).
fn in_pred(sample: u32, class_index: u32, voxel: u32) -> bool {
  if (params.pred_kind == KIND_DENSE) {
    return pred_value(sample, class_index, voxel) == 1.0;
  }
  return pred_label(sample, voxel) == class_index;
}

fn in_target(sample: u32, class_index: u32, voxel: u32) -> bool {
  if (params.target_kind == KIND_DENSE) {
    return target_value(sample, class_index, voxel) == 1.0;
  }
  return target_label(sample, voxel) == class_index;
}
