// Bandwidth ceiling for the benchmark: out = a (one input) or out = a + b (TWO_INPUTS: the two
// reads of the Dice forward pass, pred and target, plus one write), vec4 loads and stores in a
// grid-stride loop so the host picks the workgroup count that suits the adapter.

override WORKGROUP_SIZE: u32 = 256u;
override TWO_INPUTS: bool = false;

struct CopyParams {
  vec4s: u32,
  pad0: u32,
  pad1: u32,
  pad2: u32,
}

@group(0) @binding(0) var<uniform> params: CopyParams;
@group(0) @binding(1) var<storage, read> first: array<vec4<f32>>;
// Bound to `first` again for the one-input copy; read only when TWO_INPUTS.
@group(0) @binding(2) var<storage, read> second: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> copied: array<vec4<f32>>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let threads = groups.x * WORKGROUP_SIZE;
  // vec4s <= 2^30 (at most 2^32 f32 elements), so i + threads cannot wrap.
  for (var i = gid.x; i < params.vec4s; i += threads) {
    var value = first[i];
    if (TWO_INPUTS) {
      value += second[i];
    }
    copied[i] = value;
  }
}
