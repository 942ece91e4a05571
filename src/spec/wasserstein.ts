import { WgslDiceError } from '../core/errors.js';
import { parseLayoutShape, type LayoutShape } from '../core/shape.js';
import { rejectUndeclaredChannelsFirst } from './layout-hint.js';
import { oneOf, optionalLabel, optionalNonNegative, ownOptions, snapshotOptions } from '../core/validate.js';
import { requireClassLimit } from './family.js';

/**
 * Options of {@link DiceEngine.wassersteinDice}: MONAI's GeneralizedWassersteinDiceLoss
 * (Fidon et al. 2017) on logits (always softmax over classes) and an integer label map, with
 * the per-sample class weights of the fixed batch > 1 behaviour (MONAI PR #8744).
 */
export interface WassersteinDiceOptions {
  /** Shape of pred: `[B, ...spatial, C]` (channels-last) or `[B, C, ...spatial]` (channels-first). */
  shape: readonly number[];
  /** Default 'channels-last'. */
  layout?: 'channels-last' | 'channels-first';
  /** The label map `[B, ...spatial]`: u8, u16 or u32 (default; also called 'label-map'). */
  target?: 'label-map' | 'u8' | 'u16' | 'u32';
  /** C x C distances between classes (row: the label), >= 0; normalised to a maximum of 1 as MONAI does. */
  distanceMatrix: readonly (readonly number[])[];
  /** 'default' (alpha 0 for class 0, 1 else) or 'GDL' (alpha_c = 1 / (volume_c + 1) per sample). */
  weighting?: 'default' | 'GDL';
  /** Over the per-sample losses: 'mean' (default), 'sum', or 'none' (scalar and gradient are the sum). */
  reduction?: 'mean' | 'sum' | 'none';
  smoothNumerator?: number;
  smoothDenominator?: number;
  /** Element type of the logits: 'f32' (default) or 'f16' (needs the device feature 'shader-f16'); computed in f32. */
  predType?: 'f32' | 'f16';
  /** Element type of the gradient written: 'f32' (default) or 'f16' (rounded as stored; needs 'shader-f16'). */
  gradType?: 'f32' | 'f16';
  label?: string;
}

export interface NormalizedWassersteinOptions extends LayoutShape {
  readonly target: 'u8' | 'u16' | 'u32';
  /** Row-major C x C, normalised to a maximum of 1. */
  readonly distances: Float32Array<ArrayBuffer>;
  readonly weighting: 'default' | 'GDL';
  readonly reduction: 'mean' | 'sum' | 'none';
  readonly smoothNumerator: number;
  readonly smoothDenominator: number;
  readonly predType: 'f32' | 'f16';
  readonly gradType: 'f32' | 'f16';
  readonly label: string;
}

const knownOptions = [
  'shape',
  'layout',
  'target',
  'distanceMatrix',
  'weighting',
  'reduction',
  'smoothNumerator',
  'smoothDenominator',
  'predType',
  'gradType',
  'label',
] as const;

export function normalizeWassersteinOptions(given: unknown): NormalizedWassersteinOptions {
  // Read once (see snapshotOptions): validated and used from this copy only.
  const options = snapshotOptions(given);
  if (typeof options !== 'object' || options === null) {
    throw new WgslDiceError(
      'INVALID_OPTION',
      'wassersteinDice() needs an options object with { shape, distanceMatrix }.',
    );
  }
  rejectUndeclaredChannelsFirst(options, "If the data is [B, C, ...spatial], pass layout: 'channels-first'.");
  const o = ownOptions<WassersteinDiceOptions>('wassersteinDice option', options, knownOptions);
  if (o.target === 'label-map') o.target = 'u32'; // one vocabulary with engine.loss and wgsl-dice/tfjs
  const channelsFirst =
    oneOf('layout', o.layout, ['channels-last', 'channels-first'] as const, 'channels-last') === 'channels-first';
  const shape = parseLayoutShape(o.shape, channelsFirst);
  const C = shape.classes;
  requireClassLimit(C);
  const matrix = o.distanceMatrix;
  if (!Array.isArray(matrix) || matrix.length !== C || matrix.some((row) => !Array.isArray(row) || row.length !== C)) {
    throw new WgslDiceError(
      'INVALID_OPTION',
      `distanceMatrix must be a ${C} x ${C} array of arrays (C = ${C} classes).`,
    );
  }
  const flat = (matrix as number[][]).flat();
  flat.forEach((d, i) => {
    if (typeof d !== 'number' || !Number.isFinite(d) || d < 0) {
      throw new WgslDiceError(
        'INVALID_OPTION',
        `distanceMatrix[${Math.floor(i / C)}][${i % C}] must be a finite number >= 0, got ${String(d)}.`,
      );
    }
  });
  const max = Math.max(...flat);
  if (!(max > 0))
    throw new WgslDiceError(
      'INVALID_OPTION',
      'distanceMatrix is all zeros; it needs a positive distance to normalise by.',
    );
  return {
    ...shape,
    target: oneOf('target', o.target, ['u8', 'u16', 'u32'] as const, 'u32'),
    distances: Float32Array.from(flat, (d) => d / max),
    weighting: oneOf('weighting', o.weighting, ['default', 'GDL'] as const, 'default'),
    reduction: oneOf('reduction', o.reduction, ['mean', 'sum', 'none'] as const, 'mean'),
    smoothNumerator: optionalNonNegative('smoothNumerator', o.smoothNumerator, 1e-5),
    smoothDenominator: optionalNonNegative('smoothDenominator', o.smoothDenominator, 1e-5),
    predType: oneOf('predType', o.predType, ['f32', 'f16'] as const, 'f32'),
    gradType: oneOf('gradType', o.gradType, ['f32', 'f16'] as const, 'f32'),
    label: optionalLabel(o.label, 'wgsl-dice wasserstein dice'),
  };
}
