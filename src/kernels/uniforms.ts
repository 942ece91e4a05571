import { UNIFORM_STRIDE } from '../core/limits.js';

/**
 * Uniform blocks from field tables. A table names each field as the WGSL `struct` does, in the
 * same order, so a unit test holds the two side by side (test/unit/program.test.ts, with
 * checkUniformTable of ./reflect.ts); the packing is then one loop, never hand-placed offsets.
 */

export type UniformKind = 'u32' | 'f32';
/** One field of a uniform block and the value packed into it (./reflect.ts's UniformField is the field alone). */
export type UniformValue = readonly [name: string, kind: UniformKind, value: number];

/** One block, padded to 16 bytes. */
export function packUniform(fields: readonly UniformValue[]): ArrayBuffer {
  const bytes = new ArrayBuffer(Math.max(16, Math.ceil((fields.length * 4) / 16) * 16));
  const view = new DataView(bytes);
  fields.forEach(([, kind, value], i) => {
    if (kind === 'u32') view.setUint32(i * 4, value, true);
    else view.setFloat32(i * 4, value, true);
  });
  return bytes;
}

/** One block per binding window, UNIFORM_STRIDE apart (a dispatch binds its window's block). */
export function packPerWindow<W>(
  windows: readonly W[],
  fieldsFor: (window: W) => readonly UniformValue[],
): ArrayBuffer {
  const bytes = new ArrayBuffer(Math.max(1, windows.length) * UNIFORM_STRIDE);
  windows.forEach((w, i) => {
    const block = packUniform(fieldsFor(w));
    if (block.byteLength > UNIFORM_STRIDE)
      throw new Error(`uniform block of ${block.byteLength} bytes exceeds UNIFORM_STRIDE`);
    new Uint8Array(bytes, i * UNIFORM_STRIDE, block.byteLength).set(new Uint8Array(block));
  });
  return bytes;
}
