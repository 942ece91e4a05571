// NIfTI-1 and NIfTI-2 volumes (.nii, .nii.gz) for `wgsl-dice eval`, read with nifti-reader-js:
// the header (dimensions, data type, byte order, image offset, scaling, voxel size and its unit)
// comes from the package; this module only views the image bytes as numbers and turns the voxel
// size into millimetres. Gzip is undone with node:zlib (native; the same bytes as the
// package's own decompress(), several times faster on CT-sized files).
//
// Imported by the CLI only: the core entries (wgsl-dice, wgsl-dice/reference) never load it.
import { gunzipSync } from 'node:zlib';
import * as nifti from 'nifti-reader-js';
import { CliError } from './errors.js';
import { readInputFile } from './files.js';

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
type View = (b: Uint8Array) => ArrayLike<number>;
/** A typed array over the bytes (aligned for the element size). */
const over =
  <T>(Kind: new (buffer: ArrayBuffer, offset: number, length: number) => T, bytes: number) =>
  (b: Uint8Array): T =>
    new Kind(b.buffer as ArrayBuffer, b.byteOffset, b.byteLength / bytes);
const DATATYPES: Record<number, { name: string; bytes: number; view: View }> = {
  2: { name: 'uint8', bytes: 1, view: (b) => b },
  4: { name: 'int16', bytes: 2, view: over(Int16Array, 2) },
  8: { name: 'int32', bytes: 4, view: over(Int32Array, 4) },
  16: { name: 'float32', bytes: 4, view: over(Float32Array, 4) },
  64: { name: 'float64', bytes: 8, view: over(Float64Array, 8) },
  256: { name: 'int8', bytes: 1, view: over(Int8Array, 1) },
  512: { name: 'uint16', bytes: 2, view: over(Uint16Array, 2) },
  768: { name: 'uint32', bytes: 4, view: over(Uint32Array, 4) },
  1024: { name: 'int64', bytes: 8, view: (b) => Float64Array.from(over(BigInt64Array, 8)(b), Number) },
  1280: { name: 'uint64', bytes: 8, view: (b) => Float64Array.from(over(BigUint64Array, 8)(b), Number) },
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
  const bytes = readInputFile(path, role);
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
  const bytesNeeded = count * type.bytes;
  const offset = header.vox_offset;
  if (!(Number.isInteger(offset) && offset >= 0 && offset + bytesNeeded <= buffer.byteLength)) {
    fail(
      `has ${Math.max(0, buffer.byteLength - offset)} bytes of image data after its header (vox_offset ${offset}) ` +
        `but its header says ${count} ${type.name} voxels (${bytesNeeded} bytes): the file is truncated.`,
    );
  }
  // The image in place where the header puts it (nifti.readImage would copy it first: a CT
  // volume's worth); a copy only where the offset does not suit the element size or the bytes
  // must be swapped.
  const inPlace = header.littleEndian || type.bytes === 1;
  const stored =
    inPlace && offset % type.bytes === 0
      ? new Uint8Array(buffer, offset, bytesNeeded)
      : new Uint8Array(buffer.slice(offset, offset + bytesNeeded));
  if (!inPlace) swapBytes(stored, type.bytes);
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
