/**
 * wgsl-dice: Dice-family segmentation losses, forward and backward, as hand-written WGSL
 * compute shaders on caller-owned WebGPU buffers. This entry imports nothing from Node and has
 * no runtime dependency; it runs in browsers and in Node (with `wgsl-dice/node`).
 */
export { DiceEngine, type DiceEngineOptions } from './engine.js';
export {
  DiceLoss,
  type DiceEncodeBuffers,
  type DiceInput,
  type DiceResult,
} from './dice-loss.js';
export { DEFAULT_EPSILON, type DiceLossOptions, type DiceReduce, type Epsilon } from './options.js';
export {
  FamilyLoss,
  type InputStatus,
  type LossEncodeBuffers,
  type LossResult,
  type TargetInput,
} from './family/loss.js';
export type { LossOptions, MetricOptions } from './family/options.js';
export { WassersteinDiceLoss, type WassersteinDiceOptions } from './family/wasserstein.js';
export { fromFloat16Bits, toFloat16Bits } from './half.js';
export { WgslDiceError, type WgslDiceErrorCode } from './errors.js';
export type { BufferArg } from './buffers.js';
