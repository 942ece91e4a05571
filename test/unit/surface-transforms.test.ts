// The distance transforms of the surface reference (src/reference/surface/): the linear-time
// transform against the brute force on random and adversarial masks, the surface metrics against
// an all-pairs computation, the subvoxel measures' symmetries, and the losses' gradients.
// Tolerances: squared Euclidean distances with unit spacing, and chessboard / taxicab distances,
// equal exactly (they are integers); anisotropic Euclidean |a - e| <= 1e-12 |e|.

import { describe, expect, it } from 'vitest';
import {
  averageSurfaceDistance,
  boundaryLoss,
  distanceTransform,
  distanceTransformBatch,
  distanceTransformBruteForce,
  hausdorffDTLoss,
  hausdorffDistance,
  hausdorffDistanceField,
  labelMapSurfaceMetrics,
  maskEdges,
  mulberry32,
  signedDistanceTransform,
  surfaceAreaTable,
  contourLengthTable,
  surfaceDice,
  surfaceMetrics,
} from '../../src/reference/index.js';

const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

type MaskKind = 'empty' | 'full' | 'single' | 'corner' | 'sparse' | 'dense' | 'line' | 'diagonal' | 'border';

/** A mask of one kind, drawn with `random`. */
function makeMask(kind: MaskKind, shape: readonly number[], random: () => number): Uint8Array {
  const n = numel(shape);
  const mask = new Uint8Array(n);
  const strides = shape.map((_, a) => numel(shape.slice(a + 1)));
  const at = (coords: number[]): number => coords.reduce((acc, c, a) => acc + c * strides[a], 0);
  const randomCoords = (): number[] => shape.map((d) => Math.floor(random() * d));
  switch (kind) {
    case 'empty':
      break;
    case 'full':
      mask.fill(1);
      break;
    case 'single':
      mask[at(randomCoords())] = 1;
      break;
    case 'corner':
      mask[at(shape.map((d) => (random() < 0.5 ? 0 : d - 1)))] = 1;
      break;
    case 'sparse':
    case 'dense': {
      const p = kind === 'sparse' ? 0.05 : 0.6;
      for (let i = 0; i < n; i++) mask[i] = random() < p ? 1 : 0;
      break;
    }
    case 'line': {
      // a 1-voxel line along a random axis through a random voxel
      const axis = Math.floor(random() * shape.length);
      const c = randomCoords();
      for (let k = 0; k < shape[axis]; k++) mask[at(c.map((v, a) => (a === axis ? k : v)))] = 1;
      break;
    }
    case 'diagonal': {
      const c = randomCoords();
      for (;;) {
        mask[at(c)] = 1;
        for (let a = 0; a < c.length; a++) c[a]++;
        if (c.some((v, a) => v >= shape[a])) break;
      }
      break;
    }
    case 'border': {
      // the face of the first axis at index 0, plus a few random voxels
      for (let i = 0; i < n; i++) if (Math.floor(i / strides[0]) === 0 && random() < 0.7) mask[i] = 1;
      for (let k = 0; k < 3; k++) mask[at(randomCoords())] = 1;
      break;
    }
  }
  return mask;
}

const KINDS: MaskKind[] = ['empty', 'full', 'single', 'corner', 'sparse', 'dense', 'line', 'diagonal', 'border'];
const SHAPES: number[][] = [
  [1],
  [2],
  [7],
  [31],
  [1, 1],
  [1, 9],
  [9, 1],
  [13, 11],
  [5, 17],
  [2, 2],
  [1, 1, 1],
  [1, 4, 5],
  [6, 1, 7],
  [5, 6, 7],
  [3, 3, 9],
  [8, 2, 1],
];

function expectRelClose(actual: Float64Array, expected: Float64Array, rel: number, what: string): void {
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    const ok = e === Infinity ? actual[i] === Infinity : Math.abs(actual[i] - e) <= rel * Math.abs(e);
    if (!ok) expect.fail(`${what}: element ${i} is ${actual[i]}, brute force ${e}`);
  }
}

describe('distanceTransform (linear time) vs distanceTransformBruteForce', () => {
  const random = mulberry32(20);
  for (const shape of SHAPES) {
    it(`[${shape}]: every mask kind, every metric, unit and anisotropic spacing`, () => {
      for (const kind of KINDS) {
        for (let draw = 0; draw < 2; draw++) {
          const mask = makeMask(kind, shape, random);
          const what = `[${shape}] ${kind}`;
          // unit spacing: squared Euclidean, chessboard and taxicab distances are integers, equal exactly
          expect(Array.from(distanceTransform(mask, shape, { squared: true })), `${what} squared`).toEqual(
            Array.from(distanceTransformBruteForce(mask, shape, { squared: true })),
          );
          for (const metric of ['chessboard', 'taxicab'] as const) {
            expect(Array.from(distanceTransform(mask, shape, { metric })), `${what} ${metric}`).toEqual(
              Array.from(distanceTransformBruteForce(mask, shape, { metric })),
            );
          }
          const spacing = shape.map(() => 0.3 + 2.7 * random());
          expectRelClose(
            distanceTransform(mask, shape, { spacing }),
            distanceTransformBruteForce(mask, shape, { spacing }),
            1e-12,
            `${what} spacing`,
          );
          expectRelClose(
            distanceTransform(mask, shape, { spacing, squared: true }),
            distanceTransformBruteForce(mask, shape, { spacing, squared: true }),
            1e-12,
            `${what} spacing squared`,
          );
        }
      }
    });
  }

  it('large integer spacing and long lines stay exact (split points by exact integer division)', () => {
    const shape = [3, 400];
    const mask = makeMask('sparse', shape, mulberry32(3));
    expect(Array.from(distanceTransform(mask, shape, { spacing: [7, 3], squared: true }))).toEqual(
      Array.from(distanceTransformBruteForce(mask, shape, { spacing: [7, 3], squared: true })),
    );
  });

  it('hand-worked: a 1D line and a 2D point', () => {
    expect(Array.from(distanceTransform([0, 0, 1, 0, 0, 0], [6]))).toEqual([2, 1, 0, 1, 2, 3]);
    const point = [0, 0, 0, 0, 1, 0, 0, 0, 0];
    expect(Array.from(distanceTransform(point, [3, 3], { squared: true }))).toEqual([2, 1, 2, 1, 0, 1, 2, 1, 2]);
    expect(Array.from(distanceTransform(point, [3, 3], { metric: 'chessboard' }))).toEqual([1, 1, 1, 1, 0, 1, 1, 1, 1]);
    expect(Array.from(distanceTransform(point, [3, 3], { metric: 'taxicab' }))).toEqual([2, 1, 2, 1, 0, 1, 2, 1, 2]);
    expect(Array.from(distanceTransform(point, [3, 3], { spacing: [2, 0.5] }))).toEqual([
      Math.hypot(2, 0.5),
      2,
      Math.hypot(2, 0.5),
      0.5,
      0,
      0.5,
      Math.hypot(2, 0.5),
      2,
      Math.hypot(2, 0.5),
    ]);
  });

  it('a mask without a feature voxel gives +Infinity everywhere, for every metric', () => {
    for (const metric of ['euclidean', 'chessboard', 'taxicab'] as const) {
      expect(Array.from(distanceTransform(new Uint8Array(12), [3, 4], { metric }))).toEqual(
        new Array(12).fill(Infinity),
      );
    }
  });

  it('rejects a spacing for chessboard / taxicab, bad spacings and bad shapes', () => {
    expect(() => distanceTransform([1, 0], [2], { metric: 'taxicab', spacing: 2 })).toThrow(/voxel steps/);
    expect(() => distanceTransform([1, 0], [2], { spacing: 0 })).toThrow(/spacing/);
    expect(() => distanceTransform([1, 0], [2], { spacing: [1, 2] })).toThrow(/spacing/);
    expect(() => distanceTransform([1, 0], [3])).toThrow(/needs 3/);
    expect(() => distanceTransform([1, 0], [2, 0])).toThrow(/positive integers/);
    expect(() => distanceTransform([1, 0], [2], { metric: 'manhattan' as never })).toThrow(/metric/);
  });

  it('distanceTransformBatch transforms every (sample, class) volume on its own', () => {
    const shape = [2, 3, 4, 5];
    const random = mulberry32(9);
    const data = Array.from({ length: numel(shape) }, () => (random() < 0.2 ? 1 : 0));
    const out = distanceTransformBatch(data, shape, { metric: 'taxicab' });
    for (let v = 0; v < 6; v++) {
      const volume = data.slice(v * 20, (v + 1) * 20);
      expect(Array.from(out.subarray(v * 20, (v + 1) * 20))).toEqual(
        Array.from(distanceTransformBruteForce(volume, [4, 5], { metric: 'taxicab' })),
      );
    }
  });
});

describe('signedDistanceTransform and the Hausdorff-DT field', () => {
  it('outside +distance to the nearest inside voxel, inside -distance to the nearest outside voxel', () => {
    const random = mulberry32(5);
    for (const shape of [[9], [6, 7], [4, 5, 3]]) {
      const mask = makeMask('dense', shape, random);
      const spacing = shape.map(() => 0.5 + random());
      const signed = signedDistanceTransform(mask, shape, { spacing });
      const toInside = distanceTransformBruteForce(mask, shape, { spacing });
      const toOutside = distanceTransformBruteForce(
        mask.map((v) => 1 - v),
        shape,
        { spacing },
      );
      for (let i = 0; i < mask.length; i++) {
        const expected = mask[i] ? -toOutside[i] : toInside[i];
        expect(Math.abs(signed[i] - expected) <= 1e-12 * Math.abs(expected), `[${shape}] ${i}`).toBe(true);
        expect(signed[i]).not.toBe(0);
      }
      const field = hausdorffDistanceField(mask, shape);
      const unitSigned = signedDistanceTransform(mask, shape);
      field.forEach((v, i) => expect(v).toBe(Math.abs(unitSigned[i])));
    }
  });

  it('empty: +Infinity; full: -Infinity; the Hausdorff-DT field is 0 for both, and thresholds at > 0.5', () => {
    expect(Array.from(signedDistanceTransform([0, 0, 0], [3]))).toEqual([Infinity, Infinity, Infinity]);
    expect(Array.from(signedDistanceTransform([1, 1, 1], [3]))).toEqual([-Infinity, -Infinity, -Infinity]);
    expect(Array.from(hausdorffDistanceField([0.5, 0.2, 0.5], [3]))).toEqual([0, 0, 0]);
    expect(Array.from(hausdorffDistanceField([0.9, 0.6, 0.7], [3]))).toEqual([0, 0, 0]);
    expect(Array.from(hausdorffDistanceField([0.51, 0.5, 0.1, 0.2], [4]))).toEqual([1, 1, 2, 3]);
  });
});

// ---------------------------------------------------------------------------------------------
// Surface metrics against an independent all-pairs computation
// ---------------------------------------------------------------------------------------------

/** Edge voxels by their definition, and every pairwise distance between two edge sets. */
function allPairs(
  pred: Uint8Array,
  target: Uint8Array,
  shape: number[],
  spacing: number[],
): { forward: number[]; backward: number[] } {
  const coordsOf = (i: number): number[] => {
    const c: number[] = [];
    for (let a = shape.length - 1; a >= 0; a--) {
      c.unshift(i % shape[a]);
      i = Math.floor(i / shape[a]);
    }
    return c;
  };
  const edges = (mask: Uint8Array): number[][] => {
    const out: number[][] = [];
    for (let i = 0; i < mask.length; i++) {
      if (!mask[i]) continue;
      const c = coordsOf(i);
      const onEdge = c.some((v, a) =>
        [-1, 1].some((step) => {
          const n = [...c];
          n[a] = v + step;
          if (n[a] < 0 || n[a] >= shape[a]) return true;
          return !mask[n.reduce((acc, x, k) => acc * shape[k] + x, 0)];
        }),
      );
      if (onEdge) out.push(c);
    }
    return out;
  };
  const p = edges(pred);
  const t = edges(target);
  const nearest = (from: number[][], to: number[][]): number[] =>
    from.map((a) => Math.min(...to.map((b) => Math.hypot(...a.map((v, k) => (v - b[k]) * spacing[k])))));
  return { forward: nearest(p, t), backward: nearest(t, p) };
}

describe('surface metrics vs all-pairs edge distances', () => {
  it('maskEdges: in the mask with a face neighbour outside it or outside the image', () => {
    expect(Array.from(maskEdges([1, 1, 1, 1, 1, 1, 1, 1, 1], [3, 3]))).toEqual([1, 1, 1, 1, 0, 1, 1, 1, 1]);
    expect(Array.from(maskEdges([0, 1, 1, 1, 0], [5]))).toEqual([0, 1, 0, 1, 0]);
  });

  it('Hausdorff (max, percentiles, directed), average surface distance and surface Dice on random masks', () => {
    const random = mulberry32(77);
    for (const shape of [[12, 9], [5, 6, 7], [17]]) {
      for (let draw = 0; draw < 4; draw++) {
        const pred = makeMask(draw % 2 ? 'dense' : 'sparse', shape, random);
        const target = makeMask(draw < 2 ? 'dense' : 'border', shape, random);
        const spacing = shape.map(() => 0.5 + random());
        const { forward, backward } = allPairs(pred, target, shape, spacing);
        if (forward.length === 0 || backward.length === 0) continue;
        const close = (a: number, e: number, what: string) =>
          expect(Math.abs(a - e) <= 1e-6 * Math.max(1, Math.abs(e)), `[${shape}] ${what}: ${a} vs ${e}`).toBe(true);
        close(hausdorffDistance(pred, target, shape, { spacing }), Math.max(...forward, ...backward), 'max');
        close(
          hausdorffDistance(pred, target, shape, { spacing, directed: true }),
          Math.max(...forward),
          'directed max',
        );
        // torch.quantile's linear interpolation (in float32 there; 1e-6 covers it)
        const quantile = (values: number[], q: number) => {
          const s = [...values].sort((a, b) => a - b);
          const r = q * (s.length - 1);
          const lo = Math.floor(r);
          return s[lo] + (r - lo) * (s[Math.ceil(r)] - s[lo]);
        };
        const hd95 = Math.max(quantile(forward, 0.95), quantile(backward, 0.95));
        close(hausdorffDistance(pred, target, shape, { spacing, percentile: 95 }), hd95, 'hd95');
        close(
          hausdorffDistance(pred, target, shape, { spacing, percentile: 30, directed: true }),
          quantile(forward, 0.3),
          'directed hd30',
        );
        const asd = forward.reduce((a, b) => a + b, 0) / forward.length;
        close(averageSurfaceDistance(pred, target, shape, { spacing }), asd, 'asd');
        const pooled = [...forward, ...backward];
        close(
          averageSurfaceDistance(pred, target, shape, { spacing, symmetric: true }),
          pooled.reduce((a, b) => a + b, 0) / pooled.length,
          'symmetric asd',
        );
        const nsd = pooled.filter((d) => Math.fround(d) <= 1.5).length / pooled.length;
        close(surfaceDice(pred, target, shape, { spacing, tolerance: 1.5 }), nsd, 'nsd');
        const m = surfaceMetrics(pred, target, shape, { spacing, tolerance: 1.5 });
        close(m.hausdorff, hd95, 'surfaceMetrics hd95');
        close(m.averageSurfaceDistance, asd, 'surfaceMetrics asd');
        close(m.surfaceDice, nsd, 'surfaceMetrics nsd');
      }
    }
  });
});

describe('subvoxel measures (marching squares / marching cubes)', () => {
  it("2D: MONAI's contour lengths (diagonal half-cells, straight crossings, saddles)", () => {
    const [s0, s1] = [0.7, 1.9];
    const diag = 0.5 * Math.hypot(s0, s1);
    const t = contourLengthTable([s0, s1]);
    // codes: corner (0,0) = 8, (0,1) = 4, (1,0) = 2, (1,1) = 1
    const expected = [0, diag, diag, s1, diag, s0, 2 * diag, diag, diag, 2 * diag, s0, diag, s1, diag, diag, 0];
    expected.forEach((e, code) => expect(Math.abs(t[code] - e) <= 1e-15, `code ${code}`).toBe(true));
  });

  it('3D: a code and its complement have the same area; at unit spacing a rotated cell keeps its area', () => {
    const random = mulberry32(8);
    const spacing = [0.4 + random(), 0.4 + random(), 0.4 + random()];
    const t = surfaceAreaTable(spacing);
    for (let code = 0; code < 256; code++) expect(Math.abs(t[code] - t[255 - code]) <= 1e-15 * t[code]).toBe(true);
    expect(t[0]).toBe(0);
    expect(t[255]).toBe(0);
    // a quarter turn about the first axis: offset (i, j, k) -> (i, k, 1 - j); corner (i, j, k) has bit 2^(7 - 4i - 2j - k)
    const rotate = (code: number): number => {
      let out = 0;
      for (let c = 0; c < 8; c++) {
        if (!(code & (1 << (7 - c)))) continue;
        const [i, j, k] = [c >> 2, (c >> 1) & 1, c & 1];
        out |= 1 << (7 - (4 * i + 2 * k + (1 - j)));
      }
      return out;
    };
    const unit = surfaceAreaTable([1, 1, 1]);
    for (let code = 0; code < 256; code++) expect(Math.abs(unit[rotate(code)] - unit[code]) <= 1e-14).toBe(true);
    // a single corner cuts a triangle of legs s/2: area |(s1 s2, s0 s2, s0 s1)| / 8
    const [a, b, c] = spacing;
    expect(Math.abs(t[1] - Math.hypot(b * c, a * c, a * b) / 8) <= 1e-15).toBe(true);
    // half the cube (a face's four corners): a rectangle across the cell
    expect(Math.abs(t[0b00001111] - b * c) <= 1e-15).toBe(true);
  });
});

describe('losses: gradients', () => {
  it('hausdorffDTLoss: d value / d p by central differences (fields constant away from 0.5)', () => {
    const random = mulberry32(31);
    const shape = [2, 2, 5, 4];
    const n = numel(shape);
    // probabilities at least 0.05 away from 0.5, so h never moves a voxel across the threshold
    const probs = Float64Array.from({ length: n }, () =>
      random() < 0.5 ? 0.05 + 0.4 * random() : 0.55 + 0.4 * random(),
    );
    const target = Float64Array.from({ length: n }, () => (random() < 0.4 ? 1 : 0));
    for (const options of [
      { alpha: 2, reduction: 'mean' as const },
      { alpha: 1.5, reduction: 'sum' as const, batch: true },
      { alpha: 2, reduction: 'none' as const, log: true },
    ]) {
      const { grad } = hausdorffDTLoss(probs, target, shape, options);
      const h = 1e-6;
      for (let i = 0; i < n; i += 3) {
        const plus = Float64Array.from(probs);
        const minus = Float64Array.from(probs);
        plus[i] += h;
        minus[i] -= h;
        const numeric =
          (hausdorffDTLoss(plus, target, shape, options).value - hausdorffDTLoss(minus, target, shape, options).value) /
          (2 * h);
        expect(
          Math.abs(grad[i] - numeric) <= 1e-6 * Math.max(1, Math.abs(numeric)),
          `${JSON.stringify(options)} element ${i}`,
        ).toBe(true);
      }
    }
  });

  it('boundaryLoss: value = mean p * phi over the kept channels, gradient phi / N', () => {
    const shape = [1, 2, 1, 5];
    const probs = [0.1, 0.2, 0.3, 0.4, 0.5, 0.9, 0.8, 0.7, 0.6, 0.5];
    const target = [1, 1, 0, 0, 0, 0, 0, 1, 1, 0];
    const r = boundaryLoss(probs, target, shape, { spacing: [1, 2] });
    // channel 1 (channel 0 dropped): phi = [4, 2, -2, -2, 2]
    const phi = [4, 2, -2, -2, 2];
    expect(Array.from(r.distance.subarray(5))).toEqual(phi);
    expect(r.value).toBeCloseTo(phi.reduce((s, d, i) => s + d * probs[5 + i], 0) / 5, 14);
    expect(Array.from(r.grad)).toEqual([0, 0, 0, 0, 0, ...phi.map((d) => d / 5)]);
    const all = boundaryLoss(probs, target, shape, { includeBackground: true });
    expect(Array.from(all.distance.subarray(0, 5))).toEqual([-2, -1, 1, 2, 3]);
    expect(boundaryLoss([0.3, 0.7], [1, 1], [1, 1, 2]).value).toBe(0); // a full target: phi = 0
  });
});

describe('labelMapSurfaceMetrics (the CPU baseline of the bench)', () => {
  it('equals the per-class metrics of one-hot masks', () => {
    const random = mulberry32(12);
    const shape = [9, 8, 7];
    const n = numel(shape);
    const pred = Uint8Array.from({ length: n }, () => Math.floor(random() * 4));
    const target = Uint8Array.from({ length: n }, (_, i) => (random() < 0.8 ? pred[i] : Math.floor(random() * 4)));
    const spacing = [0.8, 1.2, 2];
    const rows = labelMapSurfaceMetrics(pred, target, shape, { labels: 4, spacing, tolerance: [1, 2, 1.5] });
    expect(rows.map((r) => r.label)).toEqual([1, 2, 3]);
    rows.forEach((row, k) => {
      const p = pred.map((v) => (v === row.label ? 1 : 0));
      const t = target.map((v) => (v === row.label ? 1 : 0));
      const m = surfaceMetrics(p, t, shape, { spacing, percentile: 95, tolerance: [1, 2, 1.5][k] });
      expect(row.hausdorff).toBe(m.hausdorff);
      expect(row.averageSurfaceDistance).toBe(m.averageSurfaceDistance);
      expect(row.surfaceDice).toBe(m.surfaceDice);
    });
  });
});

describe('surface metrics: empty surfaces and bad arguments', () => {
  const shape = [4, 4];
  const some = Uint8Array.from({ length: 16 }, (_, i) => (i === 5 || i === 6 ? 1 : 0));
  const none = new Uint8Array(16);
  it('one side empty: Hausdorff +Infinity (NaN with a percentile, even directed), ASD +Infinity, NSD 0; both empty: NaN', () => {
    for (const [p, t] of [
      [some, none],
      [none, some],
    ]) {
      expect(hausdorffDistance(p, t, shape)).toBe(Infinity);
      expect(hausdorffDistance(p, t, shape, { directed: true })).toBe(Infinity);
      expect(hausdorffDistance(p, t, shape, { percentile: 100 })).toBeNaN();
      expect(hausdorffDistance(p, t, shape, { percentile: 95, directed: true })).toBeNaN();
      expect(averageSurfaceDistance(p, t, shape)).toBe(Infinity);
      expect(surfaceDice(p, t, shape, { tolerance: 100 })).toBe(0);
      expect(surfaceDice(p, t, shape, { tolerance: 100, subvoxels: true })).toBe(0);
    }
    expect(hausdorffDistance(none, none, shape)).toBeNaN();
    expect(averageSurfaceDistance(none, none, shape, { symmetric: true })).toBeNaN();
    expect(surfaceDice(none, none, shape, { tolerance: 1, subvoxels: true })).toBeNaN();
  });
  it('rejects percentiles, tolerances and spacings out of range', () => {
    expect(() => hausdorffDistance(some, some, shape, { percentile: 100.5 })).toThrow(/percentile/);
    expect(() => surfaceDice(some, some, shape, { tolerance: -1 })).toThrow(/tolerance/);
    expect(() => hausdorffDistance(some, some, shape, { metric: 'chessboard', spacing: [1, -1] })).toThrow(/spacing/);
    expect(() => surfaceDice(some, some, [16], { tolerance: 1, subvoxels: true })).toThrow(/2D and 3D/);
  });
});
