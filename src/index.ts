/**
 * wgsl-dice: Dice-family segmentation losses, forward and backward, as hand-written WGSL
 * compute shaders on caller-owned WebGPU buffers. This entry imports nothing from Node and has
 * no runtime dependency; it runs in browsers and in Node (with `wgsl-dice/node`).
 */
export { DiceEngine, type DiceEngineOptions } from './engine.js';
export type { DeviceClass, PlanChoice } from './program/profile.js';
export type { TuningEntry, TuningTable } from './program/tuning-table.js';
export type { PlanTiming, TuneOptions, TuneResult } from './runtime/tune.js';
export { DiceLoss, type DiceEncodeBuffers, type DiceInput, type DiceResult } from './losses/seed-dice.js';
export {
  DEFAULT_EPSILON,
  type DiceLossOptions,
  type DiceReduce,
  type Epsilon,
  type NormalizedDiceOptions,
} from './spec/seed.js';
export { FamilyLoss, type LossEncodeBuffers, type LossResult, type TargetInput } from './losses/family.js';
export type { InputStatus } from './runtime/status.js';
export type { LossWarmUpProgress } from './runtime/program-loss.js';
export type {
  Activation,
  FocalOptions,
  LossOptions,
  MetricOptions,
  NormalizedFocal,
  NormalizedLossOptions,
  TargetKind,
} from './spec/family.js';
export { MAX_CLASSES } from './core/limits.js';
export { PRESET_CACHE_SIZE } from './presets/common.js';
export { WassersteinDiceLoss, type WassersteinEncodeBuffers, type WassersteinResult } from './losses/wasserstein.js';
export type { NormalizedWassersteinOptions, WassersteinDiceOptions } from './spec/wasserstein.js';
export { ClDiceLoss, type ClDiceEncodeBuffers, type ClDiceResult } from './losses/cldice.js';
export type { ClDiceOptions, NormalizedClDiceOptions } from './spec/cldice.js';
export {
  DistanceTransform,
  HausdorffDTLoss,
  SurfaceMetrics,
  type DistanceTransformBuffers,
  type DistanceTransformResult,
  type HausdorffDTBuffers,
  type HausdorffDTResult,
  type SurfaceInput,
  type SurfaceMetricsBuffers,
  type SurfaceMetricsResult,
} from './losses/surface.js';
export type {
  BoundaryOptions,
  DistanceTransformOptions,
  HausdorffDTOptions,
  SurfaceDistanceMetric,
  SurfaceInputKind,
  SurfaceMetricName,
  SurfaceMetricsOptions,
  SurfaceSpacing,
} from './spec/surface.js';
export type { Presets } from './presets/index.js';
export type { CreateExtras, HostInput, Preset, PresetExtras, PresetValue } from './presets/common.js';
export type { ClDicePreset, WassersteinPreset } from './presets/monai.js';
export { fromFloat16Bits, toFloat16Bits } from './core/half.js';
export { WGSL_DICE_ERROR_CODES, WgslDiceError, type WgslDiceErrorCode } from './core/errors.js';
export type { NhwcShape } from './core/shape.js';
export type { BufferArg } from './runtime/caller-buffers.js';
export type { NestedNumbers } from './runtime/nested-input.js';
// @internal For wgsl-dice/tfjs (not public API; may change in any release): the pure option checks
// of engine.dice() and engine.loss(), so that a tfjs loss validates its options at creation and
// at each new shape before any tfjs op runs.
/** @internal */
export { normalizeDiceOptions as _normalizeDiceOptions } from './spec/seed.js';
/** @internal */
export { normalizeLossOptions as _normalizeLossOptions } from './spec/family.js';
/** @internal */
export { rejectUnknownKeys as _rejectUnknownKeys, snapshotOptions as _snapshotOptions } from './core/validate.js';
