// MONAI's SoftclDiceLoss and SoftDiceclDiceLoss presets on a real WebGPU device against the 100
// vendored cases computed by MONAI's own code (test/fixtures/cldice-public.jsonl.gz): the value
// through evaluate(pred, target), value and gradient through create() + compute({ grad: true }).
// Tolerances are the data set's: value 1e-6 + 1e-4|e|, gradient element 1e-4 max|e| + 1e-7.
import { describe, expect, it } from 'vitest';
import { expectGradClose, expectValueClose, loadClDiceCases } from './helpers/cldice-cases.js';
import { withValidation } from './helpers/gpu.js';
import { useTestEngine } from './helpers/test-engine.js';

const gpu = useTestEngine();

describe('MONAI clDice presets vs MONAI 1.5.0 (100 vendored cases)', () => {
  const cases = loadClDiceCases();
  it('has the 100 vendored cases', () => expect(cases.length).toBe(100));
  for (const c of cases) {
    it(`${c.id} ${c.api} ${JSON.stringify(c.options)} [${c.x.shape}]`, async () => {
      await withValidation(gpu.device, async () => {
        const preset = gpu.engine.presets.monai[c.api](c.options);
        const pred = Float32Array.from(c.x.data);
        const target = Float32Array.from(c.y.data);
        const value = await preset.evaluate(pred, target, { inputShape: c.x.shape, targetShape: c.y.shape });
        expectValueClose(value as number, c.expected.value, 'evaluate');
        const loss = await preset.create(c.x.shape);
        const r = await loss.compute(pred, target, { grad: true });
        expectValueClose(r.loss, c.expected.value, 'create().compute loss');
        expectGradClose(r.grad!, c.expected.grad, 'create().compute gradient');
        loss.destroy();
      });
    });
  }
});
