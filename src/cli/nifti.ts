// NIfTI-1 and NIfTI-2 volumes (.nii, .nii.gz) for `wgsl-dice eval`, read with nifti-reader-js:
// the header (dimensions, data type, byte order, scaling, voxel size and its unit) and the
// image bytes come from the package; this module only views the bytes as numbers and turns the
// voxel size into millimetres. Gzip is undone with node:zlib (native; the same bytes as the
// package's own decompress(), several times faster on CT-sized files).
//
// Imported by the CLI only: the core entries (wgsl-dice, wgsl-dice/reference) never load it.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import * as nifti from 'nifti-reader-js';
import { CliError } from './errors.js';

export interface NiftiVolume {
  path: string;
  format: 'NIfTI-1' | 'NIfTI-2';
  /** The stored data type, e.g. 'uint8', 'int16', 'float32'. */
  dtype: string;
  /** NIfTI's own axis order (i, j, k: i varies fastest in the file). */
  dims: number[];
  /** Row-major shape of `data`: `dims` reversed (k, j, i), the layout the engine reads. */
  shape: number[];
  /** The voxel values (scl_slope and scl_inter applied when the header sets them). */
  data: ArrayLike<number>;
  /** Voxel size in millimetres per axis of `shape` (pixdim reversed), from the header's unit. */
  spacing: number[];
  /** The header's spatial unit as written ('mm', 'm', 'um' or 'unknown'). */
  unit: string;
}

/** NIfTI datatype codes wgsl-dice reads as voxel values. */
const DATATYPES: Record<number, { name: string; bytes: number; view: (buffer: ArrayBuffer) => ArrayLike<number> }> = {
  2: { name: 'uint8', bytes: 1, view: (b) => new Uint8Array(b) },
  4: { name: 'int16', bytes: 2, view: (b) => new Int16Array(b) },
  8: { name: 'int32', bytes: 4, view: (b) => new Int32Array(b) },
  16: { name: 'float32', bytes: 4, view: (b) => new Float32Array(b) },
  64: { name: 'float64', bytes: 8, view: (b) => new Float64Array(b) },
  256: { name: 'int8', bytes: 1, view: (b) => new Int8Array(b) },
  512: { name: 'uint16', bytes: 2, view: (b) => new Uint16Array(b) },
  768: { name: 'uint32', bytes: 4, view: (b) => new Uint32Array(b) },
  1024: { name: 'int64', bytes: 8, view: (b) => Float64Array.from(new BigInt64Array(b), Number) },
  1280: { name: 'uint64', bytes: 8, view: (b) => Float64Array.from(new BigUint64Array(b), Number) },
};

/** Millimetres per unit of NIfTI's xyzt_units & 7 (0: unknown, taken as millimetres). */
const UNIT_MM: Record<number, { name: string; mm: number }> = {
  0: { name: 'unknown', mm: 1 },
  1: { name: 'm', mm: 1000 },
  2: { name: 'mm', mm: 1 },
  3: { name: 'um', mm: 1e-3 },
};

export function isNiftiPath(path: string): boolean {
  return /\.nii(\.gz)?$/i.test(path);
}

/** Reads a .nii or .nii.gz file; `role` ('pred', 'target') names it in errors. */
export function readNifti(path: string, role: string): NiftiVolume {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new CliError(`cannot read the ${role} file ${path}: ${reason}.`);
  }
  const fail = (why: string): never => {
    throw new CliError(`${role} file ${path} ${why}`);
  };
  let buffer = toArrayBuffer(bytes);
  if (nifti.isCompressed(buffer)) {
    try {
      buffer = toArrayBuffer(gunzipSync(bytes));
    } catch (error) {
      fail(`is gzip-compressed but does not decompress: ${(error as Error).message}.`);
    }
  }
  if (!nifti.isNIFTI(buffer)) {
    fail('is not a single-file NIfTI-1 or NIfTI-2 volume (a .hdr/.img pair is not read; convert it to .nii).');
  }
  const header = nifti.readHeader(buffer);
  const type = DATATYPES[header.datatypeCode];
  if (!type) {
    fail(
      `holds NIfTI datatype ${header.datatypeCode}, which is not a scalar number type; label maps are ` +
        'uint8, int16, uint16, int32 or float32 volumes.',
    );
  }
  const rank = header.dims[0];
  let dims = header.dims.slice(1, 1 + rank);
  // Trailing axes of size 1 (a 3D volume stored with t = 1) are not axes of the volume.
  while (dims.length > 1 && dims[dims.length - 1] === 1) dims = dims.slice(0, -1);
  if (dims.length > 3 || dims.length < 1 || dims.some((d) => !Number.isInteger(d) || d < 1)) {
    fail(`has dimensions [${header.dims.slice(1, 1 + rank)}]; wgsl-dice reads volumes of 1 to 3 spatial axes.`);
  }
  const count = dims.reduce((a, b) => a * b, 1);
  const image = nifti.readImage(header, buffer);
  if (image.byteLength < count * type.bytes) {
    fail(
      `has ${image.byteLength} bytes of image data but its header says ${count} ${type.name} voxels ` +
        `(${count * type.bytes} bytes): the file is truncated.`,
    );
  }
  // readImage returned a copy of the image bytes: ours to view and to byte-swap in place.
  const stored = image.byteLength === count * type.bytes ? image : image.slice(0, count * type.bytes);
  if (!header.littleEndian && type.bytes > 1) swapBytes(new Uint8Array(stored), type.bytes);
  let data = type.view(stored);
  const slope = header.scl_slope;
  const intercept = header.scl_inter;
  // NIfTI: value = scl_slope * stored + scl_inter whenever scl_slope is set (not 0).
  if (Number.isFinite(slope) && slope !== 0 && (slope !== 1 || (Number.isFinite(intercept) && intercept !== 0))) {
    const scaled = new Float64Array(count);
    for (let i = 0; i < count; i++) scaled[i] = slope * data[i] + (Number.isFinite(intercept) ? intercept : 0);
    data = scaled;
  }
  const unit = UNIT_MM[header.xyzt_units & 7] ?? UNIT_MM[0];
  const pixdim = header.pixDims.slice(1, 1 + dims.length);
  if (pixdim.some((p) => !(Number.isFinite(p) && p > 0))) {
    fail(`has voxel sizes (pixdim) [${pixdim}], which are not all positive: give the spacing with --spacing.`);
  }
  return {
    path,
    format: nifti.isNIFTI1(buffer) ? 'NIfTI-1' : 'NIfTI-2',
    dtype: type.name,
    dims,
    shape: [...dims].reverse(),
    data,
    spacing: pixdim.map((p) => p * unit.mm).reverse(),
    unit: unit.name,
  };
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer
    ? bytes.buffer
    : (bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
}

function swapBytes(bytes: Uint8Array, width: number): void {
  for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
}
