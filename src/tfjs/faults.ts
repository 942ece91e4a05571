/**
 * The typed error for a call whose input the GPU passes found faulty: the fault words of the
 * loss's status buffer (see FAULT_WORDS in ./custom-grad.ts), read back after the call.
 */
import { WgslDiceError } from '../index.js';

/** Which call the words belong to, for the message. */
export interface FaultContext {
  /** 1 for the loss function's first call. */
  call: number;
  shape: readonly number[];
  classes: number;
}

const NONE = 0xffffffff;

/** LABEL_OUT_OF_RANGE or NON_FINITE_INPUT for the first fault counted, or undefined for none. */
export function faultError(name: string, words: Uint32Array, context: FaultContext): WgslDiceError | undefined {
  const [badLabels, badPred, badTarget, badMask] = words;
  const first = (k: number) =>
    words[k + 4] === NONE ? '' : ` (first at ${['voxel', 'element', 'element', 'index'][k]} ${words[k + 4]})`;
  const which = `${name}'s call ${context.call} (yPred of shape [${context.shape.join(', ')}])`;
  if (badLabels > 0) {
    return new WgslDiceError(
      'LABEL_OUT_OF_RANGE',
      `${which} had ${badLabels} label-map voxel(s) whose label is not a class in [0, ${context.classes}) nor ignoreIndex${first(0)}: ` +
        "a label >= C, a negative one, or in a float label map NaN or a fraction. That call's loss was NaN. " +
        'Fix the labels, or set ignoreIndex for a void label.',
    );
  }
  const found = (
    [
      [badPred, 'yPred element', 1],
      [badTarget, 'yTrue element', 2],
      [badMask, 'mask value', 3],
    ] as const
  ).filter(([count]) => count > 0);
  if (found.length === 0) return undefined;
  return new WgslDiceError(
    'NON_FINITE_INPUT',
    `${which} had ${found.map(([count, what, k]) => `${count} ${what}(s)${first(k)}`).join(', ')} that are NaN or infinite. ` +
      "That call's loss was NaN. Check the inputs (and the model's outputs) for overflow or uninitialised values.",
  );
}
