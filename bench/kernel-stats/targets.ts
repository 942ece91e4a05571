/**
 * The losses `npm run kernel-stats` compiles: every bench case at every shape the bench runs it
 * at (bench/cases.ts), clDice at the shapes of `npm run bench:cldice`, and MONAI's Generalized
 * Wasserstein Dice loss, which has no bench row yet, at the bench's shapes.
 */
import type { DiceEngine } from '../../src/index.js';
import { CLDICE_BENCH, LOSS_CASES, SHAPES, toChannelsFirst, type ProgramPass } from '../cases.js';

/** A created loss as kernel-stats reads it: its program's passes where it has a program. */
export interface CreatedLoss {
  readonly passes: readonly ProgramPass[];
  destroy(): void;
}

export interface KernelStatsTarget {
  /** The bench's case name ('seed-global', 'softmax-u8', 'cl-dice', ...). */
  readonly case: string;
  /** The loss's shape, in its own layout (channels-first cases: [B, C, ...]). */
  readonly shape: readonly number[];
  readonly classes: number;
  create(engine: DiceEngine): Promise<CreatedLoss>;
}

const WASSERSTEIN_CASE = 'wasserstein-u8-cf';

/** Class i is |i - j| / (C - 1) away from class j: ordered labels (any matrix makes the same pipeline). */
function orderedDistances(classes: number): number[][] {
  return Array.from({ length: classes }, (_, i) =>
    Array.from({ length: classes }, (_, j) => Math.abs(i - j) / (classes - 1)),
  );
}

/** Every target, in the bench's order; `only` keeps those whose case name contains it. */
export function kernelStatsTargets(only?: string): KernelStatsTarget[] {
  const targets: KernelStatsTarget[] = [];
  for (const lossCase of LOSS_CASES) {
    const shapes = lossCase.fixedDims ? [[...lossCase.fixedDims]] : SHAPES.map((s) => lossCase.dims(s.dims));
    for (const shape of shapes) {
      targets.push({
        case: lossCase.name,
        shape,
        classes: lossCase.layout === 'channels-first' ? shape[1] : shape[shape.length - 1],
        create: (engine) => lossCase.create(engine, shape),
      });
    }
  }
  // clDice, and at its first shape with f16 predictions and gradient (the f16 conversion passes).
  const clDiceTargets = [
    ...CLDICE_BENCH.shapes.map((shape) => ({ name: 'cl-dice', shape, f16: false })),
    { name: 'cl-dice-f16', shape: CLDICE_BENCH.shapes[0], f16: true },
  ];
  for (const { name, shape, f16 } of clDiceTargets) {
    targets.push({
      case: name,
      shape,
      classes: shape[shape.length - 1],
      create: async (engine) => {
        const loss = await engine.loss({
          formula: 'cl-dice',
          shape,
          skeletonIterations: CLDICE_BENCH.iterations,
          ...(f16 ? { predType: 'f16' as const, gradType: 'f16' as const } : {}),
          label: `kernel-stats ${name}`,
        });
        return { passes: loss.program.passes, destroy: () => loss.destroy() };
      },
    });
  }
  // A distance needs two classes; MONAI's layout (channels-first) and the bench's u8 label maps.
  for (const { dims } of SHAPES.filter((s) => s.dims[s.dims.length - 1] >= 2)) {
    const shape = toChannelsFirst(dims);
    targets.push({
      case: WASSERSTEIN_CASE,
      shape,
      classes: shape[1],
      create: async (engine) => {
        const loss = await engine.wassersteinDice({
          shape,
          layout: 'channels-first',
          target: 'u8',
          distanceMatrix: orderedDistances(shape[1]),
          label: `kernel-stats ${WASSERSTEIN_CASE}`,
        });
        return { passes: loss.program.passes, destroy: () => loss.destroy() };
      },
    });
  }
  targets.push(...surfaceTargets());
  return only === undefined ? targets : targets.filter((t) => t.case.includes(only));
}

/**
 * The surface programs at the size issue 20 times them (a 128^3 label-map pair, 4 labels):
 * the distance transform, HD95 + ASD + NSD, subvoxel NSD, and the Hausdorff-DT loss.
 */
function surfaceTargets(): KernelStatsTarget[] {
  const shape = [1, 128, 128, 128, 4];
  const target = (
    name: string,
    create: (engine: DiceEngine) => Promise<{ program: { passes: readonly ProgramPass[] }; destroy(): void }>,
  ) => ({
    case: name,
    shape,
    classes: 4,
    create: async (engine: DiceEngine) => {
      const made = await create(engine);
      return { passes: made.program.passes, destroy: () => made.destroy() };
    },
  });
  return [
    target('distance-transform-u8', (e) => e.distanceTransform({ shape, target: 'u8', signed: true })),
    target('surface-hd95-asd-nsd-u8', (e) =>
      e.surfaceMetrics({ shape, target: 'u8', percentile: 95, tolerance: 1, includeBackground: false }),
    ),
    target('surface-nsd-subvoxels', (e) =>
      e.surfaceMetrics({ shape, target: 'u8', metrics: ['nsd'], subvoxels: true, tolerance: 1, spacing: [1, 1, 2] }),
    ),
    target('hausdorff-dt-softmax', (e) =>
      e.loss({ formula: 'hausdorff-dt', shape, activation: 'softmax', target: 'u8' }),
    ),
  ];
}
