// clDice's 3x3x3 windows (included with `// #include "lib/cldice_window.wgsl"`): the offsets
// (od, oh, ow) in scan order are numbered 0 .. 26, (od + 1) * 9 + (oh + 1) * 3 + (ow + 1), so a
// soft_dilate's choice is one code. In 2D the od = -1 and +1 rows fall outside (D = 1).

const WINDOW: u32 = 27u;

fn window_code(offset: vec3<i32>) -> u32 {
  return u32(dot(offset + vec3<i32>(1), vec3<i32>(9, 3, 1)));
}
