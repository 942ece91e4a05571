import { WgslDiceError } from '../core/errors.js';
import { contourLengthTable, surfaceAreaTable } from '../core/marching.js';
import { STATUS_BYTES } from '../core/limits.js';
import type { DistanceMode, NormalizedSurfaceMetrics } from '../spec/surface.js';
import type { DeviceProfile } from './profile.js';
import { scratchRef, tensorRef, type LossProgram, type ProgramPass, type TensorSpec } from './program.js';
import {
  bytesPerVoxel,
  distancePasses,
  featureTests,
  INPUT_KIND,
  packPairInfo,
  planSurfaceLayout,
  singlePass,
  surfaceParamsFields,
  windowPass,
  type SurfaceGroup,
  type SurfaceLayoutPlan,
} from './surface-grid.js';
import { targetBytes, voxelWindow } from './voxel.js';

// engine.surfaceMetrics: Hausdorff (any percentile, directed or not), average surface distance
// and normalised surface Dice of every (sample, kept class), MONAI's conventions, without a CPU
// round trip:
//   clear        resets the status, the boxes and the histograms
//   bounds       per sample window: each pair's bounding box over both masks, the input faults
//   per group of pairs, inside each pair's box:
//     edges      both masks' surfaces (edge voxels, or boundary cells with subvoxels)
//     distance   the distance to the target's surface and, when a metric asked for needs the
//                direction target to prediction, to the prediction's (one pass per axis)
//     gather     each direction's count, sum, maximum and surface-Dice count, per workgroup
//     percentile (with a percentile) four radix rounds over the distances' bits, histogram and
//                select, and the least value above the lower order statistic
//   finalize     the metrics per pair (stats, 8 f32 each: surface_finalize.wgsl)

/** Flag bits of surface_edges.wgsl: the prediction's and the target's surface elements. */
const EDGE_BITS = { pred: 0, target: 1 } as const;
const CELL_BITS = { pred: 16, target: 17 } as const;
const STATS_WORDS = 8;

export function planSurfaceMetricsProgram(
  o: NormalizedSurfaceMetrics,
  profile: DeviceProfile,
): LossProgram<SurfaceLayoutPlan> {
  const g = o.geometry;
  const what = 'engine.surfaceMetrics';
  const layout = (volumesPerPair: number) =>
    planSurfaceLayout(
      g,
      {
        firstClass: o.firstClass,
        // Volume 0: the distance to the target's surface; volume 1: to the prediction's.
        volumesPerPair,
        cellGrid: o.subvoxels,
        bytesPerVoxel: Math.max(bytesPerVoxel(o.pred, g.classes), bytesPerVoxel(o.target, g.classes)),
      },
      profile,
      what,
    );
  // Shared distance fields (reuseDistances) serve every metric, so they hold both directions,
  // and every pair's at once: with several groups of pairs, each group's flags and fields are
  // a window of buffers that hold all groups. Where that passes the device's buffer size, the
  // program shares nothing and plans what its own metrics need.
  const sharedLayout = o.reuseDistances ? layoutWithin(() => layout(2)) : null;
  const strides = sharedLayout && groupStrides(sharedLayout);
  const shared =
    sharedLayout !== null &&
    (sharedLayout.groups.length === 1 ||
      sharedLayout.groups.length * strides!.field <= (profile.maxBufferBytes ?? profile.maxBindingBytes));
  const backward = shared || needsBackward(o);
  const plan = shared ? sharedLayout : layout(backward ? 2 : 1);
  const windowsOfGroups = shared && plan.groups.length > 1;
  const voxels = g.batch * g.spatial;
  const elements = voxels * g.classes;
  const input = (name: 'pred' | 'target', kind: typeof o.pred): TensorSpec => ({
    name,
    bytes: targetBytes(kind, voxels, g.classes),
    windowed: true,
    access: 'read',
    optional: false,
    host: { type: kind === 'dense' ? 'f32' : kind, elements: kind === 'dense' ? elements : voxels },
  });
  const statsBytes = plan.pairs * STATS_WORDS * 4;
  const percentile = o.metrics.includes('hausdorff') && o.percentile !== null;
  const directions = o.directed ? 1 : 2;
  const histogramWords = plan.pairsPerGroup * 2 * 256;
  const kinds = { predKind: INPUT_KIND[o.pred], targetKind: INPUT_KIND[o.target] };
  const d = o.distance;
  const clear = (name: string, boxes: boolean, select: boolean) =>
    singlePass(
      name,
      'surface_clear',
      // The status, the boxes, and the select state (the percentile lists' lengths count up
      // from 0); the histograms start at 0 and each select pass zeroes them again.
      surfaceParamsFields(plan, d, {
        mode: boxes ? plan.pairs * 8 : 0,
        mode2: select && percentile ? plan.pairs * 16 : 0,
      }),
      1,
      {
        status: scratchRef('status'),
        boxes: scratchRef('boxes'),
        // The boxes' clear of shared fields binds the same buffers whatever the metrics.
        histograms: scratchRef(percentile && select ? 'select state' : 'no histograms'),
      },
    );
  // With shared fields, the passes up to the transforms are the group 'from-inputs' (a run that
  // reuses them skips those): the boxes are cleared there, the status and the select state in
  // a first pass of every run.
  const passes: ProgramPass[] = [
    ...(shared ? [clear('clear', false, true), clear('clear boxes', true, false)] : [clear('clear', true, true)]),
    windowPass(
      'bounds',
      'surface_bounds',
      plan.windows,
      (w) =>
        surfaceParamsFields(plan, d, {
          ...kinds,
          window: w,
          chunks: plan.sampleChunks,
          voxelGrid: true,
        }),
      (w) => w.count * plan.sampleChunks,
      (w) => ({
        pred_in: voxelWindow('pred', w, o.pred, g.classes),
        target_in: voxelWindow('target', w, o.target, g.classes),
        boxes: scratchRef('boxes'),
        status: scratchRef('status'),
      }),
    ),
  ];
  const bits = o.subvoxels ? CELL_BITS : EDGE_BITS;
  let resultField = 'field a';
  for (const [i, group] of plan.groups.entries()) {
    const prefix = plan.groups.length > 1 ? `group ${i + 1}: ` : '';
    const own = groupPasses(o, plan, group, prefix, bits, { percentile, directions, kinds });
    resultField = transformResult(own);
    passes.push(...(windowsOfGroups ? inGroupWindows(own, i, strides!, resultField) : own));
  }
  passes.push(
    singlePass(
      'finalize',
      'surface_finalize',
      surfaceParamsFields(plan, d, {
        pairs: plan.pairs,
        chunks: plan.boxChunks,
        mode: percentile ? 1 : 0,
        // Without the backward direction, the Hausdorff words are the forward one's (directed).
        mode2: (o.directed || !backward ? 1 : 0) | (o.symmetric ? 2 : 0) | (o.metrics.includes('nsd') ? 4 : 0),
      }),
      1,
      {
        partials: scratchRef('partials'),
        pairs: scratchRef('pairs'),
        select_state: scratchRef(percentile ? 'select state' : 'no histograms'),
        stats: tensorRef('stats', 0, statsBytes),
      },
    ),
  );
  const groupVolumes = plan.pairsPerGroup * plan.gridVoxels * 4;
  const fieldBytes = groupVolumes * plan.volumesPerPair;
  const program = shared ? shareFields(o, passes, resultField) : { passes };
  // Shared over several groups: the flags and the transforms' result hold every group's window.
  const allGroups = (name: string, bytes: number, stride: number) =>
    windowsOfGroups && (name === 'flags' || name === resultField) ? plan.groups.length * stride : bytes;
  return {
    label: o.label,
    dims: g.dims,
    grids: plan,
    tensors: [
      input('pred', o.pred),
      input('target', o.target),
      { name: 'stats', bytes: statsBytes, windowed: false, access: 'write', optional: true },
    ],
    scratch: [
      { name: 'status', bytes: STATUS_BYTES, readable: true },
      { name: 'boxes', bytes: plan.pairs * 32 },
      { name: 'pairs', bytes: 0, contents: packPairInfo(plan, d, (s, k) => surfaceDiceLimit(o, plan, s, k)) },
      { name: 'measures', bytes: 0, contents: measureTables(o) },
      { name: 'flags', bytes: allGroups('flags', groupVolumes, strides?.flags ?? 0) },
      { name: 'field a', bytes: allGroups('field a', fieldBytes, strides?.field ?? 0) },
      { name: 'field b', bytes: allGroups('field b', fieldBytes, strides?.field ?? 0) },
      { name: 'partials', bytes: plan.pairs * plan.boxChunks * 64 },
      ...(percentile
        ? [
            { name: 'select state', bytes: plan.pairs * 2 * 32 },
            { name: 'histograms', bytes: histogramWords * 4 },
          ]
        : []),
      ...(!percentile || shared ? [{ name: 'no histograms', bytes: 16 }] : []),
      { name: 'stats', bytes: statsBytes, readable: true },
    ],
    ...program,
    readback: ['stats'],
    inPlace: [],
  };
}

/**
 * The passes with those before 'gather' (all but the first clear) in the group 'from-inputs',
 * and what they write shared under a key of everything they compute from: the passes
 * themselves (kernels, modes, uniforms, grids, bindings), the input kinds and the distance mode
 * (the spacing the transforms read from 'pairs').
 */
function shareFields(
  o: NormalizedSurfaceMetrics,
  passes: readonly ProgramPass[],
  resultField: string,
): Pick<LossProgram, 'passes' | 'reusable'> {
  // Every pass but the first clear up to the first gather: with several groups, each group's
  // transforms come before its gather, so the later groups' edges and transforms follow a
  // gather. Those belong to 'from-inputs' too; the gathers, percentiles and finalize do not.
  const metricKernels = new Set(['surface_gather', 'surface_histogram', 'surface_select', 'surface_finalize']);
  const grouped = passes.map((pass, i) =>
    i > 0 && !metricKernels.has(pass.kernel) ? { ...pass, group: 'from-inputs' as const } : pass,
  );
  const fromInputs = grouped.filter((pass) => pass.group === 'from-inputs');
  const key = JSON.stringify({
    pred: o.pred,
    target: o.target,
    distance: o.distance,
    passes: fromInputs.map((pass) => ({
      kernel: pass.kernel,
      constants: pass.constants,
      uniforms: Array.from(new Uint32Array(pass.uniforms)),
      dispatches: pass.dispatches,
    })),
  });
  return { passes: grouped, reusable: { key, scratch: ['boxes', 'flags', resultField] } };
}

/** The scratch a group's transforms leave their result in (what its gather reads as `field`). */
function transformResult(passes: readonly ProgramPass[]): string {
  const field = passes.find((pass) => pass.kernel === 'surface_gather')!.dispatches[0].bindings.field;
  return 'scratch' in field ? field.scratch : 'field a';
}

interface GroupStrides {
  /** Bytes between groups' windows (binding offsets: 256-aligned). */
  readonly flags: number;
  readonly field: number;
  /** Bytes of one group's window. */
  readonly flagBytes: number;
  readonly fieldBytes: number;
}

function groupStrides(plan: SurfaceLayoutPlan): GroupStrides {
  const align = (n: number) => Math.ceil(n / 256) * 256;
  const flagBytes = plan.pairsPerGroup * plan.gridVoxels * 4;
  const fieldBytes = flagBytes * plan.volumesPerPair;
  return { flags: align(flagBytes), field: align(fieldBytes), flagBytes, fieldBytes };
}

/** Group `index`'s passes with its flags and transform result bound as its window of the shared buffers. */
function inGroupWindows(
  passes: readonly ProgramPass[],
  index: number,
  strides: GroupStrides,
  resultField: string,
): ProgramPass[] {
  const window = (name: string) =>
    name === 'flags'
      ? { scratch: name, offset: index * strides.flags, size: strides.flagBytes }
      : { scratch: name, offset: index * strides.field, size: strides.fieldBytes };
  return passes.map((pass) => ({
    ...pass,
    dispatches: pass.dispatches.map((dispatch) => ({
      ...dispatch,
      bindings: Object.fromEntries(
        Object.entries(dispatch.bindings).map(([slot, ref]) =>
          'scratch' in ref && (ref.scratch === 'flags' || ref.scratch === resultField)
            ? [slot, window(ref.scratch)]
            : [slot, ref],
        ),
      ),
    })),
  }));
}

/** A layout, or null where its volumes pass a binding limit (BINDING_TOO_LARGE). */
function layoutWithin(plan: () => SurfaceLayoutPlan): SurfaceLayoutPlan | null {
  try {
    return plan();
  } catch (error) {
    if (error instanceof WgslDiceError && error.code === 'BINDING_TOO_LARGE') return null;
    throw error;
  }
}

/**
 * Whether a metric asked for needs the distances from the target's surface to the prediction's
 * (the backward direction): the surface Dice, the undirected Hausdorff distance, the symmetric
 * average surface distance. Without it the program transforms one volume per pair, not two
 * (MONAI's compute_average_surface_distance, symmetric=False by default, is such a call).
 */
function needsBackward(o: NormalizedSurfaceMetrics): boolean {
  const m = o.metrics;
  return m.includes('nsd') || (m.includes('hausdorff') && !o.directed) || (m.includes('asd') && o.symmetric);
}

/** The passes of one group of pairs, in their boxes. */
function groupPasses(
  o: NormalizedSurfaceMetrics,
  plan: SurfaceLayoutPlan,
  group: SurfaceGroup,
  prefix: string,
  bits: { pred: number; target: number },
  p: { percentile: boolean; directions: number; kinds: { predKind: number; targetKind: number } },
): ProgramPass[] {
  const d = o.distance;
  const g = o.geometry;
  const boxWorkgroups = group.pairs * plan.boxChunks;
  const common = { pairBase: group.pairBase, pairs: group.pairs, chunks: plan.boxChunks };
  const passes: ProgramPass[] = [
    singlePass(
      `${prefix}edges`,
      'surface_edges',
      surfaceParamsFields(plan, d, { ...common, ...p.kinds, window: group.window }),
      boxWorkgroups,
      {
        pred_in: voxelWindow('pred', group.window, o.pred, g.classes),
        target_in: voxelWindow('target', group.window, o.target, g.classes),
        boxes: scratchRef('boxes'),
        flags: scratchRef('flags'),
      },
    ),
  ];
  // Volume 0: the distance to the target's surface; volume 1 (if planned): to the prediction's.
  const features = [
    [bits.target, 1],
    [bits.pred, 1],
  ] as const;
  const transform = distancePasses(plan, d, group, featureTests(features.slice(0, plan.volumesPerPair)), {
    prefix,
    flags: 'flags',
    fields: ['field a', 'field b'],
  });
  passes.push(...transform.passes);
  // The transform's other buffer is free now: it holds the percentile lists.
  const lists = scratchRef(transform.result === 'field a' ? 'field b' : 'field a');
  passes.push(
    singlePass(
      `${prefix}gather`,
      'surface_gather',
      surfaceParamsFields(plan, d, { ...common, mode: p.percentile ? 1 : 0 }),
      boxWorkgroups,
      {
        flags: scratchRef('flags'),
        boxes: scratchRef('boxes'),
        pairs: scratchRef('pairs'),
        measures: scratchRef('measures'),
        field: scratchRef(transform.result),
        partials: scratchRef('partials'),
        lists,
        select_state: scratchRef(p.percentile ? 'select state' : 'no histograms'),
      },
    ),
  );
  if (!p.percentile) return passes;
  const q = o.percentile! / 100;
  for (let round = 0; round <= 4; round++) {
    passes.push(
      singlePass(
        `${prefix}percentile ${round < 4 ? `digit ${round + 1}` : 'upper value'}`,
        'surface_histogram',
        surfaceParamsFields(plan, d, { ...common, mode: round, mode2: p.directions }),
        boxWorkgroups,
        { lists, select_state: scratchRef('select state'), histograms: scratchRef('histograms') },
      ),
    );
    if (round === 4) break;
    passes.push(
      singlePass(
        `${prefix}percentile select ${round + 1}`,
        'surface_select',
        surfaceParamsFields(plan, d, { ...common, mode: round, mode2: p.directions, scalar0: q }),
        1,
        { select_state: scratchRef('select state'), histograms: scratchRef('histograms') },
      ),
    );
  }
  return passes;
}

/**
 * The largest raw value of a pair whose distance MONAI counts as within the tolerance: float32
 * `distance <= threshold`, with the distance as the float64 reference computes it, rounded to
 * f32. A raw value is then compared as an integer, so the GPU's square roots cannot move an
 * element across the threshold.
 */
function surfaceDiceLimit(o: NormalizedSurfaceMetrics, plan: SurfaceLayoutPlan, sample: number, kept: number): number {
  const f = Math.fround;
  const threshold = f(o.tolerance[kept]);
  const d: DistanceMode = o.distance;
  if (d.metric !== 'euclidean' || d.exact) {
    const scale = d.metric === 'euclidean' ? d.spacing[sample][0] : 1;
    const distanceOf = (k: number) => (d.metric === 'euclidean' ? f(Math.sqrt(scale * scale * k)) : f(k));
    const largest = plan.size.reduce((sum, n) => sum + (n - 1) ** 2, 0);
    return lastWhere(0, Math.max(largest, 1), (k) => distanceOf(k) <= threshold);
  }
  // f32 mode: raw values are f32 bits of squared distances; search the bit patterns.
  const bits = new Uint32Array(1);
  const asFloat = new Float32Array(bits.buffer);
  return lastWhere(0, 0x7f7fffff, (k) => {
    bits[0] = k;
    return f(Math.sqrt(asFloat[0])) <= threshold;
  });
}

/** The last integer in [lo, hi] where a monotone (true, then false) predicate holds; 0xfffffffe when it holds at hi. */
function lastWhere(lo: number, hi: number, holds: (k: number) => boolean): number {
  if (holds(hi)) return 0xfffffffe;
  if (!holds(lo)) return lo; // never: 0 is within any tolerance >= 0
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (holds(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** Per sample, the boundary measure of each cell code (subvoxels), else a placeholder. */
function measureTables(o: NormalizedSurfaceMetrics): Float32Array<ArrayBuffer> {
  if (!o.subvoxels) return new Float32Array(4);
  const dims = o.geometry.spatialShape.length;
  const codes = 1 << (1 << dims);
  const out = new Float32Array(o.geometry.batch * codes);
  o.voxelSize.forEach((spacing, sample) => {
    out.set(dims === 2 ? contourLengthTable(spacing) : surfaceAreaTable(spacing), sample * codes);
  });
  return out;
}
