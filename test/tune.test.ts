// engine.tune() on this adapter: it times candidate plans and keeps the fastest; a loss planned
// with a tuned choice gives the default plan's results within the tolerance policy
// (test/tolerance.ts) and is bitwise repeatable; the tuning round-trips through JSON. Cheap on
// lavapipe: small shapes, two candidates besides the default, and a workgroup size of 128 (three
// more pipelines) only where the file needs one.
import { afterAll, describe, expect, it } from 'vitest';
import { DiceEngine, type DiceLoss, type PlanChoice, type TuneResult, type TuningTable } from '../src/index.js';
import { nodeGpu } from '../src/node/index.js';
import { diceReference } from '../src/reference/index.js';
import { expectClose, mulberry32, withValidation } from './helpers/gpu.js';
import { useTestEngine } from './helpers/test-engine.js';
import { gradTolerance, LOSS_TOL, SUM_TOL } from './tolerance.js';

const t = useTestEngine();
const options = { shape: [2, 64, 64, 4], reduce: 'per-class' as const };
// The same pipelines as the default plan (workgroups of 256): timed without compiling anything.
const candidates: PlanChoice[] = [
  { targetWorkgroups: 2, elementwiseWorkgroups: 4 },
  { elementwiseWorkgroups: 16, interleave: true },
];
// A plan that differs from the default in every knob the seed reads.
const forced: PlanChoice = { workgroupSize: 128, targetWorkgroups: 32, elementwiseWorkgroups: 64, interleave: true };

const n = options.shape.reduce((a, b) => a * b, 1);
const random = mulberry32(2026);
const pred = Float32Array.from({ length: n }, () => random());
const target = Float32Array.from({ length: n }, () => (random() < 0.3 ? 1 : 0));

const made: { destroy(): void }[] = [];
afterAll(() => made.forEach((x) => x.destroy()));

describe('engine.tune()', () => {
  let defaultLoss: DiceLoss;
  let result: TuneResult;

  it('times every candidate and keeps the fastest for the shape class', async () => {
    defaultLoss = await t.engine.dice(options);
    result = await withValidation(t.device, () => t.engine.tune(defaultLoss, { candidates, repeats: 3, warmup: 1 }));
    expect(result.timings.map((x) => x.choice)).toEqual([{}, ...candidates]);
    for (const timing of result.timings) expect(timing.ms).toBeGreaterThan(0);
    const fastest = Math.min(...result.timings.map((x) => x.ms));
    expect(result.ms).toBe(fastest);
    expect(result.timings.find((x) => x.ms === fastest)!.choice).toEqual(result.choice);
    expect(result.defaultMs).toBe(result.timings[0].ms);

    const tuned = await t.engine.dice(options);
    expect(tuned.describe()).toContain(`plan: tuned, ${result.plan}`);
    // The loss given keeps its plan; another shape class has none.
    expect(defaultLoss.describe()).not.toContain('plan:');
    const global = await t.engine.dice({ shape: options.shape, reduce: 'global' });
    expect(global.describe()).not.toContain('plan:');
    tuned.destroy();
    global.destroy();
  });

  let table: TuningTable;

  it('a tuned plan: the default plan’s results within the tolerance policy, bitwise the same run to run', async () => {
    // Whatever tune() picked here, a table can make any valid choice the tuned one.
    const exported = t.engine.exportTuning();
    expect(exported.entries).toHaveLength(1);
    table = { ...exported, entries: [{ ...exported.entries[0], choice: forced }] };
    const engine = await DiceEngine.create(t.device, { tuning: JSON.stringify(table) });
    made.push(engine);
    const tuned = await engine.dice(options);
    expect(tuned.describe()).toContain('plan: tuned, workgroupSize=128 targetWorkgroups=32 elementwiseWorkgroups=64');

    const first = await withValidation(t.device, () => tuned.compute(pred, target, { grad: true }));
    const again = await withValidation(t.device, () => tuned.compute(pred, target, { grad: true }));
    expect(again.loss).toBe(first.loss);
    expect(Buffer.from(again.grad!.buffer).equals(Buffer.from(first.grad!.buffer))).toBe(true);
    expect(Buffer.from(again.perClass.dice.buffer).equals(Buffer.from(first.perClass.dice.buffer))).toBe(true);

    const plain = await withValidation(t.device, () => defaultLoss.compute(pred, target, { grad: true }));
    expectClose([first.loss], [plain.loss], LOSS_TOL, 'tuned vs default loss');
    expectClose(first.perClass.dice, plain.perClass.dice, SUM_TOL, 'tuned vs default dice');
    expectClose(first.grad!, plain.grad!, gradTolerance(plain.grad!), 'tuned vs default gradient');
    const want = diceReference(pred, target, options);
    expectClose([first.loss], [want.loss], LOSS_TOL, 'tuned vs float64 loss');
    expectClose(first.grad!, want.grad, gradTolerance(want.grad), 'tuned vs float64 gradient');
  });

  it('round-trips through JSON', async () => {
    const engine = await DiceEngine.create(t.device, { tuning: table });
    made.push(engine);
    const text = JSON.stringify(engine.exportTuning());
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(table)));
    const again = await DiceEngine.create(t.device, { tuning: text });
    made.push(again);
    expect(again.exportTuning()).toEqual(engine.exportTuning());
    // Imported entries replace those of the same shape class.
    t.engine.importTuning(text);
    expect(t.engine.exportTuning().entries.map((e) => e.choice)).toEqual([forced]);
  });

  it('family losses too; a candidate that plans the same program as another is timed once', async () => {
    const family = await t.engine.loss({ shape: [2, 128, 128, 4], activation: 'softmax', target: 'u8' });
    made.push(family);
    // No class blocks to choose at C = 4: that candidate's program is the default's.
    const twins: PlanChoice[] = [{ targetWorkgroups: 2 }, { classBlock: 4 }];
    const got = await withValidation(t.device, () =>
      t.engine.tune(family, { candidates: twins, grad: false, repeats: 2, warmup: 0 }),
    );
    expect(got.timings.map((x) => x.choice)).toEqual([{}, { targetWorkgroups: 2 }]);
    expect(got.shapeClass).toMatch(/^family C=4 /);
  });

  it('says what is wrong: not its loss, bad options, a device without timestamp queries', async () => {
    await expect(t.engine.tune({})).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(t.engine.tune(defaultLoss, { repeats: 0 })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await expect(t.engine.tune(defaultLoss, { candidates: [{ workgroupSize: 96 }] })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
    });
    await expect(
      t.engine.tune(defaultLoss, { candidates: [{ workgroupSise: 64 } as PlanChoice] }),
    ).rejects.toMatchObject({ code: 'UNKNOWN_OPTION' });
    const adapter = await (await nodeGpu()).requestAdapter();
    const bare = await adapter!.requestDevice({ label: 'no timestamp queries' });
    const engine = await DiceEngine.create(bare);
    await expect(engine.tune(defaultLoss)).rejects.toMatchObject({ code: 'FEATURE_MISSING' });
    engine.destroy();
    bare.destroy();
  });
});
