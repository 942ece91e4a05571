/**
 * IEEE 754 half precision on the host, for f16 predictions (`predType: 'f16'`): JavaScript
 * has no Float16Array before Node 24, so f16 tensors travel as their raw bits in a Uint16Array.
 */

const scratch = new DataView(new ArrayBuffer(4));

/** Rounds each value to the nearest f16 (ties to even) and returns the bits. */
export function toFloat16Bits(values: ArrayLike<number>): Uint16Array<ArrayBuffer> {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = halfBits(values[i]);
  return out;
}

/** The values of f16 bit patterns, exactly (every f16 is a float64). */
export function fromFloat16Bits(bits: ArrayLike<number>): Float64Array {
  const out = new Float64Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i];
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const fraction = h & 0x3ff;
    out[i] =
      exponent === 0
        ? sign * fraction * 2 ** -24
        : exponent === 31
          ? fraction
            ? NaN
            : sign * Infinity
          : sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
  }
  return out;
}

function halfBits(value: number): number {
  scratch.setFloat32(0, value);
  const x = scratch.getUint32(0);
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0); // Inf or NaN
  const e = exponent - 127 + 15;
  if (e >= 31) return sign | 0x7c00; // overflow to infinity
  if (e <= 0) {
    if (e < -10) return sign; // underflows to zero
    mantissa |= 0x800000;
    const shift = 14 - e;
    const half = mantissa >> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const midpoint = 1 << (shift - 1);
    return sign | (half + (rest > midpoint || (rest === midpoint && half & 1) ? 1 : 0));
  }
  const rest = mantissa & 0x1fff;
  let bits = sign | (e << 10) | (mantissa >> 13);
  // Round to nearest even; a carry into the exponent is the correct result.
  if (rest > 0x1000 || (rest === 0x1000 && bits & 1)) bits++;
  return bits;
}
