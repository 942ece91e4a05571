import { WgslDiceError } from '../core/errors.js';
import { packPerWindow, type UniformValue } from '../kernels/uniforms.js';
import type { DistanceMode, SurfaceGeometry, SurfaceInputKind } from '../spec/surface.js';
import { rangeWindows, type BindingWindow } from './grids.js';
import type { GridProfile } from './profile.js';
import {
  scratchRef,
  uniformPass,
  type BindingRef,
  type PassGroup,
  type PipelineConstants,
  type ProgramDispatch,
  type ProgramPass,
} from './program.js';
import type { KernelName } from '../kernels/sources.js';

// What the distance-transform, surface-metric and distance-field programs share
// (shaders/lib/surface_grid.wgsl is the kernels' side): pairs (sample, kept class), their
// volumes on a grid of voxels or cells, the groups of pairs whose scratch fits one binding, the
// sample windows of the caller's tensors, the uniform block, and the distance transform's
// passes.

/** Kinds of the caller's tensors as the kernels number them (KIND_* in lib/surface_grid.wgsl). */
export const INPUT_KIND: Record<SurfaceInputKind, number> = { dense: 0, u8: 1, u16: 2, u32: 3 };
const METRIC = { euclidean: 0, taxicab: 1, chessboard: 2 } as const;

/** Bytes of one field buffer (a group's volumes) the planner aims for; a single pair may take more. */
const FIELD_BUFFER_BYTES = 256 * 2 ** 20;

/** Window starts are multiples of 256 voxels: a 256-byte offset into every tensor, u8 labels included. */
const WINDOW_ALIGN_VOXELS = 256;

/** How the passes see a program's pairs and grid. */
export interface SurfaceLayoutPlan {
  readonly geometry: SurfaceGeometry;
  /** The grid the volumes live on, padded to 3D (axis 2 innermost): voxels, or cells (one more per real axis). */
  readonly size: readonly [number, number, number];
  readonly gridVoxels: number;
  readonly cellGrid: boolean;
  readonly firstClass: number;
  readonly kept: number;
  readonly pairs: number;
  readonly volumesPerPair: number;
  /** Workgroups per volume of the row passes, per pair of the box passes, per sample of the sample passes. */
  readonly rowChunks: number;
  readonly boxChunks: number;
  readonly sampleChunks: number;
  /**
   * Software plans: threads walk whole rows of a box (no division per point, which a software
   * rasteriser's SIMD does lane by lane); GPU plans: neighbouring threads take neighbouring points.
   */
  readonly rowWalk: boolean;
  /** Windows of the caller's tensors, each whole samples (linearBase: first sample, count: samples). */
  readonly windows: readonly BindingWindow[];
  /** Groups of pairs run one after another with the same scratch. */
  readonly groups: readonly SurfaceGroup[];
  readonly pairsPerGroup: number;
}

export interface SurfaceGroup {
  /** The window of the caller's tensors that holds the group's samples. */
  readonly window: BindingWindow;
  readonly pairBase: number;
  readonly pairs: number;
}

/** The spatial shape padded to 3D, outermost axes 1. */
export function padded(shape: readonly number[]): [number, number, number] {
  const s = [1, 1, 1, ...shape].slice(-3);
  return [s[0], s[1], s[2]];
}

function chunksFor(units: number, perWorkgroup: number, cap: number): number {
  return Math.max(1, Math.min(cap, Math.ceil(units / perWorkgroup)));
}

/**
 * Pairs, grid, chunks, windows and groups. `bytesPerVoxel` is that of the widest tensor bound in
 * sample windows; `cellGrid` puts the volumes on the cells between voxels.
 */
export function planSurfaceLayout(
  geometry: SurfaceGeometry,
  o: { firstClass: number; volumesPerPair: number; cellGrid: boolean; bytesPerVoxel: number },
  profile: GridProfile,
  what: string,
): SurfaceLayoutPlan {
  const voxelSize = padded(geometry.spatialShape);
  const real = 3 - geometry.spatialShape.length;
  const size = voxelSize.map((n, a) => (o.cellGrid && a >= real ? n + 1 : n)) as [number, number, number];
  const gridVoxels = size[0] * size[1] * size[2];
  const kept = geometry.classes - o.firstClass;
  const pairs = geometry.batch * kept;
  const wg = profile.workgroupSize;
  const software = profile.software ?? false;
  // Software adapters: few fat workgroups (each costs its start-up); GPUs: enough to fill them.
  const rowsPerVolume = Math.max(...size.map((n) => gridVoxels / n));
  const rowChunks = chunksFor(rowsPerVolume, wg * (software ? 16 : 1), software ? 4 : 64);
  const boxChunks = chunksFor(gridVoxels, wg * (software ? 64 : 4), software ? 8 : 256);
  const sampleChunks = chunksFor(geometry.spatial, wg * (software ? 64 : 4), software ? 8 : 256);
  const volumeBytes = gridVoxels * 4;
  const pairBytes = o.volumesPerPair * volumeBytes;
  if (pairBytes > profile.maxBindingBytes) {
    throw new WgslDiceError(
      'BINDING_TOO_LARGE',
      `${what}: one (sample, class) needs ${o.volumesPerPair} distance volumes of ${volumeBytes} bytes in one binding, ` +
        `more than the ${profile.maxBindingBytes}-byte limit; use smaller volumes, or raise maxStorageBufferBindingSize ` +
        '(requestNodeDevice asks for the adapter maximum).',
    );
  }
  const maxWorkgroups = profile.maxWorkgroupsPerDimension;
  const pairsPerGroup = Math.max(
    1,
    Math.min(
      Math.floor(Math.min(profile.maxBindingBytes, Math.max(FIELD_BUFFER_BYTES, pairBytes)) / pairBytes),
      Math.floor(maxWorkgroups / (o.volumesPerPair * rowChunks)),
      Math.floor(maxWorkgroups / boxChunks),
      pairs,
    ),
  );
  const windows = sampleWindows(geometry, o.bytesPerVoxel, profile, what);
  const groups: SurfaceGroup[] = [];
  for (const window of windows) {
    const end = (window.linearBase + window.count) * kept;
    for (let pairBase = window.linearBase * kept; pairBase < end; pairBase += pairsPerGroup) {
      groups.push({ window, pairBase, pairs: Math.min(pairsPerGroup, end - pairBase) });
    }
  }
  return {
    geometry,
    size,
    gridVoxels,
    cellGrid: o.cellGrid,
    firstClass: o.firstClass,
    kept,
    pairs,
    volumesPerPair: o.volumesPerPair,
    rowChunks,
    boxChunks,
    sampleChunks,
    rowWalk: software,
    windows,
    groups,
    pairsPerGroup,
  };
}

/** Windows of whole samples over the caller's tensors (a voxel's neighbours lie in its sample). */
function sampleWindows(g: SurfaceGeometry, bytesPerVoxel: number, profile: GridProfile, what: string): BindingWindow[] {
  try {
    return rangeWindows(
      g.batch,
      (s) => [s * g.spatial, (s + 1) * g.spatial],
      bytesPerVoxel,
      profile,
      WINDOW_ALIGN_VOXELS,
      Infinity,
    );
  } catch (error) {
    if (!(error instanceof WgslDiceError) || error.code !== 'BINDING_TOO_LARGE') throw error;
    throw new WgslDiceError(
      'BINDING_TOO_LARGE',
      `${what}: one sample (${g.spatial} voxels, ${g.spatial * bytesPerVoxel} bytes) does not fit in the ` +
        `${profile.maxBindingBytes}-byte binding window; the surface passes bind whole samples. Use smaller samples, ` +
        'or raise maxStorageBufferBindingSize (requestNodeDevice asks for the adapter maximum).',
    );
  }
}

/** Bytes per voxel of a caller's tensor of this kind with C classes. */
export function bytesPerVoxel(kind: SurfaceInputKind, classes: number): number {
  return kind === 'dense' ? 4 * classes : kind === 'u8' ? 1 : kind === 'u16' ? 2 : 4;
}

/** Values of the SurfaceParams block (lib/surface_grid.wgsl); absent ones are 0. */
export interface SurfaceParamValues {
  pairBase?: number;
  pairs?: number;
  chunks?: number;
  axis?: number;
  features?: number;
  predKind?: number;
  targetKind?: number;
  window?: BindingWindow;
  mode?: number;
  mode2?: number;
  scalar0?: number;
  scalar1?: number;
  /** Pass on the voxel grid even where the volumes are on cells (the bounds pass). */
  voxelGrid?: boolean;
}

/** Mirrors `SurfaceParams` in shaders/lib/surface_grid.wgsl. */
export function surfaceParamsFields(
  plan: SurfaceLayoutPlan,
  distance: DistanceMode,
  v: SurfaceParamValues,
): UniformValue[] {
  const g = plan.geometry;
  const size = v.voxelGrid ? padded(g.spatialShape) : plan.size;
  const window = v.window;
  return [
    ['size_0', 'u32', size[0]],
    ['size_1', 'u32', size[1]],
    ['size_2', 'u32', size[2]],
    ['voxels', 'u32', size[0] * size[1] * size[2]],
    ['dims', 'u32', g.spatialShape.length],
    ['cell_grid', 'u32', plan.cellGrid && !v.voxelGrid ? 1 : 0],
    ['pair_base', 'u32', v.pairBase ?? 0],
    ['pairs', 'u32', v.pairs ?? 0],
    ['volumes_per_pair', 'u32', plan.volumesPerPair],
    ['chunks', 'u32', v.chunks ?? 0],
    ['axis', 'u32', v.axis ?? 0],
    ['features', 'u32', v.features ?? 0],
    ['metric', 'u32', METRIC[distance.metric]],
    ['exact', 'u32', distance.exact ? 1 : 0],
    ['classes', 'u32', g.classes],
    ['kept', 'u32', plan.kept],
    ['first_class', 'u32', plan.firstClass],
    ['pred_kind', 'u32', v.predKind ?? 0],
    ['target_kind', 'u32', v.targetKind ?? 0],
    ['channels_first', 'u32', g.channelsFirst ? 1 : 0],
    ['sample_voxels', 'u32', g.spatial],
    ['voxel_base', 'u32', window?.elementBase ?? 0],
    ['element_base', 'u32', (window?.elementBase ?? 0) * g.classes],
    ['mode', 'u32', v.mode ?? 0],
    ['mode_2', 'u32', v.mode2 ?? 0],
    ['scalar_0', 'f32', v.scalar0 ?? 0],
    ['scalar_1', 'f32', v.scalar1 ?? 0],
    ['row_walk', 'u32', plan.rowWalk ? 1 : 0],
    ['sample_base', 'u32', window?.linearBase ?? 0],
  ];
}

/** A pass of one dispatch (a group's, or the whole program's). */
export function singlePass(
  name: string,
  kernel: KernelName,
  fields: UniformValue[],
  workgroups: number,
  bindings: Record<string, BindingRef>,
  options: { constants?: PipelineConstants; group?: PassGroup; window?: BindingWindow } = {},
): ProgramPass {
  const dispatch: ProgramDispatch = {
    block: 0,
    workgroups: [workgroups, 1, 1],
    bindings,
    ...(options.window ? { window: options.window } : {}),
  };
  return uniformPass(
    name,
    kernel,
    options.constants ?? {},
    packPerWindow([0], () => fields),
    [dispatch],
    options.group ?? 'forward',
  );
}

/** A pass over every sample window: one dispatch each, `fieldsFor` its uniform block. */
export function windowPass(
  name: string,
  kernel: KernelName,
  windows: readonly BindingWindow[],
  fieldsFor: (w: BindingWindow) => UniformValue[],
  workgroupsFor: (w: BindingWindow) => number,
  bind: (w: BindingWindow) => Record<string, BindingRef>,
  group: PassGroup = 'forward',
): ProgramPass {
  const dispatches = windows.map((w, block) => ({
    block,
    window: w,
    workgroups: [workgroupsFor(w), 1, 1] as const,
    bindings: bind(w),
  }));
  return uniformPass(name, kernel, {}, packPerWindow(windows, fieldsFor), dispatches, group);
}

/**
 * The feature test of volume j of a pair (`is_feature` in lib/surface_grid.wgsl): its flag bit
 * and the value that marks a feature, one byte per volume.
 */
export function featureTests(tests: readonly (readonly [bit: number, want: 0 | 1])[]): number {
  return tests.reduce((word, [bit, want], j) => word | ((bit | (want << 7)) << (8 * j)), 0) >>> 0;
}

/**
 * The distance transform of a group's volumes: the first pass along the innermost axis from the
 * flags, then one envelope pass per other real axis longer than one voxel, ping-ponging between
 * two field buffers. Returns the passes and the buffer that holds the result.
 */
export function distancePasses(
  plan: SurfaceLayoutPlan,
  distance: DistanceMode,
  group: SurfaceGroup,
  features: number,
  names: { prefix: string; flags: string; fields: readonly [string, string]; boxes?: string; pairs?: string },
): { passes: ProgramPass[]; result: string } {
  const boxes = scratchRef(names.boxes ?? 'boxes');
  const pairs = scratchRef(names.pairs ?? 'pairs');
  const workgroups = group.pairs * plan.volumesPerPair * plan.rowChunks;
  const common = { pairBase: group.pairBase, pairs: group.pairs, chunks: plan.rowChunks, features };
  const passes: ProgramPass[] = [
    singlePass(
      `${names.prefix}distance axis 2`,
      // GPUs: a workgroup scans its rows tile by tile (coalesced); software: a thread per row.
      plan.rowWalk ? 'distance_first' : 'distance_first_tiles',
      surfaceParamsFields(plan, distance, { ...common, axis: 2 }),
      workgroups,
      {
        flags: scratchRef(names.flags),
        boxes,
        pairs,
        field: scratchRef(names.fields[0]),
      },
    ),
  ];
  const constants = { METRIC: METRIC[distance.metric], EXACT: distance.exact ? 1 : 0 };
  let current = 0;
  for (const axis of [1, 0]) {
    if (3 - axis > plan.geometry.spatialShape.length || plan.size[axis] === 1) continue;
    passes.push(
      singlePass(
        `${names.prefix}distance axis ${axis}`,
        'distance_envelope',
        surfaceParamsFields(plan, distance, { ...common, axis }),
        workgroups,
        {
          field_in: scratchRef(names.fields[current]),
          boxes,
          pairs,
          field_out: scratchRef(names.fields[1 - current]),
        },
        { constants },
      ),
    );
    current = 1 - current;
  }
  return { passes, result: names.fields[current] };
}

/**
 * Per pair, two vec4 (PairInfo in lib/surface_grid.wgsl): (limit, sample, class, 0) as u32 and
 * (w_0, w_1, w_2, scale) as f32: axis weights spacing^2 in the f32 mode (1 otherwise), the
 * scale of an exact euclidean distance (the sample's isotropic spacing).
 */
export function packPairInfo(
  plan: SurfaceLayoutPlan,
  distance: DistanceMode,
  limitOf: (sample: number, kept: number) => number = () => 0,
): Float32Array<ArrayBuffer> {
  const bytes = new ArrayBuffer(Math.max(1, plan.pairs) * 32);
  const view = new DataView(bytes);
  for (let pair = 0; pair < plan.pairs; pair++) {
    const sample = Math.floor(pair / plan.kept);
    const k = pair % plan.kept;
    const spacing = padded(distance.spacing[sample]);
    const at = pair * 32;
    view.setUint32(at, limitOf(sample, k) >>> 0, true);
    view.setUint32(at + 4, sample, true);
    view.setUint32(at + 8, plan.firstClass + k, true);
    for (let a = 0; a < 3; a++) view.setFloat32(at + 16 + 4 * a, distance.exact ? 1 : spacing[a] * spacing[a], true);
    view.setFloat32(at + 28, distance.exact && distance.metric === 'euclidean' ? spacing[2] : 1, true);
  }
  return new Float32Array(bytes);
}

/** Words per sample of a per-sample buffer (`sample_stride` in lib/surface_grid.wgsl): its pairs' volumes, padded to 256 bytes. */
export function sampleStride(plan: SurfaceLayoutPlan): number {
  return Math.ceil((plan.kept * plan.gridVoxels) / 64) * 64;
}

/** The window of a per-sample scratch buffer (see {@link sampleStride}) that holds a window's samples. */
export function sampleScratchRef(name: string, plan: SurfaceLayoutPlan, w: BindingWindow): BindingRef {
  const stride = sampleStride(plan) * 4;
  return scratchRef(name, w.linearBase * stride, w.count * stride);
}

/** Per pair, a box (lo.xyz, 0, hi.xyz, 0) covering the whole volume (programs that do not crop). */
export function fullBoxes(plan: SurfaceLayoutPlan): Float32Array<ArrayBuffer> {
  const words = new Uint32Array(Math.max(1, plan.pairs) * 8);
  const size = padded(plan.geometry.spatialShape);
  for (let pair = 0; pair < plan.pairs; pair++) {
    for (let a = 0; a < 3; a++) words[pair * 8 + 4 + a] = size[a] - 1;
  }
  return new Float32Array(words.buffer);
}
