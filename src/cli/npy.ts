// NumPy .npy files through the `npyjs` package. Its `load()` fetches URLs, so files are read
// with node:fs and handed to `parse()` as an ArrayBuffer; `dump()` writes the float32 gradient
// (a version 1.0 header numpy reads back). What npyjs leaves unchecked is checked here: Fortran
// order, and a data length that does not match the header's shape (a truncated file).
import { readFileSync, writeFileSync } from 'node:fs';
import { dump, parse } from 'npyjs';
import { CliError } from './errors.js';
import { formatShape } from './format.js';

const FLOAT_DTYPES = new Set(['f2', 'f4']);
const INTEGER_DTYPES = new Set(['i1', 'u1', 'i2', 'u2', 'i4', 'u4', 'i8', 'u8', 'b1']);

export interface NpyTensor {
  path: string;
  /** NumPy's type code without the byte order: 'f4', 'f2', 'u1', 'i8', 'b1', ... */
  dtype: string;
  shape: number[];
  /** Float data as f32 (float16 widened); integer and boolean data as numbers. */
  data: Float32Array | ArrayLike<number>;
  isInteger: boolean;
}

/** Reads a C-ordered float16/float32, integer or boolean .npy file; `role` names it in errors. */
export function readNpy(path: string, role: string): NpyTensor {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new CliError(`cannot read the ${role} file ${path}: ${reason}.`);
  }
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(buffer);
  } catch (error) {
    throw new CliError(`${role} file ${path} is not a readable .npy file: ${(error as Error).message}.`);
  }
  const { dtype, shape, fortranOrder } = parsed;
  if (!FLOAT_DTYPES.has(dtype) && !INTEGER_DTYPES.has(dtype)) {
    throw new CliError(
      `${role} file ${path} holds dtype ${dtype}; wgsl-dice reads float32/float16 and integer/bool arrays ` +
        '(convert with a.astype(np.float32)).',
    );
  }
  if (fortranOrder) {
    throw new CliError(`${role} file ${path} is in Fortran order; save np.ascontiguousarray(a) instead.`);
  }
  const data = parsed.data as unknown as ArrayLike<number | bigint | boolean>;
  const expected = shape.reduce((a, b) => a * b, 1);
  if (data.length !== expected) {
    throw new CliError(
      `${role} file ${path} has ${data.length} values but its header says shape ${formatShape(shape)} ` +
        `(${expected} values): the file is truncated or corrupt.`,
    );
  }
  return { path, dtype, shape, data: toNumbers(data), isInteger: INTEGER_DTYPES.has(dtype) };
}

function toNumbers(data: ArrayLike<number | bigint | boolean>): Float32Array | ArrayLike<number> {
  if (data instanceof Float32Array) return data;
  if (data instanceof BigInt64Array || data instanceof BigUint64Array || Array.isArray(data)) {
    return Float64Array.from(data as ArrayLike<number | bigint | boolean>, Number);
  }
  return data as ArrayLike<number>;
}

/** Writes `data` as a C-ordered float32 .npy file of `shape`. */
export function writeNpyFloat32(path: string, data: Float32Array, shape: readonly number[]): void {
  try {
    writeFileSync(path, new Uint8Array(dump(data, [...shape])));
  } catch (error) {
    throw new CliError(`cannot write ${path}: ${(error as Error).message}.`);
  }
}
