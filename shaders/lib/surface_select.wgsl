// The percentile selection's state (included with `// #include "lib/surface_select.wgsl"`):
// per list (pair * 2 + direction), two vec4<u32> in `select_state`:
//   [0] (prefix: the value's high bits chosen so far, rank left within them, elements below
//        them, elements in the list)
//   [1] (index of the upper order statistic, f32 bits of the interpolation weight, the upper
//        order statistic's raw value (atomicMin while it is searched), status)
// After the four rounds the prefix is the lower order statistic's raw value.

const SELECT_EMPTY: u32 = 0u;
// The lower order statistic is known; the upper one is the least value above it (round 4).
const SELECT_NEEDS_NEXT: u32 = 1u;
const SELECT_DONE: u32 = 2u;
