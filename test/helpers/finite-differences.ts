// Central differences of a float64 function: the gradient the GPU's closed forms are checked
// against (error ~h^2 plus the function's rounding / h, about 1e-8 absolute at h = 1e-5).
export function centralDifferences(f: (x: Float64Array) => number, x0: Float64Array, h = 1e-5): Float64Array {
  const g = new Float64Array(x0.length);
  const x = Float64Array.from(x0);
  for (let i = 0; i < x.length; i++) {
    x[i] = x0[i] + h;
    const up = f(x);
    x[i] = x0[i] - h;
    const down = f(x);
    x[i] = x0[i];
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

/** The sum of a loss value, a number or a nested tensor (a 'none' reduction trains on its sum). */
export const totalOf = (v: unknown): number =>
  Array.isArray(v) ? v.reduce((a: number, e) => a + totalOf(e), 0) : (v as number);
