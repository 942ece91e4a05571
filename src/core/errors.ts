/**
 * Every error wgsl-dice throws on purpose is a {@link WgslDiceError} with a stable `code`, so
 * callers can branch on the code and tests can assert it without matching message text. The
 * message says what was wrong and how to fix the call. Codes are never renamed or reused;
 * new ones are only added.
 *
 * | code                | thrown when                                                                |
 * | ------------------- | -------------------------------------------------------------------------- |
 * | `INVALID_SHAPE`     | `shape` is not `[B, ...spatial, C]` of positive integers, or too large      |
 * | `SHAPE_MISMATCH`    | a host array's length differs from the loss's shape                        |
 * | `INVALID_OPTION`    | an option has the wrong type or value (`reduce`, `epsilon`, `grad`, ...)   |
 * | `UNKNOWN_OPTION`    | an option, buffer or field name is not one wgsl-dice knows (misspelt)      |
 * | `INVALID_WEIGHTS`   | `weights` has the wrong length, a negative / non-finite entry, or no use   |
 * | `INVALID_INPUT`     | an argument is not what the call takes (GPUBuffer, encoder, device, ...);  |
 * |                     | also a finished encoder or a buffer of another GPUDevice given to          |
 * |                     | encode(), which WebGPU reports later: thrown by `checkEncodes()`,          |
 * |                     | `readStatus()` or the loss's next `encode()` / `compute()`                 |
 * | `INVALID_DTYPE`     | host data is an array or typed array other than a Float32Array            |
 * | `BUFFER_TOO_SMALL`  | a caller's buffer holds fewer bytes (from its offset) than the loss needs  |
 * | `BUFFER_USAGE`      | a caller's buffer lacks `GPUBufferUsage.STORAGE`                           |
 * | `BUFFER_MAPPED`     | a caller's buffer is mapped or has a map pending                           |
 * | `BUFFER_DESTROYED`  | a caller's buffer was destroyed (detected by `compute()` at submit)        |
 * | `BUFFER_OVERLAP`    | an output would overwrite an input or another output                       |
 * | `MISALIGNED_OFFSET` | an offset is not a non-negative multiple of minStorageBufferOffsetAlignment |
 * | `BINDING_TOO_LARGE` | a binding (or one binding window's share) exceeds the device's limit      |
 * | `GRID_TOO_LARGE`    | the work needs more workgroups than the device allows (kept; not thrown    |
 * |                     | by the classic Dice losses since binding windows lifted the batch limit)           |
 * | `ENGINE_DESTROYED`  | the engine or the loss was destroyed (also while a `compute()` was pending) |
 * | `DEVICE_LOST`       | the GPU device was lost, before or while a call was waiting on it          |
 * | `GPU_ERROR`         | WebGPU reported an error wgsl-dice could not attribute to the call         |
 * | `LABEL_OUT_OF_RANGE`| a label map holds labels >= C (not ignoreIndex): count and first voxel     |
 * | `NON_FINITE_INPUT`  | pred holds NaN or infinity: count and first element (also a finite logit   |
 * |                     | times its mask beyond f32's range with `mask: 'logits'`, and finite values |
 * |                     | so large, ~3e38, that the sums overflow f32 and the loss is not finite)    |
 * | `FEATURE_MISSING`   | the option needs a device feature the device lacks (f16 needs shader-f16)  |
 * | `WRONG_BACKEND`     | `wgsl-dice/tfjs` ran while TensorFlow.js's active backend is not 'webgpu'  |
 * | `LOSS_NOT_READY`    | a `wgsl-dice/tfjs` loss met a shape it was not prepared for (await prepare) |
 * | `LIMIT_EXCEEDED`    | an option goes past a fixed limit of the kernels ({@link MAX_CLASSES}), or  |
 * |                     | a buffer of the loss's own would pass the device's maxBufferSize           |
 * | `NOT_SUPPORTED`     | a valid configuration the GPU path cannot run (a preset's JavaScript       |
 * |                     | activation runs in evaluate() only): the message names the alternatives   |
 */
export const WGSL_DICE_ERROR_CODES = [
  'INVALID_SHAPE',
  'SHAPE_MISMATCH',
  'INVALID_OPTION',
  'UNKNOWN_OPTION',
  'INVALID_WEIGHTS',
  'INVALID_INPUT',
  'INVALID_DTYPE',
  'BUFFER_TOO_SMALL',
  'BUFFER_USAGE',
  'BUFFER_MAPPED',
  'BUFFER_DESTROYED',
  'BUFFER_OVERLAP',
  'MISALIGNED_OFFSET',
  'BINDING_TOO_LARGE',
  'GRID_TOO_LARGE',
  'ENGINE_DESTROYED',
  'DEVICE_LOST',
  'GPU_ERROR',
  'LABEL_OUT_OF_RANGE',
  'NON_FINITE_INPUT',
  'FEATURE_MISSING',
  'LIMIT_EXCEEDED',
  'WRONG_BACKEND',
  'LOSS_NOT_READY',
  'NOT_SUPPORTED',
] as const;

export type WgslDiceErrorCode = (typeof WGSL_DICE_ERROR_CODES)[number];

export class WgslDiceError extends Error {
  readonly code: WgslDiceErrorCode;

  constructor(code: WgslDiceErrorCode, message: string) {
    super(message);
    this.name = 'WgslDiceError';
    this.code = code;
  }
}
