import { packPerWindow, type UniformValue } from '../kernels/uniforms.js';
import type { NormalizedClDiceOptions } from '../spec/cldice.js';
import {
  elementwiseFields,
  layoutFields,
  LOSS_INPUTS,
  scratchVolume,
  windowedPass,
  type ElementwiseGrid,
  type LevelPlan,
  type Volume,
} from './cldice-common.js';
import type { BindingWindow } from './grids.js';
import type { PassGroup, ProgramPass } from './program.js';

// clDice's level passes on software adapters: elementwise steps that read their stencils
// straight from storage, with no workgroup memory and no barrier (lavapipe runs a workgroup's
// threads in SIMD groups that switch context at every barrier, which costs more there than the
// passes the tiles save). A forward level is two passes (erode; dilate and the skeleton update),
// a backward level four (the skeleton recurrence, the dilation's choices, and the two gathers).
// The same arithmetic in the same order as the tiled passes: bitwise the same results.

/** Mirrors `ClDiceParams` in lib/cldice_common.wgsl, one block per window of the elementwise grid. */
export function stepParamsFields(o: NormalizedClDiceOptions, grid: ElementwiseGrid, w: BindingWindow): UniformValue[] {
  return [...layoutFields(o), ...elementwiseFields(grid, w)];
}

export function elementwiseLevels(o: NormalizedClDiceOptions, grid: ElementwiseGrid): LevelPlan {
  const K = o.skeletonIterations;
  const constants = { SPATIAL_DIMS: o.rank };
  const params = { block: 'steps', bytes: packPerWindow(grid.windows, (w) => stepParamsFields(o, grid, w)) };
  const step = (
    name: string,
    kernel: Parameters<typeof windowedPass>[1],
    modes: Record<string, number>,
    group: PassGroup,
    bind: Parameters<typeof windowedPass>[6],
  ) => windowedPass(name, kernel, { ...constants, ...modes }, group, grid.windows, params, bind);
  const { pred, grad, target, targetSkeleton, coefficients } = LOSS_INPUTS;
  const gradLevel = (j: number) => scratchVolume(`grad level ${j % 2}`);

  const skeleton = (who: string, group: PassGroup, source: Volume, out: Volume): ProgramPass[] => {
    const level = (k: number) => (k === 0 ? source : scratchVolume(`eroded ${k - 1}`));
    const skeletonAt = (k: number) => (k === K ? out : scratchVolume(`skeleton ${k}`));
    return Array.from({ length: K + 1 }, (_, k) => {
      const next = scratchVolume(`eroded ${k}`);
      return [
        step(`${who} erode ${k}`, 'cldice_erode', {}, group, { pooled_values: level(k), eroded: next }),
        step(`${who} skeleton ${k}`, 'cldice_skeleton', { FIRST_LEVEL: +(k === 0) }, group, {
          pooled_values: next,
          level: level(k),
          // Level 0 reads no previous skeleton: anything readable is bound.
          previous: k === 0 ? next : skeletonAt(k - 1),
          delta: scratchVolume(`delta ${k}`),
          skeleton: skeletonAt(k),
        }),
      ];
    }).flat();
  };

  const backward = (): ProgramPass[] =>
    Array.from({ length: K + 1 }, (_, i) => {
      const k = K - i;
      const delta = scratchVolume(`delta ${k}`);
      return [
        step(
          `skeleton backward ${k}`,
          'cldice_skeleton_backward',
          { FROM_LOSS: +(k === K), FIRST_LEVEL: +(k === 0) },
          'backward',
          {
            coefficients,
            target_values: target,
            previous: k === 0 ? target : scratchVolume(`skeleton ${k - 1}`),
            delta,
            grad_skeleton: scratchVolume('grad skeleton'),
          },
        ),
        step(`dilate choice ${k}`, 'cldice_dilate_choice', {}, 'backward', {
          pooled_values: scratchVolume(`eroded ${k}`),
          choice: scratchVolume('choice'),
        }),
        step(`dilate backward ${k}`, 'cldice_dilate_backward', { ACCUMULATE: +(k !== K) }, 'backward', {
          choice: scratchVolume('choice'),
          grad_delta: delta,
          grad_level: gradLevel(k + 1),
        }),
        step(`erode backward ${k}`, 'cldice_erode_backward', { FINAL: +(k === 0) }, 'backward', {
          pooled_values: k === 0 ? pred : scratchVolume(`eroded ${k - 1}`),
          grad_next: gradLevel(k + 1),
          grad_delta: delta,
          grad_level: k === 0 ? grad : gradLevel(k),
          coefficients,
          target_values: target,
          target_skeleton: targetSkeleton,
        }),
      ];
    }).flat();

  return { scratch: ['grad skeleton', 'choice', 'grad level 0', 'grad level 1'], skeleton, backward };
}
