// `wgsl-dice eval` on two label maps (.npy or NIfTI): per class, the Dice, the Hausdorff distance
// at a percentile (HD95), the average surface distance and the normalised surface Dice, with
// MONAI's conventions (edges, distances, percentile, empty masks: see docs/surface-metrics.md, "MONAI's
// conventions"). The surface metrics run on the GPU (engine.surfaceMetrics), one class crop
// at a time (see label-maps.ts); the Dice is counted exactly on the CPU in the same pass that finds
// the crops.
import { describeAdapter } from '../node/index.js';
import type { DiceEngine } from '../index.js';
import { parseNumber, parseNumberList } from './args.js';
import { withEngine } from './device.js';
import { CliError, usageError } from './errors.js';
import { formatShape, formatTable } from './format.js';
import {
  type LabelStats,
  type LabelVolume,
  MAX_LABEL,
  classCrop,
  countLabels,
  cropMasks,
  readLabelVolume,
} from './label-maps.js';

export const SEGMENTATION_HELP = `Segmentation metrics (two label maps):
  wgsl-dice eval --pred P.nii.gz --target T.nii.gz [options]

  Per class: Dice, HD95 (the Hausdorff distance at --percentile), the average surface distance
  (ASD) and the normalised surface Dice (NSD) at --tolerance, with MONAI's conventions
  (compute_hausdorff_distance, compute_average_surface_distance, compute_surface_dice). Distances
  are in millimetres when the spacing is known. Chosen when either file is NIfTI (.nii, .nii.gz),
  when pred is an integer .npy, or when any option below is given.

  --percentile P      Hausdorff percentile, 0 to 100 (default 95; 0 or 100: the maximum).
  --tolerance T[,T..] NSD tolerance: one for every class, or one per class reported (default 1).
  --spacing S[,S..]   Voxel size: one number or one per axis, in the file's axis order (NIfTI:
                      i, j, k), overriding the NIfTI header's pixdim (default: the target's
                      header, in mm; 1 for .npy).
  --classes LIST      Labels to report, e.g. 1,2,5-7 (default: every label in either map but 0).
  --include-background  Report label 0 too (with the default class list).
  --asd MODE          symmetric (default: both directions' distances pooled, MONAI's
                      symmetric=True) or pred-to-target (MONAI's default).
  --quiet             No progress line on stderr.
  --json              One JSON object (non-finite values as the strings "nan" and "inf").

  Label maps: one volume of 1 to 3 axes per file, integer labels 0 to ${MAX_LABEL} (float files
  must hold integers), the same grid in both files. A class in neither map is not reported by
  default (listed with --classes: nan). Both empty: nan; one empty: HD and ASD inf (HD with a
  percentile nan, as MONAI), NSD 0, Dice 0.
`;

/** The flags of the segmentation mode (parsed by eval.ts with the rest of eval's flags). */
export interface SegmentationFlags {
  pred: string;
  target: string;
  percentile?: string;
  tolerance?: string;
  spacing?: string;
  classes?: string;
  'include-background'?: boolean;
  asd?: string;
  quiet?: boolean;
  json?: boolean;
}

/** The flags that exist for this mode only: any of them selects it. */
export const SEGMENTATION_FLAGS = [
  'percentile',
  'tolerance',
  'spacing',
  'classes',
  'include-background',
  'asd',
  'quiet',
] as const;

export interface ClassRow {
  label: number;
  dice: number;
  hausdorff: number;
  asd: number;
  nsd: number;
  tolerance: number;
  predVoxels: number;
  targetVoxels: number;
  /** Edge voxels of each mask (MONAI's surfaces). */
  predSurface: number;
  targetSurface: number;
}

/** Writes the phases of a run to stderr: one line rewritten in place on a terminal, else one line per phase. */
function progressLine(quiet: boolean): { update(text: string): void; done(): void } {
  const start = performance.now();
  const tty = process.stderr.isTTY === true;
  const stamp = () => `${((performance.now() - start) / 1000).toFixed(1)} s`;
  return {
    update(text) {
      if (quiet) return;
      const line = `wgsl-dice eval: ${text} (${stamp()})`;
      process.stderr.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
    },
    done() {
      if (!quiet && tty) process.stderr.write('\r\x1b[K');
    },
  };
}

export async function runSegmentationEval(flags: SegmentationFlags): Promise<number> {
  const settings = parseSettings(flags);
  const progress = progressLine(flags.quiet === true);
  const started = performance.now();
  progress.update(`reading pred ${flags.pred}`);
  const pred = readLabelVolume(flags.pred, 'pred');
  progress.update(`reading target ${flags.target}`);
  const target = readLabelVolume(flags.target, 'target');
  progress.update('counting labels');
  const stats = countLabels(pred, target);
  const spacing = resolveSpacing(settings.spacing, pred, target);
  const labels = settings.classes ?? presentLabels(stats, settings.includeBackground);
  const tolerance = perClass(settings.tolerance, labels.length);
  const read = performance.now();

  let device = '';
  const rows = await withEngine(async (engine, gpu) => {
    const adapter = describeAdapter(gpu);
    device = adapter.description || adapter.device || adapter.vendor || 'unknown adapter';
    const out: ClassRow[] = [];
    for (const [i, label] of labels.entries()) {
      progress.update(`class ${label} (${i + 1} of ${labels.length}) on ${device}`);
      out.push(await classMetrics(engine, pred, target, stats, label, tolerance[i], spacing.values, settings));
    }
    return out;
  });
  const finished = performance.now();
  progress.done();

  const hd = settings.percentile === null ? 'hd' : `hd${settings.percentile}`;
  const report = {
    pred: describeVolume(pred),
    target: describeVolume(target),
    spacing: { values: fileOrder(pred, spacing.values), unit: spacing.unit, source: spacing.source },
    percentile: settings.percentile,
    asd: settings.symmetric ? 'symmetric' : 'pred-to-target',
    device,
    classes: rows,
    mean: meanRow(rows),
    seconds: { read: (read - started) / 1000, gpu: (finished - read) / 1000, total: (finished - started) / 1000 },
  };
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(report, (_, v) => (typeof v === 'number' ? finiteOrText(v) : v), 2)}\n`);
    return 0;
  }
  const spacingText = `${report.spacing.values.map((s) => formatNumber(s)).join(' x ')} ${spacing.unit}`;
  const lines = [
    `pred    ${pred.path}  ${pred.format} ${pred.dtype} ${formatShape(pred.dims)}`,
    `target  ${target.path}  ${target.format} ${target.dtype} ${formatShape(target.dims)}`,
    `spacing ${spacingText} (${spacing.source})`,
    `metrics ${hd}: Hausdorff ${settings.percentile === null ? 'maximum' : `${settings.percentile}th percentile`}, both ` +
      `directions; asd: ${report.asd}; nsd at the tolerance shown (${spacing.unit}); MONAI's conventions`,
    `device  ${device}  ${report.seconds.total.toFixed(2)} s (reading and counting ${report.seconds.read.toFixed(2)} s, ` +
      `surface metrics ${report.seconds.gpu.toFixed(2)} s)`,
    '',
    formatTable(
      ['class', 'dice', hd, 'asd', 'nsd', 'tolerance', 'pred voxels', 'target voxels'],
      [...rows, { ...report.mean, label: 'mean' as const }].map((r) => [
        String(r.label),
        formatNumber(r.dice),
        formatNumber(r.hausdorff),
        formatNumber(r.asd),
        formatNumber(r.nsd),
        r.label === 'mean' ? '' : formatNumber(r.tolerance),
        r.label === 'mean' ? '' : String(r.predVoxels),
        r.label === 'mean' ? '' : String(r.targetVoxels),
      ]),
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

interface Settings {
  /** null: the maximum (MONAI's percentile None; 0 and 100 give it too). */
  percentile: number | null;
  tolerance: number[];
  spacing: number[] | null;
  classes: number[] | null;
  includeBackground: boolean;
  symmetric: boolean;
}

function parseSettings(flags: SegmentationFlags): Settings {
  const percentile = flags.percentile === undefined ? 95 : parseNumber('eval', 'percentile', flags.percentile);
  if (percentile < 0 || percentile > 100) {
    throw usageError('eval', `--percentile must be from 0 to 100, got ${flags.percentile}.`);
  }
  const tolerance = flags.tolerance === undefined ? [1] : parseNumberList('eval', 'tolerance', flags.tolerance);
  if (tolerance.some((t) => t < 0)) throw usageError('eval', `--tolerance must be >= 0, got ${flags.tolerance}.`);
  const spacing = flags.spacing === undefined ? null : parseNumberList('eval', 'spacing', flags.spacing);
  if (spacing?.some((s) => !(s > 0))) throw usageError('eval', `--spacing must be positive, got ${flags.spacing}.`);
  const asd = flags.asd ?? 'symmetric';
  if (asd !== 'symmetric' && asd !== 'pred-to-target') {
    throw usageError('eval', `--asd must be symmetric or pred-to-target, got ${JSON.stringify(asd)}.`);
  }
  return {
    // MONAI: percentile 0 is "no percentile"; the 100th is the maximum too (the same value).
    percentile: percentile === 0 ? null : percentile,
    tolerance,
    spacing,
    classes: flags.classes === undefined ? null : parseClasses(flags.classes),
    includeBackground: flags['include-background'] === true,
    symmetric: asd === 'symmetric',
  };
}

/** `1,2,5-7` as [1, 2, 5, 6, 7]. */
function parseClasses(text: string): number[] {
  const out: number[] = [];
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    const from = m ? Number(m[1]) : NaN;
    const to = m?.[2] !== undefined ? Number(m[2]) : from;
    if (!m || to < from || to > MAX_LABEL) {
      throw usageError(
        'eval',
        `--classes takes labels and ranges such as 1,2,5-7 (labels 0 to ${MAX_LABEL}), got ${JSON.stringify(text)}.`,
      );
    }
    for (let label = from; label <= to; label++) if (!out.includes(label)) out.push(label);
  }
  return out;
}

function presentLabels(stats: LabelStats, includeBackground: boolean): number[] {
  const out: number[] = [];
  for (let label = includeBackground ? 0 : 1; label < stats.labels; label++) {
    if (stats.predVoxels[label] + stats.targetVoxels[label] > 0) out.push(label);
  }
  if (out.length === 0) {
    throw new CliError('neither label map holds a label other than 0: nothing to evaluate (see --include-background).');
  }
  return out;
}

function perClass(tolerance: number[], classes: number): number[] {
  if (tolerance.length === 1) return new Array<number>(classes).fill(tolerance[0]);
  if (tolerance.length !== classes) {
    throw usageError(
      'eval',
      `--tolerance has ${tolerance.length} values for ${classes} classes reported; give one, or one per class.`,
    );
  }
  return tolerance;
}

/** The spacing per axis of the row-major shape, its unit and where it came from. */
function resolveSpacing(
  given: number[] | null,
  pred: LabelVolume,
  target: LabelVolume,
): { values: number[]; unit: string; source: string } {
  const rank = target.shape.length;
  if (given !== null) {
    if (given.length !== 1 && given.length !== rank) {
      throw usageError('eval', `--spacing has ${given.length} values for ${rank} axes; give one, or one per axis.`);
    }
    const values = given.length === 1 ? new Array<number>(rank).fill(given[0]) : given;
    // Given in the file's axis order (NIfTI: i, j, k), used in the row-major order.
    const unit = target.spacing || pred.spacing ? 'mm' : 'voxels';
    return { values: target.format === 'npy' ? values : [...values].reverse(), unit, source: '--spacing' };
  }
  const header = target.spacing ?? pred.spacing;
  if (header === null) return { values: new Array<number>(rank).fill(1), unit: 'voxels', source: 'none given: 1' };
  const from = target.spacing ? target : pred;
  const other = from === target ? pred : target;
  if (other.spacing && other.spacing.some((s, i) => Math.abs(s - header[i]) > 1e-4 * header[i])) {
    process.stderr.write(
      `wgsl-dice eval: note: pred and target headers give different voxel sizes ` +
        `(${fileOrder(pred, pred.spacing!).join(', ')} and ${fileOrder(target, target.spacing!).join(', ')} mm); ` +
        `the ${from === target ? 'target' : 'pred'}'s are used.\n`,
    );
  }
  const unitNote = from.unit === 'unknown' ? ', unit not set: taken as mm' : from.unit === 'mm' ? '' : `, ${from.unit}`;
  return {
    values: header,
    unit: 'mm',
    source: `${from === target ? 'target' : 'pred'} header pixdim${unitNote}`,
  };
}

/** Per-axis values of the row-major shape in the file's axis order (NIfTI: reversed). */
function fileOrder(volume: LabelVolume, values: number[]): number[] {
  return volume.format === 'npy' ? [...values] : [...values].reverse();
}

async function classMetrics(
  engine: DiceEngine,
  pred: LabelVolume,
  target: LabelVolume,
  stats: LabelStats,
  label: number,
  tolerance: number,
  spacing: number[],
  settings: Settings,
): Promise<ClassRow> {
  const inRange = label < stats.labels;
  const predVoxels = inRange ? stats.predVoxels[label] : 0;
  const targetVoxels = inRange ? stats.targetVoxels[label] : 0;
  const total = predVoxels + targetVoxels;
  const row: ClassRow = {
    label,
    dice: total > 0 ? (2 * stats.intersection[label]) / total : NaN,
    hausdorff: NaN,
    asd: NaN,
    nsd: NaN,
    tolerance,
    predVoxels,
    targetVoxels,
    predSurface: 0,
    targetSurface: 0,
  };
  const crop = classCrop(stats, label);
  if (crop === null || total === 0) return row; // in neither map: every metric nan, as MONAI
  const rank = pred.shape.length;
  const spatial = crop.size.slice(3 - rank);
  const masks = cropMasks(pred, target, stats, label, crop);
  const metrics = await engine.surfaceMetrics({
    // One sample, two labels (0 outside the class, 1 inside): class 1 is reported.
    shape: [1, ...spatial, 2],
    target: 'u8',
    metrics: ['hausdorff', 'asd', 'nsd'],
    percentile: settings.percentile,
    symmetric: settings.symmetric,
    tolerance,
    includeBackground: false,
    spacing,
    label: `wgsl-dice eval class ${label}`,
  });
  try {
    const r = await metrics.compute(masks.pred, masks.target);
    return {
      ...row,
      hausdorff: r.hausdorff![0],
      asd: r.averageSurfaceDistance![0],
      nsd: r.surfaceDice![0],
      predSurface: r.predSurface[0],
      targetSurface: r.targetSurface[0],
    };
  } finally {
    metrics.destroy();
  }
}

/** The mean over classes of each metric, NaN skipped (MONAI's aggregate): infinities stay. */
function meanRow(rows: ClassRow[]): { dice: number; hausdorff: number; asd: number; nsd: number } {
  const mean = (pick: (r: ClassRow) => number) => {
    const values = rows.map(pick).filter((v) => !Number.isNaN(v));
    return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;
  };
  return {
    dice: mean((r) => r.dice),
    hausdorff: mean((r) => r.hausdorff),
    asd: mean((r) => r.asd),
    nsd: mean((r) => r.nsd),
  };
}

function describeVolume(v: LabelVolume) {
  return {
    path: v.path,
    format: v.format,
    dtype: v.dtype,
    dims: v.dims,
    spacing: v.spacing ? fileOrder(v, v.spacing) : null,
    unit: v.unit,
  };
}

function finiteOrText(v: number): number | string {
  return Number.isNaN(v) ? 'nan' : v === Infinity ? 'inf' : v === -Infinity ? '-inf' : v;
}

function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  return String(Number(v.toPrecision(5)));
}
