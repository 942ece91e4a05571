// How a peer test vector (test/fixtures/vectors-public.json) is run through a GPU preset and how
// its result is judged. Free of imports on purpose: the vitest suites (through peer-vectors.ts)
// and the Deno conformance run (test/deno/conformance.mjs, wgpu) share it as it is.
//
// Tolerance policy: |actual − expected| ≤ atol + rtol·|expected| with
//   rtol = 1e-4 always (every source rtol is ≤ 1e-4, and several sources print 4–5 digits only);
//   atol = the source's absolute tolerance when it states one — "atol=…" (numpy), "abs=…"
//          (pytest.approx), "places=N" (unittest: the difference rounded to N places is 0, i.e.
//          atol = 0.5·10^−N), keras' "atol=1e-6" — otherwise 1e-12, a float64 round-off floor so
//          that an exact-zero expectation (e.g. DiceLoss(x, x) with soft labels) is not failed by
//          1e-16 noise. Relative-only sources ("rtol=1e-5", "rel=1e-05") get only that floor.
// NaN expectations (`expected_isnan`) are compared as NaN patterns, element-wise, and the other
// elements of such a case within the tolerance.

export type Value = number | boolean | null | Value[];

export interface VectorCase {
  id: string;
  library: string;
  api: string;
  options?: Record<string, unknown>;
  layout?: string | null;
  input: Value;
  input_shape?: number[] | null;
  target: Value;
  target_shape?: number[] | null;
  target_dtype?: string | null;
  mask?: Value | null;
  mask_shape?: number[] | null;
  post?: string | null;
  source_tolerance: string;
  expected: Value;
  expected_isnan?: Value | null;
}

export interface Tolerance {
  rtol: number;
  atol: number;
}

export function toleranceOf(source: string): Tolerance {
  const tol: Tolerance = { rtol: 1e-4, atol: 1e-12 };
  const num = String.raw`([0-9.]+(?:e-?[0-9]+)?)`;
  const atol = new RegExp(String.raw`\b(?:atol|abs)\s*=\s*` + num).exec(source);
  if (atol) tol.atol = Math.max(tol.atol, Number(atol[1]));
  const places = /places\s*=\s*(\d+)/.exec(source);
  if (places) tol.atol = Math.max(tol.atol, 0.5 * 10 ** -Number(places[1]));
  return tol;
}

export function shapeOf(x: unknown): number[] {
  const s: number[] = [];
  let v = x;
  while (Array.isArray(v)) {
    s.push(v.length);
    v = v[0];
  }
  return s;
}

export function flat(x: unknown): number[] {
  if (Array.isArray(x)) return x.flatMap(flat);
  if (typeof x === 'boolean') return [x ? 1 : 0];
  return [x as number];
}

const within = (a: number, e: number, tol: Tolerance) => Math.abs(a - e) <= tol.atol + tol.rtol * Math.abs(e);

/** Why `actual` is not what case `c` expects under the policy above, or null when it is. */
export function judgeVectorResult(c: VectorCase, actual: unknown): string | null {
  const tol = toleranceOf(c.source_tolerance);
  const a = flat(actual);
  if (c.expected_isnan !== undefined && c.expected_isnan !== null) {
    if (JSON.stringify(shapeOf(actual)) !== JSON.stringify(shapeOf(c.expected_isnan))) {
      return `shape [${shapeOf(actual)}], expected [${shapeOf(c.expected_isnan)}]`;
    }
    const nanPattern = flat(c.expected_isnan).map(Boolean);
    const e = flat(c.expected);
    for (let i = 0; i < a.length; i++) {
      if (Number.isNaN(a[i]) !== nanPattern[i])
        return `element ${i}: got ${a[i]}, expected ${nanPattern[i] ? 'NaN' : 'a number'}`;
      const ei = e[i];
      if (!nanPattern[i] && ei !== undefined && ei !== null && !Number.isNaN(ei) && !within(a[i], ei, tol)) {
        return `element ${i}: got ${a[i]}, expected ${ei}`;
      }
    }
    return null;
  }
  const e = flat(c.expected);
  // GeneralizedDiceScore(reduction="mean") returns a 0-d value that MONAI's test compares against a
  // 1-element list through numpy broadcasting; accept exactly that case, otherwise shapes must agree.
  const scalarVsSingleton = typeof actual === 'number' && e.length === 1;
  if (!scalarVsSingleton && JSON.stringify(shapeOf(actual)) !== JSON.stringify(shapeOf(c.expected))) {
    return `shape [${shapeOf(actual)}], expected [${shapeOf(c.expected)}]`;
  }
  if (a.length !== e.length) return `${a.length} elements, expected ${e.length}`;
  for (let i = 0; i < a.length; i++) {
    if (!within(a[i], e[i], tol)) {
      const bound = tol.atol + tol.rtol * Math.abs(e[i]);
      return `element ${i}: got ${a[i]}, expected ${e[i]} (|diff| ${Math.abs(a[i] - e[i])} > ${bound})`;
    }
  }
  return null;
}

/** The source test's post-processing of the returned tensor ("mean()" / "sum()"), on the host. */
export function applyPost(value: unknown, post: string | null | undefined): unknown {
  if (!post) return value;
  const v = flat(value);
  const p = post.replace(/\s+/g, '');
  if (p === 'mean()') return v.reduce((s, x) => s + x, 0) / v.length;
  if (p === 'sum()') return v.reduce((s, x) => s + x, 0);
  throw new Error(`unsupported post-processing '${post}'`);
}

// api "monai.losses.DiceLoss" → engine.presets.monai.DiceLoss
const LIBRARY_OF_PREFIX: [string, string][] = [
  ['monai.', 'monai'],
  ['segmentation_models_pytorch.', 'smp'],
  ['segmentation_models.', 'qsm'],
  ['keras.', 'keras'],
  ['nnunetv2.', 'nnunet'],
];

interface EvaluatingPreset {
  evaluate(pred: unknown, target: unknown, extras: Record<string, unknown>): Promise<unknown>;
}

/** Runs case `c` through `presets` (an engine's `engine.presets`) and returns what the library would return. */
export async function runVectorCase(presets: unknown, c: VectorCase): Promise<unknown> {
  const lib = LIBRARY_OF_PREFIX.find(([p]) => c.api.startsWith(p))?.[1];
  const name = c.api.split('.').pop() as string;
  const table = lib ? (presets as Record<string, Record<string, unknown>>)[lib] : undefined;
  const factory = table?.[name];
  if (typeof factory !== 'function') throw new Error(`no GPU preset engine.presets.${lib}.${name} for api '${c.api}'`);
  const preset = (factory as (options: Record<string, unknown>) => EvaluatingPreset)(c.options ?? {});
  const raw = await preset.evaluate(c.input, c.target, {
    mask: c.mask ?? null,
    layout: c.layout ?? null,
    inputShape: c.input_shape ?? null,
    targetShape: c.target_shape ?? null,
    maskShape: c.mask_shape ?? null,
    targetDtype: c.target_dtype ?? null,
  });
  return applyPost(raw, c.post);
}
