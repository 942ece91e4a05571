// Mode values are written once, in src/kernels/modes.ts, and spelt again as WGSL constants next
// to the code they change. This holds the two side by side in every kernel that takes the mode:
// each table value has its constant with the same value, and no constant of the mode's prefix is
// missing from the table (so a new WGSL mode cannot be forgotten on the TypeScript side).
import { describe, expect, it } from 'vitest';
import { MODE_TABLES, modeConstantName } from '../../src/kernels/modes.js';
import { reflectWgsl, type WgslReflection } from '../../src/kernels/reflect.js';
import { kernelNames, kernelSource } from '../../src/kernels/sources.js';

const reflections = new Map<string, WgslReflection>(kernelNames.map((k) => [k, reflectWgsl(kernelSource(k).code)]));

describe.each(MODE_TABLES.map((t) => [t.override, t] as const))('mode %s', (_override, table) => {
  const takers = [...reflections].filter(([, r]) => r.overrides.some((o) => o.name === table.override));

  it('is an override of at least one kernel', () => {
    expect(takers.length).toBeGreaterThan(0);
  });

  it.each(takers)('%s spells every value as the table does', (kernel, r) => {
    const constants = new Map(r.constants.map((c) => [c.name, c]));
    for (const [key, value] of Object.entries(table.values)) {
      const name = modeConstantName(table, key);
      expect(constants.get(name), `${kernel}: const ${name}`).toEqual({ name, type: 'u32', value });
    }
    const known = new Set(Object.keys(table.values).map((key) => modeConstantName(table, key)));
    const stray = r.constants.filter((c) => c.name.startsWith(`${table.prefix}_`) && !known.has(c.name));
    expect(
      stray.map((c) => c.name),
      `${kernel}: constants missing from the ${table.override} table`,
    ).toEqual([]);
    const declared = r.overrides.find((o) => o.name === table.override)!;
    expect(declared.type).toBe('u32');
    expect(
      Object.values(table.values).map((v) => `${v}u`),
      `${kernel}: default of ${table.override}`,
    ).toContain(declared.defaultValue);
  });
});
