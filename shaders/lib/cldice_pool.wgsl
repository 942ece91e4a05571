// clDice pooling over the storage binding `pooled_values` (software plans: put after
// lib/cldice_common.wgsl in front of the kernels that pool): a Site is an element's volume,
// held as the index of the volume's first cell (lib/cldice_pooling.wgsl has the pooling).

// #include "lib/cldice_pooling.wgsl"

struct Site {
  // The global element index of cell (0, 0, 0) of the volume.
  base: u32,
}

fn site_of(element: u32, here: vec3<i32>) -> Site {
  return Site(element - dot(vec3<u32>(here), strides()));
}

fn pooled(site: Site, at: vec3<i32>) -> f32 {
  return pooled_values[local(site.base + dot(vec3<u32>(at), strides()))];
}
