/**
 * Fixed sizes that the kernels and the host code agree on. Each one is mirrored by a WGSL
 * constant or a buffer layout named beside it; change both together.
 */

/**
 * The most classes engine.loss, engine.metric and engine.wassersteinDice take (every option
 * included, `weights: 'inverse-frequency'` too): every label a u16 label map can hold. The
 * kernels walk classes in blocks along one dispatch axis and keep per-class values in buffers, so
 * the bound is the label type's; larger C throws `LIMIT_EXCEEDED`. (Memory may bind first: a
 * Wasserstein distance matrix holds C^2 values.)
 */
export const MAX_CLASSES = 65536;

/** Classes a voxel pass keeps in per-thread arrays (`CLASS_BLOCK` in shaders/lib/family_voxel.wgsl). */
export const CLASS_BLOCK = 16;

/** Uniform blocks of successive binding windows sit this far apart (minUniformBufferOffsetAlignment). */
export const UNIFORM_STRIDE = 256;

/**
 * Bytes of every loss's status buffer: 12 u32. Words 0-3 count the input faults the passes
 * found (labels out of range, non-finite pred, target and mask values), words 4-7 hold the
 * first global index of each (0xffffffff if none: see shaders/lib/faults.wgsl), words 8-11 the
 * f32 bits of the loss and, where the loss has them, its Dice, cross-entropy and focal parts.
 */
export const STATUS_BYTES = 48;

/** Byte offset of the status words that hold the loss and its parts (words 8-11). */
export const STATUS_PARTS_OFFSET = 32;

/**
 * Workgroup memory per thread of the hungriest kernel (dice_reduce_vec4.wgsl: three vec4<f32>;
 * family_forward.wgsl needs two, plus a few fixed words for the fault counters).
 */
export const WORKGROUP_BYTES_PER_THREAD = 48;

/**
 * The smallest binding window (`maxBindingBytes`) an engine takes: below it, windows hold so few
 * rows that ordinary shapes fail with BINDING_TOO_LARGE. Plans that must not depend on the
 * window size (clDice's runs of small volumes) stay within it.
 */
export const MIN_BINDING_BYTES = 4096;

/** The largest finite f32: option values and sums reach the kernels as f32. */
export const F32_MAX = 3.4028234663852886e38;

/** The smallest normal f32: GPUs flush smaller magnitudes (subnormals) to 0. */
export const F32_MIN_NORMAL = 1.1754943508222875e-38;
