import { WgslDiceError } from '../core/errors.js';
import { toFloat16Bits } from '../core/half.js';
import { describeValue } from '../core/validate.js';
import type { HostType } from '../program/program.js';

/** Numbers in nested arrays, row-major (`[[0.1, 0.9], [0.8, 0.2]]`): what compute() also takes for a host array. */
export type NestedNumbers = readonly (number | NestedNumbers)[];

const LABEL_MAX: Partial<Record<HostType, number>> = { u8: 255, u16: 65535, u32: 2 ** 32 - 1 };

/**
 * compute()'s host input given as nested arrays (as the presets' evaluate() takes them, and as
 * JSON gives them), flattened in row-major order into the typed array the tensor's host type
 * needs: f32 (f16 bits for an f16 pred, rounded as a Float32Array would be), or integer labels.
 * Nothing is coerced: the arrays must be rectangular, hold numbers only (labels: integers the
 * label type holds), and exactly the `elements` the loss's shape needs; otherwise a typed error
 * naming the first offending index.
 */
export function flattenNested(name: string, input: readonly unknown[], type: HostType, elements: number) {
  const shape: number[] = [];
  for (let level: unknown = input; Array.isArray(level); level = level[0]) {
    shape.push(level.length);
    if (level.length === 0) break;
  }
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== elements) {
    throw new WgslDiceError(
      'SHAPE_MISMATCH',
      `${name} is a nested array of shape [${shape}] (${count} elements), but this loss needs ${elements}.`,
    );
  }
  const values = new Float64Array(count);
  let at = 0;
  const walk = (x: unknown, depth: number, path: string): void => {
    if (depth < shape.length) {
      if (!Array.isArray(x) || x.length !== shape[depth]) {
        throw new WgslDiceError(
          'SHAPE_MISMATCH',
          `${name}${path} is ${Array.isArray(x) ? `an array of ${x.length}` : describeValue(x)} where the nested ` +
            `array's shape [${shape}] needs an array of ${shape[depth]}: ragged arrays have no shape.`,
        );
      }
      for (let i = 0; i < x.length; i++) walk(x[i], depth + 1, `${path}[${i}]`);
      return;
    }
    values[at++] = checkedValue(name + path, x, type);
  };
  walk(input, 0, '');
  if (type === 'f16-bits') return toFloat16Bits(Float32Array.from(values));
  if (type === 'f32') return Float32Array.from(values);
  return type === 'u8' ? Uint8Array.from(values) : type === 'u16' ? Uint16Array.from(values) : Uint32Array.from(values);
}

function checkedValue(where: string, x: unknown, type: HostType): number {
  if (typeof x !== 'number') {
    throw new WgslDiceError('INVALID_INPUT', `${where} is ${describeValue(x)}; a tensor holds numbers only.`);
  }
  const max = LABEL_MAX[type];
  if (max !== undefined && !(Number.isInteger(x) && x >= 0 && x <= max)) {
    throw new WgslDiceError(
      'LABEL_OUT_OF_RANGE',
      `${where} is ${x}, which a ${type} label map cannot hold: labels are integers in [0, ${max}].`,
    );
  }
  return x;
}
