import { packPerWindow, type UniformValue } from '../kernels/uniforms.js';
import type { NormalizedClDiceOptions } from '../spec/cldice.js';
import {
  layoutFields,
  LOSS_INPUTS,
  scratchVolume,
  volumeTooLarge,
  WINDOW_ALIGN,
  windowedPass,
  type LevelPlan,
  type UniformBlock,
  type Volume,
} from './cldice-common.js';
import { rangeWindows, type BindingWindow } from './grids.js';
import type { GridProfile } from './profile.js';
import type { PassGroup, ProgramPass } from './program.js';

// clDice's level passes on GPUs (shaders/lib/cldice_tile.wgsl): one pass per skeleton level
// (cldice_level.wgsl: erode, dilate and the skeleton update fused) and one per backward level
// (cldice_level_backward.wgsl: the skeleton recurrence and both pooling gathers fused), on tiles
// that read their stencils into workgroup memory; the tile shape, the grid of runs of tiles the
// workgroups take, and its binding windows. No pass reduces across cells, so a cell's value does
// not depend on the tiles or windows, and they may follow the device and the binding limit freely.

/**
 * Workgroup-array cells per thread, as numerator and denominator, for a tile with a halo of 2
 * and of 1 (`WIDE_CAPACITY`, `NARROW_CAPACITY` in lib/cldice_tile.wgsl): an 8 x 8 x 4 tile with
 * its halos (12 x 12 x 8 and 10 x 10 x 6 cells) fits 256 threads. The backward pass holds one
 * wide and two narrow arrays: 38 bytes a thread, within WORKGROUP_BYTES_PER_THREAD.
 */
export const TILE_CAPACITY = { wide: [9, 2], narrow: [5, 2] } as const;

function capacity(threads: number, [numerator, denominator]: readonly [number, number]): number {
  return Math.floor((threads * numerator) / denominator);
}

/** A tile: cells per axis (d, h, w), stacked volumes, and the halo of 2 or 0 along each axis. */
export interface TileShape {
  readonly tile: readonly [number, number, number];
  readonly volumes: number;
  readonly halo: readonly [number, number, number];
}

/** Sizes worth trying along an axis of `size` cells: powers of two, and the whole axis. */
function axisCandidates(size: number, threads: number): number[] {
  const sizes = new Set<number>();
  for (let t = 1; t <= Math.min(size, threads); t *= 2) sizes.add(t);
  if (size <= threads) sizes.add(size);
  return [...sizes];
}

/**
 * The tile with the most cells a workgroup of `threads` can own whose boxes (the tile with a
 * halo of 2 and of 1 along the axes it cuts) fit the workgroup arrays; of those, the one that
 * loads the fewest cells per output, then the widest along w (contiguous in memory). A tile
 * that spans whole volumes stacks up to `maxVolumes` of them.
 */
export function tileShape(size: readonly [number, number, number], threads: number, maxVolumes: number): TileShape {
  const wideCells = capacity(threads, TILE_CAPACITY.wide);
  const narrowCells = capacity(threads, TILE_CAPACITY.narrow);
  let best: (TileShape & { outputs: number; loads: number }) | undefined;
  for (const td of axisCandidates(size[0], threads)) {
    for (const th of axisCandidates(size[1], Math.floor(threads / td))) {
      for (const tw of axisCandidates(size[2], Math.floor(threads / (td * th)))) {
        const tile = [td, th, tw] as const;
        const halo = tile.map((t, a) => (t < size[a] ? 2 : 0)) as [number, number, number];
        const box = (reach: number) => tile.reduce((n, t, a) => n * (t + 2 * Math.min(halo[a], reach)), 1);
        const cells = td * th * tw;
        const whole = tile.every((t, a) => t === size[a]);
        const stack = whole ? Math.max(1, Math.min(Math.floor(threads / cells), maxVolumes)) : 1;
        const volumes = Math.min(stack, Math.floor(wideCells / box(2)), Math.floor(narrowCells / box(1)));
        if (volumes < 1) continue;
        const outputs = volumes * cells;
        const loads = (volumes * box(2)) / outputs;
        if (
          !best ||
          outputs > best.outputs ||
          (outputs === best.outputs && (loads < best.loads || (loads === best.loads && tw > best.tile[2])))
        ) {
          best = { tile, volumes, halo, outputs, loads };
        }
      }
    }
  }
  if (!best) throw new Error(`internal error: no clDice tile fits ${threads} threads`);
  return { tile: best.tile, volumes: best.volumes, halo: best.halo };
}

/**
 * The tiles of one stencil pass: over the foreground volumes (`firstClass` 1: the passes that
 * compute something) or every volume (0: the last backward pass, which writes 0 on the
 * background), in stacks of `shape.volumes`, each cut into tiles that workgroups take in runs.
 */
export interface TileGrid {
  readonly shape: TileShape;
  readonly firstClass: 0 | 1;
  /** (sample, class) volumes the grid covers: B (C - firstClass), sample-major. */
  readonly volumes: number;
  readonly tilesPerAxis: readonly [number, number, number];
  readonly tileCount: number;
  /** Workgroups take runs of `tilesPerRun` tiles within a group of whole stacks (one, or several small ones). */
  readonly tilesPerGroup: number;
  readonly runsPerGroup: number;
  readonly tilesPerRun: number;
  readonly workgroups: number;
  readonly windows: readonly BindingWindow[];
}

/** The layout facts a tile grid is planned from. */
function layout(o: NormalizedClDiceOptions) {
  const cells = o.size[0] * o.size[1] * o.size[2];
  const sample = cells * o.classes;
  return { cells, sample };
}

/** The elements [start, end) a pass over grid volumes [first, last] touches: whole volumes, or whole samples channels-last. */
function volumeSpan(o: NormalizedClDiceOptions, firstClass: number, first: number, last: number): [number, number] {
  const { cells, sample } = layout(o);
  const perSample = o.classes - firstClass;
  const at = (v: number) => ({ b: Math.floor(v / perSample), c: firstClass + (v % perSample) });
  const [a, z] = [at(first), at(last)];
  if (!o.channelsFirst) return [a.b * sample, (z.b + 1) * sample];
  return [a.b * sample + a.c * cells, z.b * sample + z.c * cells + cells];
}

export function tileGrid(o: NormalizedClDiceOptions, profile: GridProfile, firstClass: 0 | 1): TileGrid {
  const perSample = o.classes - firstClass;
  const volumes = o.batch * perSample;
  const maxElements = Math.floor(profile.maxBindingBytes / 4);
  // Windows start at a multiple of WINDOW_ALIGN elements at or before a span: exact where the
  // samples keep that alignment (the spans then repeat from sample to sample), else the worst case.
  const aligned = layout(o).sample % WINDOW_ALIGN === 0;
  const fits = (count: number) => {
    for (let first = 0; first < Math.min(perSample, volumes - count + 1); first++) {
      const [start, end] = volumeSpan(o, firstClass, first, first + count - 1);
      const slack = aligned ? start % WINDOW_ALIGN : WINDOW_ALIGN - 1;
      if (end - start + slack > maxElements) return false;
    }
    return true;
  };
  // Spans grow with the count: the largest count that fits, by bisection.
  let [maxVolumes, tooMany] = [0, volumes + 1];
  while (tooMany - maxVolumes > 1) {
    const count = Math.floor((maxVolumes + tooMany) / 2);
    if (fits(count)) maxVolumes = count;
    else tooMany = count;
  }
  if (volumes > 0 && maxVolumes === 0) throw volumeTooLarge(o, profile);
  const shape = tileShape(o.size, profile.workgroupSize, Math.max(1, maxVolumes));
  const tilesPerAxis = o.size.map((s, a) => Math.ceil(s / shape.tile[a])) as [number, number, number];
  const tilesPerStack = tilesPerAxis[0] * tilesPerAxis[1] * tilesPerAxis[2];
  const stacks = Math.ceil(volumes / shape.volumes);
  const tileCount = stacks * tilesPerStack;
  // About the profile's elementwise workgroups: software adapters get runs of many tiles, within
  // a stack, or of whole stacks (as many as one window holds) when stacks are small.
  const wanted = Math.max(1, Math.ceil(tileCount / profile.elementwiseWorkgroups));
  const stacksPerGroup = Math.max(
    1,
    Math.min(Math.floor(wanted / tilesPerStack), Math.floor(Math.max(1, maxVolumes) / shape.volumes)),
  );
  const tilesPerGroup = stacksPerGroup * tilesPerStack;
  const runsPerGroup = Math.ceil(tilesPerGroup / Math.min(wanted, tilesPerGroup));
  const tilesPerRun = Math.ceil(tilesPerGroup / runsPerGroup);
  const workgroups = Math.ceil(stacks / stacksPerGroup) * runsPerGroup;
  const windows =
    workgroups === 0
      ? []
      : rangeWindows(
          workgroups,
          (linear) => {
            const first = Math.floor(linear / runsPerGroup) * stacksPerGroup * shape.volumes;
            return volumeSpan(o, firstClass, first, Math.min(first + stacksPerGroup * shape.volumes, volumes) - 1);
          },
          4,
          profile,
          WINDOW_ALIGN,
        );
  return {
    shape,
    firstClass,
    volumes,
    tilesPerAxis,
    tileCount,
    tilesPerGroup,
    runsPerGroup,
    tilesPerRun,
    workgroups,
    windows,
  };
}

/** Mirrors `TileParams` in lib/cldice_tile.wgsl, one block per binding window of `grid`. */
export function tileParamsFields(o: NormalizedClDiceOptions, grid: TileGrid, w: BindingWindow): UniformValue[] {
  const { tile, volumes, halo } = grid.shape;
  return [
    ...layoutFields(o),
    ['sample_stride', 'u32', layout(o).sample],
    ['first_class', 'u32', grid.firstClass],
    ['volumes', 'u32', grid.volumes],
    ['tile_d', 'u32', tile[0]],
    ['tile_h', 'u32', tile[1]],
    ['tile_w', 'u32', tile[2]],
    ['tile_volumes', 'u32', volumes],
    ['halo_d', 'u32', halo[0]],
    ['halo_h', 'u32', halo[1]],
    ['halo_w', 'u32', halo[2]],
    ['tiles_d', 'u32', grid.tilesPerAxis[0]],
    ['tiles_h', 'u32', grid.tilesPerAxis[1]],
    ['tiles_w', 'u32', grid.tilesPerAxis[2]],
    ['tile_count', 'u32', grid.tileCount],
    ['tiles_per_group', 'u32', grid.tilesPerGroup],
    ['runs_per_group', 'u32', grid.runsPerGroup],
    ['tiles_per_run', 'u32', grid.tilesPerRun],
    ['linear_base', 'u32', w.linearBase],
    ['element_base', 'u32', w.elementBase],
  ];
}

/** The tile grids of a loss: the foreground classes' (every pass but one) and every class's (the last backward). */
export interface ClDiceTiles {
  readonly foreground: TileGrid;
  readonly all: TileGrid;
}

export function tiledLevels(o: NormalizedClDiceOptions, tiles: ClDiceTiles): LevelPlan {
  const K = o.skeletonIterations;
  // soft_erode pools along H, W (2D) or D, H, W.
  const rank = { SPATIAL_DIMS: o.rank };
  const block = (grid: TileGrid, name: string): UniformBlock => ({
    block: name,
    bytes: packPerWindow(grid.windows, (w) => tileParamsFields(o, grid, w)),
  });
  const foreground = block(tiles.foreground, 'foreground tiles');
  const all = block(tiles.all, 'all tiles');

  /** soft_skel(source) into `out` (level K), one pass a level, keeping every level for the backward. */
  const skeleton = (who: string, group: PassGroup, source: Volume, out: Volume): ProgramPass[] =>
    Array.from({ length: K + 1 }, (_, k) =>
      windowedPass(
        `${who} level ${k}`,
        'cldice_level',
        { ...rank, FIRST_LEVEL: +(k === 0) },
        group,
        tiles.foreground.windows,
        foreground,
        {
          level: k === 0 ? source : scratchVolume(`eroded ${k - 1}`),
          // Level 0 reads no previous skeleton: anything readable is bound.
          previous: k === 0 ? source : scratchVolume(`skeleton ${k - 1}`),
          eroded: scratchVolume(`eroded ${k}`),
          delta: scratchVolume(`delta ${k}`),
          skeleton: k === K ? out : scratchVolume(`skeleton ${k}`),
        },
      ),
    );

  const { pred, grad, target, targetSkeleton, coefficients } = LOSS_INPUTS;
  // x_j: pred, then the eroded levels.
  const x = (j: number) => (j === 0 ? pred : scratchVolume(`eroded ${j - 1}`));
  const gradLevel = (j: number) => scratchVolume(`grad level ${j % 2}`);
  const g = (j: number) => scratchVolume(`g ${j % 2}`);
  /** Level j of the backward (K + 1 down to 0); bindings a mode does not read get a scratch volume the pass does not write. */
  const backwardLevel = (j: number): ProgramPass => {
    const [top, final] = [j === K + 1, j === 0];
    const unused = scratchVolume(`delta ${Math.min(j, K)}`);
    return windowedPass(
      `backward level ${j}`,
      'cldice_level_backward',
      { ...rank, TOP: +top, FINAL: +final, LOWER_FIRST: +(j === 1) },
      'backward',
      (final ? tiles.all : tiles.foreground).windows,
      final ? all : foreground,
      {
        coefficients,
        target_values: target,
        target_skeleton: final ? targetSkeleton : unused,
        level: x(j),
        grad_next: top ? unused : gradLevel(j + 1),
        g_in: top ? unused : g(j),
        delta_upper: top ? unused : scratchVolume(`delta ${j}`),
        skeleton_upper: top || final ? unused : scratchVolume(`skeleton ${j - 1}`),
        delta_lower: final ? unused : scratchVolume(`delta ${j - 1}`),
        skeleton_lower: final || j === 1 ? unused : scratchVolume(`skeleton ${j - 2}`),
        grad_level: final ? grad : gradLevel(j),
        // TOP hands down g_K, a middle level g_{j-1}; FINAL writes none (g 1 is not read there).
        g_out: final ? g(1) : g(j - 1),
      },
    );
  };
  const backward = () => Array.from({ length: K + 2 }, (_, i) => backwardLevel(K + 1 - i));

  return { scratch: ['grad level 0', 'grad level 1', 'g 0', 'g 1'], skeleton, backward };
}
