import { WgslDiceError } from '../core/errors.js';
import { parseLayoutShape } from '../core/shape.js';
import { rejectUnknownKeys } from '../core/validate.js';

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
  readonly label: string;
}

const knownOptions = ['formula', 'shape', 'layout', 'skeletonIterations', 'alpha', 'smooth', 'label'] as const;

/** True when loss() options ask for clDice (the branch point in DiceEngine.loss). */
export function isClDiceOptions(options: unknown): options is ClDiceOptions {
  return typeof options === 'object' && options !== null && (options as { formula?: unknown }).formula === 'cl-dice';
}

export function normalizeClDiceOptions(options: ClDiceOptions): NormalizedClDiceOptions {
  rejectUnknownKeys('cl-dice loss option', options, knownOptions);
  const layout = options.layout ?? 'channels-last';
  if (layout !== 'channels-last' && layout !== 'channels-first') {
    throw new WgslDiceError(
      'INVALID_OPTION',
      `layout must be 'channels-last' or 'channels-first', got ${JSON.stringify(layout)}.`,
    );
  }
  const channelsFirst = layout === 'channels-first';
  const shape = parseLayoutShape(options.shape, channelsFirst);
  const spatial = channelsFirst ? shape.dims.slice(2) : shape.dims.slice(1, -1);
  if (spatial.length !== 2 && spatial.length !== 3) {
    throw new WgslDiceError(
      'INVALID_SHAPE',
      `clDice needs 2D or 3D inputs ([B, C, H, W] / [B, C, D, H, W] channels-first, [B, H, W, C] / [B, D, H, W, C] channels-last), got ${JSON.stringify(shape.dims)}.`,
    );
  }
  const iterations = options.skeletonIterations ?? 3;
  if (!Number.isInteger(iterations) || iterations < 0 || iterations > 64) {
    throw new WgslDiceError(
      'INVALID_OPTION',
      `skeletonIterations must be an integer in [0, 64], got ${String(iterations)}.`,
    );
  }
  const alpha = options.alpha ?? 1;
  if (typeof alpha !== 'number' || !(alpha >= 0 && alpha <= 1)) {
    throw new WgslDiceError(
      'INVALID_OPTION',
      `alpha (the weight of clDice against soft Dice) must be in [0, 1], got ${String(alpha)}.`,
    );
  }
  const smooth = options.smooth ?? 1;
  if (typeof smooth !== 'number' || !Number.isFinite(smooth) || !(smooth > 0)) {
    throw new WgslDiceError(
      'INVALID_OPTION',
      `smooth must be a finite number > 0 (it keeps empty skeletons from dividing 0 by 0), got ${String(smooth)}.`,
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
    label: options.label ?? 'wgsl-dice cl-dice',
  };
}
