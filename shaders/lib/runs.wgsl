// Work cut in runs (included with `// #include "lib/runs.wgsl"`): consecutive units (elements,
// tiles) in groups of `group_size`, each group in runs of `run_size` units, one run to a
// workgroup: workgroup `linear` takes run `linear % runs_per_group` of group
// `linear / runs_per_group`. The last group may be short (`total` units in all). The split is
// the same whatever binding windows the dispatches run in.

// The units [x, y) of workgroup `linear`'s run.
fn run_in_groups(linear: u32, runs_per_group: u32, group_size: u32, run_size: u32, total: u32) -> vec2<u32> {
  let group_first = (linear / runs_per_group) * group_size;
  let first = group_first + (linear % runs_per_group) * run_size;
  let group_end = min(group_first + group_size, total);
  return vec2<u32>(first, min(first + run_size, group_end));
}
