// The CLI's own .npy reader and writer (src/cli/npy.ts) against files NumPy 2.4 wrote
// (test/fixtures/npy, made by test/fixtures/npy/make.py: the values below are the ones that
// script gave NumPy), and against NumPy's format rules for what it writes.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeNpyFloat32, NpyFormatError, parseNpy, readNpy } from '../../src/cli/npy.js';

const fixture = (name: string) => new URL(`../fixtures/npy/${name}.npy`, import.meta.url);
const parse = (name: string) => parseNpy(readFileSync(fixture(name)));

describe('reading what NumPy writes', () => {
  it.each([
    ['f4-le-2x3', 'f4', [2, 3], [0.5, -1.25, 3.0, Math.fround(1e-3), 0, 65504]],
    ['f2-le-2x2', 'f2', [2, 2], [0.5, -2.0, 0.0999755859375, 65504]],
    ['f4-v2-2', 'f4', [2], [1.5, -2.0]],
    ['f4-scalar', 'f4', [], [2.5]],
    ['f4-empty-0x3', 'f4', [0, 3], []],
  ])('%s: float data as float32, shape and dtype as in the header', (name, dtype, shape, values) => {
    const parsed = parse(name);
    expect(parsed).toMatchObject({ dtype, shape, isInteger: false });
    expect(parsed.data).toBeInstanceOf(Float32Array);
    expect(Array.from(parsed.data)).toEqual(values);
    expect(parsed.float64).toBeUndefined();
  });

  it.each([
    ['u1-4', 'u1', [4], [0, 1, 2, 255]],
    ['i1-4', 'i1', [4], [-128, -1, 0, 127]],
    ['u2-be-3', 'u2', [3], [0, 258, 65535]],
    ['i2-le-3', 'i2', [3], [-32768, 1, 32767]],
    ['u4-le-2', 'u4', [2], [0, 4294967295]],
    ['i4-be-2x2', 'i4', [2, 2], [-2147483648, -1, 2, 2147483647]],
    ['i8-le-3', 'i8', [3], [-5, 0, 9007199254740991]],
    ['u8-be-2', 'u8', [2], [3, 9007199254740991]],
    ['b1-3', 'b1', [3], [1, 0, 1]],
  ])('%s: integers of either byte order as numbers', (name, dtype, shape, values) => {
    const parsed = parse(name);
    expect(parsed).toMatchObject({ dtype, shape, isInteger: true });
    expect(Array.from(parsed.data)).toEqual(values);
  });

  it('float64 (big- and little-endian) becomes float32, counting the values that were rounded', () => {
    const le = parse('f8-le-2x2');
    expect(le.dtype).toBe('f8');
    expect(le.data).toBeInstanceOf(Float32Array);
    expect(Array.from(le.data)).toEqual([0.1, 0.5, 1 / 3, -7].map(Math.fround));
    // 0.1 and 1/3 are not float32 numbers; 0.5 and -7 are.
    expect(le.float64).toMatchObject({ values: 4, rounded: 2 });
    const change = Math.max(Math.abs(Math.fround(0.1) - 0.1) / 0.1, Math.abs(Math.fround(1 / 3) - 1 / 3) * 3);
    expect(le.float64!.largestRelativeChange).toBeCloseTo(change, 12);
  });

  it("float64 beyond float32's range is an error naming the value and its index, never an infinity", () => {
    expect(() => parse('f8-be-3')).toThrow(NpyFormatError);
    expect(() => parse('f8-be-3')).toThrow(/1e\+300 at flat index 2, beyond float32's range/);
  });

  it('readNpy passes a note about the float64 conversion to its caller (stderr in the CLI)', () => {
    const notes: string[] = [];
    const tensor = readNpy(new URL(fixture('f8-le-2x2')).pathname, 'pred', (text) => notes.push(text));
    expect(tensor.dtype).toBe('f8');
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/pred file .*f8-le-2x2\.npy holds float64; .*converted \(2 of 4 values rounded/);
    const none: string[] = [];
    readNpy(new URL(fixture('f4-le-2x3')).pathname, 'pred', (text) => none.push(text));
    expect(none).toEqual([]);
  });
});

describe('files the CLI cannot use are clear errors', () => {
  it.each([
    ['f4-fortran-2x3', /Fortran order \(column-major\).*np\.ascontiguousarray/],
    ['object-2', /Python objects \(an object array\).*astype\(np\.float32\)/],
    ['structured-2', /structured array/],
    ['c8-2', /complex numbers/],
  ])('%s', (name, message) => {
    expect(() => parse(name)).toThrow(NpyFormatError);
    expect(() => parse(name)).toThrow(message);
  });

  it('not .npy at all, a truncated file, an unknown version', () => {
    expect(() => parseNpy(new TextEncoder().encode('not numpy'))).toThrow(/not a readable \.npy file/);
    const whole = readFileSync(fixture('f4-le-2x3'));
    expect(() => parseNpy(whole.subarray(0, whole.length - 4))).toThrow(
      /has 20 bytes of data .* \(24 bytes\): the file is truncated/,
    );
    const future = Uint8Array.from(whole);
    future[6] = 9;
    expect(() => parseNpy(future)).toThrow(/format version 9\.0/);
  });
});

describe('writing', () => {
  it('writes the bytes NumPy writes for the same float32 array (format 1.0, 64-byte aligned header)', () => {
    const numpy = readFileSync(fixture('f4-le-2x3'));
    const values = Float32Array.of(0.5, -1.25, 3.0, 1e-3, 0, 65504);
    expect(Buffer.from(encodeNpyFloat32(values, [2, 3]))).toEqual(numpy);
    const one = readFileSync(fixture('f4-v2-2'));
    // Same values, format 1.0 rather than the fixture's 2.0: read back equal.
    const written = encodeNpyFloat32(Float32Array.of(1.5, -2), [2]);
    expect(parseNpy(written)).toEqual(parseNpy(one));
    expect((10 + new DataView(written.buffer).getUint16(8, true)) % 64).toBe(0);
  });
});
