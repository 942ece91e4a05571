// The plan of reuseDistances (no GPU): which passes form the group 'from-inputs', what they
// share, and which programs share one key. The GPU side: test/surface-reuse.test.ts.
import { describe, expect, it } from 'vitest';
import { planSurfaceMetricsProgram } from '../../src/program/surface-metrics.js';
import { normalizeSurfaceMetricsOptions, type SurfaceMetricsOptions } from '../../src/spec/surface.js';
import { LAVAPIPE_PROFILE } from '../helpers/profiles.js';

const lavapipe = LAVAPIPE_PROFILE;

const base: SurfaceMetricsOptions = {
  shape: [2, 12, 14, 10, 3],
  target: 'u8',
  includeBackground: false,
  spacing: [1.5, 1, 0.75],
  reuseDistances: true,
};
const METRICS: SurfaceMetricsOptions[] = [
  { ...base, metrics: ['hausdorff'], percentile: 95 },
  { ...base, metrics: ['hausdorff'], directed: true },
  { ...base, metrics: ['asd'] },
  { ...base, metrics: ['asd'], symmetric: true },
  { ...base, metrics: ['nsd'], tolerance: [1, 2] },
  { ...base, metrics: ['hausdorff', 'asd', 'nsd'], percentile: 50, tolerance: 0.5 },
];
const plan = (o: SurfaceMetricsOptions, profile = lavapipe) =>
  planSurfaceMetricsProgram(normalizeSurfaceMetricsOptions(o), profile);

describe('reuseDistances plans', () => {
  it('every metric, percentile, direction and tolerance of one pair shares one key', () => {
    const keys = new Set(METRICS.map((o) => plan(o).reusable?.key));
    expect(keys.size).toBe(1);
    expect([...keys][0]).toEqual(expect.any(String));
  });

  it('the passes up to the transforms are the group from-inputs; the first clear and the metric passes run every time', () => {
    for (const o of METRICS) {
      const program = plan(o);
      const groups = program.passes.map((p) => `${p.kernel}:${p.group}`);
      const gather = program.passes.findIndex((p) => p.kernel === 'surface_gather');
      expect(groups[0]).toBe('surface_clear:forward');
      expect(groups.slice(1, gather).every((g) => g.endsWith(':from-inputs'))).toBe(true);
      expect(groups.slice(1, gather).map((g) => g.split(':')[0])).toEqual([
        'surface_clear',
        'surface_bounds',
        'surface_edges',
        'distance_first',
        'distance_envelope',
        'distance_envelope',
      ]);
      expect(groups.slice(gather).every((g) => g.endsWith(':forward'))).toBe(true);
      // What the metric passes read of the transforms is shared; what they write is their own.
      const shared = program.reusable!.scratch;
      expect(shared).toEqual(['boxes', 'flags', 'field a']);
      for (const pass of program.passes.slice(gather)) {
        for (const [name, ref] of Object.entries(pass.dispatches[0].bindings)) {
          if ('scratch' in ref && shared.includes(ref.scratch)) expect(['flags', 'boxes', 'field']).toContain(name);
        }
      }
    }
  });

  it('another spacing, metric, shape, layout, input kind or class set is another key', () => {
    const key = (o: Partial<SurfaceMetricsOptions>) => plan({ ...METRICS[0], ...o }).reusable!.key;
    const first = key({});
    const others = [
      key({ spacing: [1, 1, 1] }),
      key({ spacing: [1.5, 1, 0.7500001] }),
      key({ metric: 'chessboard' }),
      key({ shape: [2, 12, 14, 11, 3] }),
      key({ includeBackground: true }),
      key({ target: 'u16' }),
      key({ target: 'dense', shape: [2, 12, 14, 10, 3] }),
      key({ target: 'dense', layout: 'channels-first', shape: [2, 3, 12, 14, 10] }),
    ];
    expect(new Set([first, ...others]).size).toBe(others.length + 1);
  });

  it('nothing is shared unless asked, or where every group of pairs cannot live in one buffer', () => {
    expect(plan({ ...METRICS[0], reuseDistances: false }).reusable).toBeUndefined();
    expect(plan({ ...METRICS[0], reuseDistances: false }).passes.every((p) => p.group === 'forward')).toBe(true);
    // A small binding limit: one pair's volumes at a time; no buffer size known beyond it.
    const many = { ...METRICS[0], shape: [2, 40, 40, 40, 3] };
    const small = plan(many, { ...lavapipe, maxBindingBytes: 600_000 });
    expect(small.grids.groups.length).toBeGreaterThan(1);
    expect(small.reusable).toBeUndefined();
    expect(small.passes.every((p) => p.group === 'forward')).toBe(true);
    // Where both directions pass the binding limit, the program plans the one its metric needs.
    const oneVolume = { ...lavapipe, maxBindingBytes: 300_000 };
    const asd = { ...base, shape: [1, 40, 40, 40, 2], metrics: ['asd'] } as SurfaceMetricsOptions;
    expect(plan(asd, oneVolume).reusable).toBeUndefined();
    expect(plan(asd, oneVolume).grids.volumesPerPair).toBe(1);
    expect(() => plan({ ...asd, metrics: ['nsd'], tolerance: 1 }, oneVolume)).toThrow(/2 distance volumes/);
  });

  it('several groups of pairs share windows of buffers that hold them all', () => {
    const profile = { ...lavapipe, maxBindingBytes: 600_000, maxBufferBytes: 2 ** 30 };
    const many = { ...METRICS[0], shape: [2, 40, 40, 40, 3] };
    const program = plan(many, profile);
    const groups = program.grids.groups.length;
    expect(groups).toBe(4); // 2 samples x 2 classes kept, one pair (2 x 256000 bytes) per window
    expect(program.reusable?.scratch).toEqual(['boxes', 'flags', 'field a']);
    const bytes = (name: string) => program.scratch.find((s) => s.name === name)!.bytes;
    expect(bytes('flags')).toBe(groups * 256_000);
    expect(bytes('field a')).toBe(groups * 512_000);
    expect(bytes('field b')).toBe(512_000);
    // Each group's edges, transforms and gather bind its own window; later groups' edges and
    // transforms are 'from-inputs' too, the gathers and percentiles not.
    const windows = new Set<string>();
    for (const pass of program.passes) {
      const metricPass = ['surface_gather', 'surface_histogram', 'surface_select', 'surface_finalize'].includes(
        pass.kernel,
      );
      if (pass.name !== 'clear') expect(pass.group).toBe(metricPass ? 'forward' : 'from-inputs');
      for (const ref of Object.values(pass.dispatches[0].bindings)) {
        if (!('scratch' in ref) || (ref.scratch !== 'flags' && ref.scratch !== 'field a')) continue;
        if (pass.kernel === 'surface_clear' || pass.kernel === 'surface_bounds') continue;
        expect(ref.offset! % 256).toBe(0);
        expect(ref.offset! + ref.size!).toBeLessThanOrEqual(bytes(ref.scratch));
        windows.add(`${ref.scratch}@${ref.offset}`);
      }
    }
    expect(windows.size).toBe(2 * groups);
    // The same buffers for every metric of the pair; a smaller buffer limit shares nothing.
    const keys = METRICS.map((o) => plan({ ...o, shape: many.shape }, profile).reusable?.key);
    expect(new Set(keys).size).toBe(1);
    expect(plan(many, { ...profile, maxBufferBytes: 3 * 512_000 }).reusable).toBeUndefined();
  });

  it('reuseDistances must be a boolean', () => {
    expect(() => normalizeSurfaceMetricsOptions({ ...METRICS[0], reuseDistances: 'yes' as never })).toThrow(
      /reuseDistances/,
    );
  });
});
