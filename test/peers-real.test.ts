// The real-peer differential set (test/fixtures/real-peers-public.jsonl.gz, 476 cases; provenance
// in test/fixtures/README.md): values and gradients that MONAI 1.5.0, segmentation_models.pytorch
// and nnU-Net v2 computed with their own Python code (float64, torch autograd) on random inputs.
// Each case runs through its preset twice on the GPU:
//   - evaluate(x, y, { mask }) against expected.value (for reduction 'none': the returned tensor,
//     shape and every element, against expected.valueShape / valueData);
//   - create(shape, { targetShape, maskShape }).compute(x, y, { grad: true, mask }) against
//     expected.value (the scalar the GPU path trains on: the sum of a 'none' tensor) and
//     expected.grad, d(value)/dx.
// Tolerances are the set's own (its README):
//   value:    |a - e| <= 1e-6 + 1e-4 * |e|
//   gradient: |a - e| <= 1e-4 * max|e| + 1e-7, element-wise.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { labels } from '../src/presets/common.js';
import type { Preset, PresetValue } from '../src/presets/index.js';
import { tensor } from '../src/peers/tensor.js';
import { expectClose, withValidation } from './helpers/gpu.js';
import { useTestEngine } from './helpers/test-engine.js';

interface Data {
  shape: number[];
  data: number[];
}

interface RealPeerCase {
  id: string;
  lib: 'monai' | 'smp' | 'nnunet';
  api: string;
  seed: number;
  options: Record<string, unknown>;
  x: Data;
  y: Data;
  mask: Data | null;
  expected: { value: number; valueShape: number[] | null; valueData: number[] | null; grad: number[] };
}

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'real-peers-public.jsonl.gz');
const cases: RealPeerCase[] = gunzipSync(readFileSync(FIXTURE))
  .toString('utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line) as RealPeerCase);

const VALUE_TOL = { atol: 1e-6, rtol: 1e-4 };
function gradTolerance(expected: ArrayLike<number>): { atol: number; rtol: number } {
  let max = 0;
  for (let i = 0; i < expected.length; i++) max = Math.max(max, Math.abs(expected[i]));
  return { atol: 1e-4 * max + 1e-7, rtol: 0 };
}

function shapeOf(value: PresetValue): number[] {
  const shape: number[] = [];
  let v: unknown = value;
  while (Array.isArray(v)) {
    shape.push(v.length);
    v = v[0];
  }
  return shape;
}
const flat = (v: unknown): number[] => (Array.isArray(v) ? v.flatMap(flat) : [v as number]);

/** The library's ignore label, as the GPU path packs it in a label map. */
function ignoreLabel(c: RealPeerCase): number | null {
  const v = c.lib === 'nnunet' ? c.options.ignore_label : c.options.ignore_index;
  return typeof v === 'number' ? v : null;
}

const gpu = useTestEngine();

function presetOf(c: RealPeerCase): Preset {
  const table = (
    gpu.engine.presets as unknown as Record<string, Record<string, (o: Record<string, unknown>) => Preset>>
  )[c.lib];
  const make = table?.[c.api];
  if (typeof make !== 'function') throw new Error(`no preset engine.presets.${c.lib}.${c.api}`);
  return make(c.options);
}

describe('real-peer differential set (MONAI 1.5.0, smp 50066163, nnU-Net v2 0e495086)', () => {
  it('holds the 476 public cases', () => {
    expect(cases.length).toBe(476);
  });

  for (const c of cases) {
    describe(c.id, () => {
      it('evaluate: value', async () => {
        const extras = {
          inputShape: c.x.shape,
          targetShape: c.y.shape,
          mask: c.mask?.data ?? null,
          maskShape: c.mask?.shape ?? null,
        };
        const value = await withValidation(gpu.device, () => presetOf(c).evaluate(c.x.data, c.y.data, extras));
        if (c.expected.valueShape) {
          expect(shapeOf(value)).toEqual(c.expected.valueShape);
          expectClose(flat(value), c.expected.valueData!, VALUE_TOL, `${c.id} value tensor`);
        } else {
          expectClose([value as number], [c.expected.value], VALUE_TOL, `${c.id} value`);
        }
      });

      it('create().compute: value and gradient', async () => {
        const loss = await presetOf(c).create(c.x.shape, {
          targetShape: c.y.shape,
          ...(c.mask ? { maskShape: c.mask.shape } : {}),
        });
        try {
          const target =
            loss.options.target === 'dense'
              ? Float32Array.from(c.y.data)
              : labels(tensor(c.y.shape, c.y.data), ignoreLabel(c));
          const result = await withValidation(gpu.device, () =>
            loss.compute(Float32Array.from(c.x.data), target, {
              grad: true,
              ...(c.mask ? { mask: Float32Array.from(c.mask.data) } : {}),
            }),
          );
          expectClose([result.loss], [c.expected.value], VALUE_TOL, `${c.id} GPU-path value`);
          expectClose(result.grad!, c.expected.grad, gradTolerance(c.expected.grad), `${c.id} gradient`);
        } finally {
          loss.destroy();
        }
      });
    });
  }
});
