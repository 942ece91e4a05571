// The entry point of clDice's elementwise steps that compute the foreground only (included with
// `// #include "lib/cldice_foreground.wgsl"`): each thread walks its workgroup's chunk,
// WORKGROUP_SIZE elements apart, and runs the including kernel's
//   fn foreground_step(element: u32)
// at every foreground element. The background takes no part in the loss: its levels are never
// computed (see lib/cldice_common.wgsl).

// #include "lib/cldice_common.wgsl"

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let range = chunk_of(wg.x);
  for (var element = range.x + tid; element < range.y; element += WORKGROUP_SIZE) {
    if (is_foreground(element)) {
      foreground_step(element);
    }
  }
}
