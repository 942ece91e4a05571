// NumPy .npy files, read and written here (no dependency): the format is a magic string, a
// version, a Python-literal header dict ({'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), })
// and the raw C-ordered values. See numpy/lib/format.py for the specification.
//
// Read: versions 1.0, 2.0 and 3.0; little-, big- and no-endian (`<`, `>`, `|`, `=`) codes of
// bool, (u)int 8-64 and float 16/32/64. Float data comes back as float32: float16 widened
// exactly, float64 rounded (a note says how much changed; a finite value beyond float32's range
// is an error, never an infinity). Fortran order, object, string, complex and structured arrays,
// and files whose size disagrees with their header, are errors that say how to re-save the file.
// Written: C-ordered little-endian float32, version 1.0 (what numpy itself writes).
import { writeFileSync } from 'node:fs';
import { fromFloat16Bits } from '../index.js';
import { CliError } from './errors.js';
import { readInputFile } from './files.js';
import { formatShape } from './format.js';

const MAGIC = '\x93NUMPY';
/** numpy pads the magic, version, header length and header to a multiple of this. */
const HEADER_ALIGNMENT = 64;
const F32_MAX = 3.4028234663852886e38;

const FLOAT_DTYPES = new Set(['f2', 'f4', 'f8']);

export interface NpyTensor {
  path: string;
  /** NumPy's type code without the byte order: 'f4', 'f8', 'f2', 'u1', 'i8', 'b1', ... */
  dtype: string;
  shape: number[];
  /** Float data as f32 (float16 widened, float64 rounded); integer and boolean data as numbers. */
  data: Float32Array | ArrayLike<number>;
  isInteger: boolean;
}

/** What {@link parseNpy} found, before it has a file name. */
export interface ParsedNpy {
  dtype: string;
  shape: number[];
  data: Float32Array | ArrayLike<number>;
  isInteger: boolean;
  /** For float64 data: how the conversion to float32 went (for a note to the user). */
  float64?: { values: number; rounded: number; largestRelativeChange: number };
}

/** A file that is not a .npy the CLI reads; `parseNpy` callers add the file's name and role. */
export class NpyFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NpyFormatError';
  }
}

/**
 * Reads a C-ordered .npy file; `role` ('pred', 'target') names it in errors. Float64 data is
 * converted to float32 with a note on stderr (`note` receives it; tests pass their own).
 */
export function readNpy(path: string, role: string, note: (text: string) => void = writeNote): NpyTensor {
  const bytes = readInputFile(path, role);
  let parsed: ParsedNpy;
  try {
    parsed = parseNpy(bytes);
  } catch (error) {
    if (error instanceof NpyFormatError) throw new CliError(`${role} file ${path} ${error.message}`);
    throw error;
  }
  if (parsed.float64) note(float64Note(`${role} file ${path}`, parsed.float64));
  const { dtype, shape, data, isInteger } = parsed;
  return { path, dtype, shape, data, isInteger };
}

function writeNote(text: string): void {
  process.stderr.write(`wgsl-dice: note: ${text}\n`);
}

function float64Note(what: string, f: NonNullable<ParsedNpy['float64']>): string {
  const change =
    f.rounded === 0
      ? 'every value is exact in float32'
      : `${f.rounded} of ${f.values} values rounded to the nearest float32, largest relative change ` +
        `${f.largestRelativeChange.toPrecision(2)}`;
  return `${what} holds float64; wgsl-dice computes in float32, so it was converted (${change}).`;
}

/** Parses the bytes of a .npy file; throws {@link NpyFormatError} saying what is wrong. */
export function parseNpy(bytes: Uint8Array): ParsedNpy {
  const { header, dataOffset } = splitHeader(bytes);
  const { descr, fortranOrder, shape } = parseHeader(header);
  const order = descr[0];
  const dtype = descr.slice(1);
  if (!'<>|='.includes(order) || !(FLOAT_DTYPES.has(dtype) || Object.hasOwn(INTEGER_VIEWS, dtype))) {
    throw new NpyFormatError(unsupportedDtype(descr));
  }
  if (fortranOrder && shape.filter((dim) => dim > 1).length > 1) {
    throw new NpyFormatError(
      'is in Fortran order (column-major); wgsl-dice reads C order: save np.ascontiguousarray(a) instead.',
    );
  }
  const count = shape.reduce((a, b) => a * b, 1);
  const width = Number(dtype.slice(1));
  const available = bytes.byteLength - dataOffset;
  if (available !== count * width) {
    throw new NpyFormatError(
      `has ${available} bytes of data but its header says ${descr} of shape ${formatShape(shape)} ` +
        `(${count * width} bytes): the file is truncated or corrupt.`,
    );
  }
  // A copy: aligned for typed arrays whatever the header's length, and free to byte-swap.
  // (new Uint8Array copies; Buffer's own slice() would not.)
  const raw = new Uint8Array(bytes.subarray(dataOffset));
  if (order === '>' && width > 1) swapBytes(raw, width);
  const buffer = raw.buffer;
  if (dtype === 'f2') return floats(Float32Array.from(fromFloat16Bits(new Uint16Array(buffer))));
  if (dtype === 'f4') return floats(new Float32Array(buffer));
  if (dtype === 'f8') return { dtype, shape, isInteger: false, ...toFloat32(new Float64Array(buffer)) };
  return { dtype, shape, data: INTEGER_VIEWS[dtype](buffer), isInteger: true };

  function floats(data: Float32Array): ParsedNpy {
    return { dtype, shape, data, isInteger: false };
  }
}

/** Integer and bool data as numbers (64-bit integers through BigInt: exact up to 2^53). */
const INTEGER_VIEWS: Record<string, (buffer: ArrayBuffer) => ArrayLike<number>> = {
  b1: (buffer) => new Uint8Array(buffer),
  u1: (buffer) => new Uint8Array(buffer),
  i1: (buffer) => new Int8Array(buffer),
  u2: (buffer) => new Uint16Array(buffer),
  i2: (buffer) => new Int16Array(buffer),
  u4: (buffer) => new Uint32Array(buffer),
  i4: (buffer) => new Int32Array(buffer),
  u8: (buffer) => Float64Array.from(new BigUint64Array(buffer), Number),
  i8: (buffer) => Float64Array.from(new BigInt64Array(buffer), Number),
};

/** float64 to float32: rounding is counted, a finite value beyond float32's range is an error. */
function toFloat32(values: Float64Array): Pick<ParsedNpy, 'data' | 'float64'> {
  const data = new Float32Array(values.length);
  let rounded = 0;
  let largestRelativeChange = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (Number.isFinite(value) && Math.abs(value) > F32_MAX) {
      throw new NpyFormatError(
        `holds float64 ${value} at flat index ${i}, beyond float32's range (±3.4e38), where wgsl-dice ` +
          'computes; rescale the data (or clip it) before saving.',
      );
    }
    data[i] = value;
    if (data[i] !== value && !Number.isNaN(value)) {
      rounded++;
      largestRelativeChange = Math.max(largestRelativeChange, Math.abs(data[i] - value) / Math.abs(value));
    }
  }
  return { data, float64: { values: values.length, rounded, largestRelativeChange } };
}

function unsupportedDtype(descr: string): string {
  const kind = descr.replace(/^[<>|=]/, '')[0];
  const what =
    kind === 'O'
      ? 'Python objects (an object array)'
      : kind === 'c'
        ? 'complex numbers'
        : kind === 'U' || kind === 'S'
          ? 'strings'
          : kind === 'M' || kind === 'm'
            ? 'dates or time deltas'
            : `dtype ${descr}`;
  return (
    `holds ${what}; wgsl-dice reads bool, integer and float16/32/64 arrays: save ` +
    'a.astype(np.float32) (predictions, dense targets) or a.astype(np.uint8) (label maps) instead.'
  );
}

function splitHeader(bytes: Uint8Array): { header: string; dataOffset: number } {
  const latin1 = (from: number, to: number) =>
    Buffer.from(bytes.buffer, bytes.byteOffset + from, to - from).toString('latin1');
  if (bytes.byteLength < 10 || latin1(0, 6) !== MAGIC) {
    throw new NpyFormatError('is not a readable .npy file: it does not start with the NumPy magic string.');
  }
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let start: number;
  let length: number;
  if (major === 1) {
    start = 10;
    length = view.getUint16(8, true);
  } else if ((major === 2 || major === 3) && bytes.byteLength >= 12) {
    start = 12;
    length = view.getUint32(8, true);
  } else {
    throw new NpyFormatError(
      `is not a readable .npy file: format version ${major}.${bytes[7]} (wgsl-dice reads 1.0 to 3.0).`,
    );
  }
  if (start + length > bytes.byteLength) {
    throw new NpyFormatError('is not a readable .npy file: its header runs past the end of the file.');
  }
  // Version 3.0 headers are UTF-8; every header this reader accepts is ASCII.
  return { header: latin1(start, start + length), dataOffset: start + length };
}

/** The three keys of the header's Python dict literal. */
function parseHeader(header: string): { descr: string; fortranOrder: boolean; shape: number[] } {
  const unreadable = (what: string) =>
    new NpyFormatError(`is not a readable .npy file: its header ${what} (${JSON.stringify(header.trim())}).`);
  if (/['"]descr['"]\s*:\s*\[/.test(header)) {
    throw new NpyFormatError(
      'holds a structured array (named fields); wgsl-dice reads plain arrays: save each field on its own, ' +
        "e.g. np.save('x.npy', a['x']).",
    );
  }
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]+)['"]/.exec(header)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined) throw unreadable("has no 'descr'");
  if (fortran === undefined) throw unreadable("has no 'fortran_order'");
  if (shapeText === undefined) throw unreadable("has no 'shape'");
  const parts = shapeText
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  const shape = parts.map((part) => (/^\d+L?$/.test(part) ? Number.parseInt(part, 10) : Number.NaN));
  if (shape.some((dim) => !Number.isSafeInteger(dim))) throw unreadable('has a shape that is not a tuple of sizes');
  return { descr, fortranOrder: fortran === 'True', shape };
}

function swapBytes(bytes: Uint8Array, width: number): void {
  for (let start = 0; start < bytes.length; start += width) bytes.subarray(start, start + width).reverse();
}

/** The bytes of a C-ordered little-endian float32 .npy file (format 1.0) holding `data`. */
export function encodeNpyFloat32(data: Float32Array, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) {
    throw new Error(`internal error: ${data.length} values for shape ${formatShape(shape)}`);
  }
  // A 1-tuple needs its trailing comma in Python: (3,).
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  const padded = Math.ceil((10 + dict.length + 1) / HEADER_ALIGNMENT) * HEADER_ALIGNMENT - 10;
  const header = `${dict}${' '.repeat(padded - dict.length - 1)}\n`;
  const out = new Uint8Array(10 + header.length + data.byteLength);
  for (let i = 0; i < MAGIC.length; i++) out[i] = MAGIC.charCodeAt(i);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const values = new DataView(out.buffer, 10 + header.length);
  for (let i = 0; i < data.length; i++) values.setFloat32(i * 4, data[i], true);
  return out;
}

/** Writes `data` as a C-ordered float32 .npy file of `shape`. */
export function writeNpyFloat32(path: string, data: Float32Array, shape: readonly number[]): void {
  try {
    writeFileSync(path, encodeNpyFloat32(data, shape));
  } catch (error) {
    throw new CliError(`cannot write ${path}: ${(error as Error).message}.`);
  }
}
