/**
 * wgsl-dice: Dice-family segmentation losses, forward and backward, as hand-written WGSL
 * compute shaders on caller-owned WebGPU buffers. This entry imports nothing from Node and has
 * no runtime dependency; it runs in browsers and in Node (with `wgsl-dice/node`).
 */
export { DiceEngine, type DiceEngineOptions } from './engine.js';
export type { DeviceClass } from './plan.js';
export {
  DiceLoss,
  type DiceEncodeBuffers,
  type DiceInput,
  type DiceResult,
} from './dice-loss.js';
export {
  DEFAULT_EPSILON,
  type DiceLossOptions,
  type DiceReduce,
  type Epsilon,
  type NormalizedDiceOptions,
} from './options.js';
export {
  FamilyLoss,
  type InputStatus,
  type LossEncodeBuffers,
  type LossResult,
  type TargetInput,
} from './family/loss.js';
export type {
  Activation,
  FocalOptions,
  LossOptions,
  MetricOptions,
  NormalizedFocal,
  NormalizedLossOptions,
  TargetKind,
} from './family/options.js';
export { MAX_CLASSES } from './family/options.js';
export { PRESET_CACHE_SIZE } from './presets/common.js';
export {
  WassersteinDiceLoss,
  type NormalizedWassersteinOptions,
  type WassersteinDiceOptions,
  type WassersteinEncodeBuffers,
  type WassersteinResult,
} from './family/wasserstein.js';
export {
  ClDiceLoss,
  type ClDiceEncodeBuffers,
  type ClDiceOptions,
  type ClDiceResult,
  type NormalizedClDiceOptions,
} from './family/cldice.js';
export type { Presets } from './presets/index.js';
export type { CreateExtras, HostInput, Preset, PresetExtras, PresetValue } from './presets/common.js';
export type { ClDicePreset, WassersteinPreset } from './presets/monai.js';
export { fromFloat16Bits, toFloat16Bits } from './half.js';
export { WGSL_DICE_ERROR_CODES, WgslDiceError, type WgslDiceErrorCode } from './errors.js';
export type { NhwcShape } from './shape.js';
export type { BufferArg } from './buffers.js';
// @internal For wgsl-dice/tfjs (not public API; may change in any release): the pure option checks
// of engine.dice() and engine.loss(), so that a tfjs loss validates its options at creation and
// at each new shape before any tfjs op runs.
/** @internal */
export { normalizeDiceOptions as _normalizeDiceOptions } from './options.js';
/** @internal */
export { normalizeLossOptions as _normalizeLossOptions } from './family/options.js';
/** @internal */
export { rejectUnknownKeys as _rejectUnknownKeys } from './errors.js';
