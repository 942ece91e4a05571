// The loss family and the Wasserstein loss share the host path of the seed losses
// (src/runtime/submit.ts, status.ts): these check that its guarantees hold for them too. Every rejected call
// leaves the caller's error-scope stack balanced and the engine working.
import { beforeAll, describe, expect, it } from 'vitest';
import { WgslDiceError, type FamilyLoss, type WassersteinDiceLoss } from '../src/index.js';
import { familyReference } from '../src/reference/index.js';
import { createBufferFrom, expectClose, withValidation } from './helpers/gpu.js';
import { useTestEngine } from './helpers/test-engine.js';
import { LOSS_TOL } from './tolerance.js';

const gpu = useTestEngine();
let family: FamilyLoss;
let wasserstein: WassersteinDiceLoss;
const options = { shape: [1, 4, 4, 3], activation: 'softmax', target: 'u8' } as const;
const logits = Float32Array.from({ length: 48 }, (_, i) => Math.cos(i));
const labels = Uint8Array.from({ length: 16 }, (_, i) => i % 3);

beforeAll(async () => {
  family = await gpu.engine.loss(options);
  wasserstein = await gpu.engine.wassersteinDice({
    shape: [1, 4, 4, 3],
    target: 'u8',
    distanceMatrix: [
      [0, 1, 1],
      [1, 0, 0.5],
      [1, 0.5, 0],
    ],
  });
});

async function rejectsBalanced(call: () => Promise<unknown>, code: string): Promise<void> {
  gpu.device.pushErrorScope('validation');
  const error = await call().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(await gpu.device.popErrorScope()).toBeNull();
  const extra = await gpu.device.popErrorScope().then(
    () => 'unbalanced',
    () => 'balanced',
  );
  expect(extra).toBe('balanced');
  expect(error).toBeInstanceOf(WgslDiceError);
  expect((error as WgslDiceError).code).toBe(code);
}

describe.each([
  ['family loss', () => family],
  ['wasserstein loss', () => wasserstein],
])('%s: host path', (_name, loss) => {
  it('a destroyed caller buffer is named: BUFFER_DESTROYED', async () => {
    const pred = createBufferFrom(gpu.device, logits, undefined, 'caller logits');
    pred.destroy();
    await rejectsBalanced(() => loss().compute(pred, labels), 'BUFFER_DESTROYED');
  });

  it('a Float64Array is a dtype error, an encoder that is not one is an input error', async () => {
    await rejectsBalanced(
      () => loss().compute(Float64Array.from(logits) as unknown as Float32Array, labels),
      'INVALID_DTYPE',
    );
    expect(() => loss().encode({} as GPUCommandEncoder, {} as never)).toThrow(WgslDiceError);
  });

  it('the loss still works after the rejected calls', async () => {
    const got: { loss: number } = await withValidation(gpu.device, (): Promise<{ loss: number }> =>
      loss().compute(logits, labels),
    );
    expect(Number.isFinite(got.loss)).toBe(true);
  });
});

it('destroying a family loss while compute() is in flight rejects with ENGINE_DESTROYED', async () => {
  const doomed = await gpu.engine.loss(options);
  const pending = doomed.compute(logits, labels);
  doomed.destroy();
  const error = await pending.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect((error as WgslDiceError).code).toBe('ENGINE_DESTROYED');
  // The engine itself is untouched.
  const got = await withValidation(gpu.device, () => family.compute(logits, labels));
  expectClose([got.loss], [familyReference(logits, labels, options).loss], LOSS_TOL, 'loss');
});
