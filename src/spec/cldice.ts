import { WgslDiceError } from '../core/errors.js';
import { parseLayoutShape } from '../core/shape.js';
import { F32_MAX, F32_MIN_NORMAL } from '../core/limits.js';
import { describeValue, isF32Representable, oneOf, optionalLabel, ownOptions } from '../core/validate.js';

/**
 * Options of `engine.loss({ formula: 'cl-dice', ... })`: clDice (Shit et al., CVPR 2021) as
 * MONAI 1.5.0 computes it (SoftclDiceLoss, and SoftDiceclDiceLoss with `alpha` < 1), on
 * probabilities and a dense target (one-hot or soft), 2D or 3D, forward and backward.
 */
export interface ClDiceOptions {
  formula: 'cl-dice';
  /**
   * Shape of pred (and target): `[B, H, W, C]` / `[B, D, H, W, C]` channels-last, or
   * `[B, C, H, W]` / `[B, C, D, H, W]` channels-first.
   */
  shape: readonly number[];
  /** Default 'channels-last'. */
  layout?: 'channels-last' | 'channels-first';
  /** MONAI's iter_: soft-skeleton iterations, an integer >= 0 (default 3). */
  skeletonIterations?: number;
  /**
   * Weight of clDice against soft Dice: loss = (1 - alpha) soft_dice + alpha cl_dice, in [0, 1].
   * Default 1 (clDice alone, MONAI's SoftclDiceLoss); SoftDiceclDiceLoss uses 0.5.
   */
  alpha?: number;
  /** MONAI's smooth, added to every numerator and denominator; > 0 (default 1). */
  smooth?: number;
  /**
   * pred's element type: 'f16' reads f16 predictions (the device feature shader-f16), widened to
   * f32 once per call; every sum and the gradient are f32. Default 'f32'.
   */
  predType?: 'f32' | 'f16';
  /** The gradient's element type: 'f16' rounds the f32 gradient to f16 as it is written. Default 'f32'. */
  gradType?: 'f32' | 'f16';
  label?: string;
}

export interface NormalizedClDiceOptions {
  readonly dims: readonly number[];
  readonly batch: number;
  readonly classes: number;
  /** (D, H, W); D = 1 in 2D. */
  readonly size: readonly [number, number, number];
  readonly rank: 2 | 3;
  readonly channelsFirst: boolean;
  readonly elements: number;
  readonly skeletonIterations: number;
  readonly alpha: number;
  readonly smooth: number;
  readonly predType: 'f32' | 'f16';
  readonly gradType: 'f32' | 'f16';
  readonly label: string;
}

const knownOptions = [
  'formula',
  'shape',
  'layout',
  'skeletonIterations',
  'alpha',
  'smooth',
  'predType',
  'gradType',
  'label',
] as const;

/** True when loss() options ask for clDice (the branch point in DiceEngine.loss). */
export function isClDiceOptions(options: unknown): options is ClDiceOptions {
  return typeof options === 'object' && options !== null && (options as { formula?: unknown }).formula === 'cl-dice';
}

/** The largest smooth whose sums stay inside f32: Σ + smooth and 2Σpt + smooth must not overflow. */
const MAX_SMOOTH = F32_MAX / 4;

export function normalizeClDiceOptions(given: ClDiceOptions): NormalizedClDiceOptions {
  // One snapshot of the caller's object: every option is read once (a getter cannot change it later).
  const options = ownOptions<ClDiceOptions>('cl-dice loss option', given, knownOptions);
  const layout = oneOf('layout', options.layout, ['channels-last', 'channels-first'], 'channels-last');
  const channelsFirst = layout === 'channels-first';
  const shape = parseLayoutShape(options.shape, channelsFirst);
  const spatial = channelsFirst ? shape.dims.slice(2) : shape.dims.slice(1, -1);
  if (spatial.length !== 2 && spatial.length !== 3) {
    throw new WgslDiceError(
      'INVALID_SHAPE',
      `clDice needs 2D or 3D inputs ([B, C, H, W] / [B, C, D, H, W] channels-first, [B, H, W, C] / [B, D, H, W, C] channels-last), got ${JSON.stringify(shape.dims)}.`,
    );
  }
  // undefined is the default; null, like any other non-integer, is a mistake worth naming.
  const iterations = options.skeletonIterations === undefined ? 3 : options.skeletonIterations;
  if (typeof iterations !== 'number' || !Number.isInteger(iterations) || iterations < 0 || iterations > 64) {
    throw new WgslDiceError(
      'INVALID_OPTION',
      `skeletonIterations must be an integer in [0, 64] (MONAI's iter_; omit it for 3), got ${describeValue(iterations)}.`,
    );
  }
  const alpha = options.alpha === undefined ? 1 : options.alpha;
  if (typeof alpha !== 'number' || !(alpha >= 0 && alpha <= 1) || !isF32Representable(alpha)) {
    throw new WgslDiceError(
      'INVALID_OPTION',
      `alpha (the weight of clDice against soft Dice) must be in [0, 1] and 0 or at least 1.2e-38 (f32), got ${describeValue(alpha)}.`,
    );
  }
  const smooth = options.smooth === undefined ? 1 : options.smooth;
  if (typeof smooth !== 'number' || !(smooth >= F32_MIN_NORMAL && smooth <= MAX_SMOOTH)) {
    const why =
      typeof smooth === 'number' && smooth > 0 && smooth < F32_MIN_NORMAL
        ? "it is below f32's smallest normal number (1.2e-38), so the GPU sees 0 and an empty skeleton divides 0 by 0"
        : typeof smooth === 'number' && smooth > MAX_SMOOTH
          ? 'larger values overflow f32 (3.4e38) once the sums are added to them'
          : 'it keeps empty skeletons from dividing 0 by 0';
    throw new WgslDiceError(
      'INVALID_OPTION',
      `smooth must be a finite number in [1.2e-38, 8.5e37], got ${describeValue(smooth)}: ${why}.`,
    );
  }
  return {
    dims: shape.dims,
    batch: shape.batch,
    classes: shape.classes,
    size: (spatial.length === 2 ? [1, ...spatial] : spatial) as [number, number, number],
    rank: spatial.length as 2 | 3,
    channelsFirst,
    elements: shape.elements,
    skeletonIterations: iterations,
    alpha,
    smooth,
    predType: oneOf('predType', options.predType, ['f32', 'f16'] as const, 'f32'),
    gradType: oneOf('gradType', options.gradType, ['f32', 'f16'] as const, 'f32'),
    label: optionalLabel(options.label, 'wgsl-dice cl-dice'),
  };
}
