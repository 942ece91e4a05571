/**
 * The prepared run for a lent GPU machine (issue 18 item 5): `node dist/bench.js --gpu-suite`.
 * Every loss case of bench/cases.ts, the cases of the GPU targets up to 8x1024x1024x16
 * (134M elements), each with its default plan and its tuned plan (engine.tune() on that GPU)
 * side by side, forward, forward+backward and the backward alone, against the copy kernel at
 * the same shape in the same run; JSON lines on stdout; the default rows carry their
 * kernel-stats rows (RADV's compile of the same GPU plans, made before the run: see
 * bench/RESULTS.md, "The prepared GPU run"); clDice (bench/cldice.ts) at the end. It keeps to a
 * time budget, so a device call always returns what was measured.
 *
 * This module is the plan of the run (pure: the unit tests check it) and the kernel-stats
 * lookup; bench/main.ts runs it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { elementsOf, LOSS_CASES, type LossCase } from './cases.js';

export interface SuiteEntry {
  readonly lossCase: LossCase;
  /** The channels-last bench shape [B, H, W, C] (or a volume's fixed dims). */
  readonly benchShape: readonly number[];
  /** The case's own shape (channels-first cases permute the bench shape). */
  readonly shape: readonly number[];
}

const SMALL = [2, 512, 512, 8];
const MEDIUM = [8, 512, 512, 8];
const LARGE = [8, 1024, 1024, 16];
/** `--quick`: every case at a shape lavapipe runs in seconds (and kernel-stats knows). */
const QUICK = [4, 128, 128, 4];
const QUICK_VOLUME = [1, 32, 32, 32, 4];

/**
 * Where the cases run on a GPU beyond SMALL: the targets (the global Dice loss and softmax +
 * u8 at 134M) and a middle size for each 2D case. A case not named here (a new one) runs at
 * SMALL; a volume case at its own shape.
 */
const GPU_SHAPES: Readonly<Record<string, readonly (readonly number[])[]>> = {
  'seed-global': [SMALL, MEDIUM, LARGE],
  'seed-weighted': [SMALL, MEDIUM],
  'seed-multiclass': [SMALL, MEDIUM, LARGE],
  'softmax-u8': [SMALL, MEDIUM, LARGE],
  'softmax-u8-cf': [SMALL, MEDIUM],
  'sigmoid-dense-cf': [SMALL, MEDIUM],
};

/** Seconds the suite may spend before it skips the remaining cases (the device allows 10 minutes a call). */
export const SUITE_BUDGET_S = 420;

/** The suite's cases, smallest shapes first (each shape's copy ceiling is measured once). */
export function gpuSuiteEntries(quick: boolean, cases: readonly LossCase[] = LOSS_CASES): SuiteEntry[] {
  const entries: SuiteEntry[] = [];
  for (const lossCase of cases) {
    const shapes = lossCase.fixedDims
      ? [quick ? QUICK_VOLUME : [...lossCase.fixedDims]]
      : quick
        ? [QUICK]
        : (GPU_SHAPES[lossCase.name] ?? [SMALL]);
    for (const benchShape of shapes) {
      const shape = lossCase.fixedDims ? [...benchShape] : lossCase.dims(benchShape);
      entries.push({ lossCase, benchShape: [...benchShape], shape });
    }
  }
  // A stable sort: the cases keep their order within a shape.
  return entries.sort((a, b) => elementsOf(a.benchShape) - elementsOf(b.benchShape));
}

/** The figures of a kernel-stats row a bench row carries. */
export interface KernelStatsFigures {
  family: string;
  pass: string;
  kernel: string;
  vgprs?: number;
  scratch_bytes?: number;
  lds_bytes?: number;
  subgroups_per_simd?: number;
  flags: string[];
}

interface StoredRow extends KernelStatsFigures {
  case: string;
  shape: number[];
  device_class: string;
}

/**
 * The kernel-stats rows (`npm run kernel-stats -- --json`, GPU plans) of every case and shape,
 * read from `path` (default: kernel-stats.json beside this bundle, which `npm run
 * bench:gpu-prepare` writes); empty when there is none. Lookup by case and shape.
 */
export function loadKernelStats(path?: string): (caseName: string, shape: readonly number[]) => KernelStatsFigures[] {
  const file = path ?? fileURLToPath(new URL('./kernel-stats.json', import.meta.url));
  if (!existsSync(file)) return () => [];
  const rows = (JSON.parse(readFileSync(file, 'utf8')) as StoredRow[]).filter((r) => r.device_class === 'gpu');
  return (caseName, shape) =>
    rows
      .filter((r) => r.case === caseName && r.shape.join('x') === shape.join('x'))
      .map((r) => ({
        family: r.family,
        pass: r.pass,
        kernel: r.kernel,
        vgprs: r.vgprs,
        scratch_bytes: r.scratch_bytes,
        lds_bytes: r.lds_bytes,
        subgroups_per_simd: r.subgroups_per_simd,
        flags: r.flags,
      }));
}
