// engine.tune()'s pure side: the candidate plan choices, the identity that dedupes them, the
// shape classes choices are kept for, and the tuning table's JSON round trip and checks.
import { describe, expect, it } from 'vitest';
import { WgslDiceError } from '../../src/core/errors.js';
import {
  candidateChoices,
  canonicalChoice,
  programIdentity,
  shapeClassOf,
  type DeviceCaps,
} from '../../src/program/candidates.js';
import { planProgram } from '../../src/program/planner.js';
import { describeChoice, profileWithChoice, type DeviceProfile, type PlanChoice } from '../../src/program/profile.js';
import { adapterKey, checkChoice, parseTuningTable, tuningTable } from '../../src/program/tuning-table.js';
import type { LossSpec, TunableSpec } from '../../src/spec/index.js';
import { normalizeLossOptions } from '../../src/spec/family.js';
import { normalizeDiceOptions, type DiceLossOptions } from '../../src/spec/seed.js';
import { normalizeWassersteinOptions } from '../../src/spec/wasserstein.js';

const gpu: DeviceProfile = {
  workgroupSize: 256,
  maxBindingBytes: 2 ** 31 - 4,
  targetWorkgroups: 1024,
  minRowsPerLane: 4,
  elementwiseWorkgroups: 4096,
  minUnitsPerThread: 4,
  maxWorkgroupsPerDimension: 65535,
  subgroupSize: 32,
  software: false,
  interleave: true,
};
const caps: DeviceCaps = { maxWorkgroupSize: 1024, subgroupSize: 32 };
const seed = (o: DiceLossOptions): TunableSpec => ({ kind: 'seed', options: normalizeDiceOptions(o) });
const identity = (spec: LossSpec, choice: PlanChoice) => {
  const profile = profileWithChoice(gpu, choice, caps.subgroupSize);
  return programIdentity(planProgram(spec, profile), profile.workgroupSize);
};

describe('candidate plan choices', () => {
  it("start with the device class's plan and move one knob at a time", () => {
    const choices = candidateChoices(seed({ shape: [2, 512, 512, 8] }), gpu, caps);
    expect(choices[0]).toEqual({});
    for (const choice of choices.slice(1)) expect(Object.keys(choice)).toHaveLength(1);
    expect(choices).toContainEqual({ workgroupSize: 128 });
    expect(choices).toContainEqual({ interleave: false });
    expect(choices).toContainEqual({ subgroups: false });
    expect(choices).toContainEqual({ elementwiseWorkgroups: 1024 });
    expect(choices).not.toContainEqual({ workgroupSize: 256 });
  });

  it('stay within the device: no larger workgroups, no subgroups it lacks, class blocks below C only', () => {
    const choices = candidateChoices(seed({ shape: [2, 64, 64, 4] }), gpu, { maxWorkgroupSize: 128 });
    expect(choices.some((c) => (c.workgroupSize ?? 0) > 128)).toBe(false);
    expect(choices.some((c) => c.subgroups !== undefined)).toBe(false);
    expect(choices.some((c) => c.classBlock !== undefined)).toBe(false);
    const family: TunableSpec = {
      kind: 'family',
      options: normalizeLossOptions({ shape: [2, 32, 32, 20], activation: 'softmax', target: 'u8' }),
    };
    expect(candidateChoices(family, gpu, caps)).toContainEqual({ classBlock: 8 });
  });

  it('plan differently where the knob matters, and identically where a kind ignores it', () => {
    const spec = seed({ shape: [2, 512, 512, 8] });
    const base = identity(spec, {});
    expect(identity(spec, {})).toBe(base);
    expect(identity(spec, { workgroupSize: 128 })).not.toBe(base);
    expect(identity(spec, { interleave: false })).not.toBe(base);
    expect(identity(spec, { elementwiseWorkgroups: 256 })).not.toBe(base);
    // The seed has no class blocks.
    expect(identity(spec, { classBlock: 8 })).toBe(base);
  });

  it('describe themselves in the knob order', () => {
    expect(describeChoice({})).toBe('the defaults');
    expect(describeChoice({ subgroups: false, workgroupSize: 128 })).toBe('workgroupSize=128 subgroups=false');
    expect(Object.keys(canonicalChoice({ subgroups: false, workgroupSize: 128 }))).toEqual([
      'workgroupSize',
      'subgroups',
    ]);
  });
});

describe('Wasserstein Dice', () => {
  it('has candidates and a shape class of its own', () => {
    const spec: TunableSpec = {
      kind: 'wasserstein',
      options: normalizeWassersteinOptions({
        shape: [2, 3, 64, 64],
        layout: 'channels-first',
        distanceMatrix: [
          [0, 1, 1],
          [1, 0, 0.5],
          [1, 0.5, 0],
        ],
      }),
    };
    expect(candidateChoices(spec, gpu, caps)[0]).toEqual({});
    expect(shapeClassOf(spec, planProgram(spec, gpu))).toMatch(/^wasserstein C=3 B~2\^1 N~2\^15: wasserstein_forward/);
  });
});

describe('shape classes', () => {
  it('group shapes of one kind, modes and class count whose sizes are within a power of two', () => {
    const classOf = (o: DiceLossOptions) => {
      const spec = seed(o);
      return shapeClassOf(spec, planProgram(spec, gpu));
    };
    const a = classOf({ shape: [2, 512, 512, 8] });
    expect(classOf({ shape: [2, 500, 520, 8] })).toBe(a);
    expect(classOf({ shape: [2, 512, 512, 8], reduce: 'per-class' })).not.toBe(a);
    expect(classOf({ shape: [2, 1024, 1024, 8] })).not.toBe(a);
    expect(classOf({ shape: [2, 512, 512, 4] })).not.toBe(a);
    expect(a).toMatch(/^seed C=8 B~2\^1 N~2\^22: global reduce, dice_reduce_vec4_subgroups/);
  });
});

describe('the tuning table', () => {
  const adapter = adapterKey({ vendor: 'nvidia', architecture: 'hopper', device: '', description: 'H200' }, 'gpu');
  const entries = [
    { adapter, shapeClass: 'seed C=8 B~2^1 N~2^22: x', choice: { workgroupSize: 128 }, ms: 0.02, defaultMs: 0.03 },
    { adapter: 'other (gpu plans)', shapeClass: 'b', choice: { workgroupSize: 2048 }, ms: 1, defaultMs: 1 },
    { adapter, shapeClass: 'family C=4 B~2^0 N~2^16: y', choice: {}, ms: 0.5, defaultMs: 0.5 },
  ];

  it('round-trips through JSON, in a stable order', () => {
    const table = tuningTable(entries);
    expect(table.format).toBe('wgsl-dice-tuning');
    expect(table.entries.map((e) => e.shapeClass)).toEqual([
      'family C=4 B~2^0 N~2^16: y',
      'seed C=8 B~2^1 N~2^22: x',
      'b',
    ]);
    const text = JSON.stringify(table);
    const back = parseTuningTable(text, adapter, caps);
    expect(tuningTable(back)).toEqual(table);
    expect(parseTuningTable(JSON.parse(text), adapter, caps)).toEqual(back);
  });

  it("checks this adapter's choices against the device, and only the structure of others'", () => {
    const big = tuningTable([{ ...entries[0], choice: { workgroupSize: 2048 } }]);
    expect(() => parseTuningTable(big, adapter, caps)).toThrow(/exceeds this device's 1024 threads/);
    // The same entry for another adapter is kept as it is.
    expect(parseTuningTable(big, 'another adapter', caps)[0].choice).toEqual({ workgroupSize: 2048 });
  });

  const rejects: [string, unknown, string][] = [
    ['not JSON', '{', 'INVALID_OPTION'],
    ['another format', { format: 'x', version: 1, entries: [] }, 'INVALID_OPTION'],
    ['a newer version', { format: 'wgsl-dice-tuning', version: 2, entries: [] }, 'INVALID_OPTION'],
    ['entries not an array', { format: 'wgsl-dice-tuning', version: 1, entries: {} }, 'INVALID_OPTION'],
    [
      'a negative time',
      { format: 'wgsl-dice-tuning', version: 1, entries: [{ ...entries[0], ms: -1 }] },
      'INVALID_OPTION',
    ],
    [
      'an unknown knob',
      { format: 'wgsl-dice-tuning', version: 1, entries: [{ ...entries[0], choice: { workgroupSise: 64 } }] },
      'UNKNOWN_OPTION',
    ],
  ];
  it.each(rejects)('rejects %s', (_name, table, code) => {
    expect(() => parseTuningTable(table, adapter, caps)).toThrow(expect.objectContaining({ code }));
  });

  it('checks each knob', () => {
    const bad: unknown[] = [
      { workgroupSize: 96 },
      { workgroupSize: 32 },
      { targetWorkgroups: 0 },
      { elementwiseWorkgroups: 1.5 },
      { interleave: 'yes' },
      { subgroups: 1 },
      [],
      null,
    ];
    for (const choice of bad) {
      expect(() => checkChoice(choice, 'choice', caps), JSON.stringify(choice)).toThrow(WgslDiceError);
    }
    expect(() => checkChoice({ subgroups: true }, 'choice', { maxWorkgroupSize: 256 })).toThrow(/no 'subgroups'/);
    expect(checkChoice({ interleave: false, workgroupSize: 64 }, 'choice', caps)).toEqual({
      workgroupSize: 64,
      interleave: false,
    });
  });
});
