// The NIfTI fixtures of `wgsl-dice eval`'s segmentation mode (test/fixtures/nifti/, written by
// nibabel: provenance in test/fixtures/README.md) and the check of its JSON report against the
// float64 reference: the label maps come from the .npy twins nibabel's script saved beside the
// .nii.gz files (read by the .npy reader that test/unit/npy.test.ts checks against NumPy), never
// from the NIfTI reader under test. Tolerances: Dice exact (counts), surface metrics
// |a - e| <= 1e-5 max(1, |e|) with NaN and infinities equal (the MONAI fixtures' tolerance).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseNpy } from '../../src/cli/npy.js';
import { labelMapSurfaceMetrics } from '../../src/reference/index.js';
import { expectMetricClose, fromJson } from './surface-cases.js';

export const NIFTI_FIXTURES = fileURLToPath(new URL('../fixtures/nifti', import.meta.url));

/** make.py's pixdim (i, j, k) = (0.9, 1.1, 2.0) mm, in the row-major order of the .npy twins (k, j, i). */
export const FIXTURE_SPACING = [2.0, 1.1, 0.9];

export interface LabelPair {
  pred: ArrayLike<number>;
  target: ArrayLike<number>;
  shape: number[];
}

export function fixtureLabelMaps(): LabelPair {
  const read = (name: string) => parseNpy(readFileSync(join(NIFTI_FIXTURES, name)));
  const pred = read('pred.npy');
  const target = read('target.npy');
  return { pred: pred.data, target: target.data, shape: pred.shape };
}

interface ReportRow {
  label: number;
  dice: number | string;
  hausdorff: number | string;
  asd: number | string;
  nsd: number | string;
  tolerance: number;
  predVoxels: number;
  targetVoxels: number;
}

/** What the command was asked for, as the reference takes it. */
export interface EvalSettings {
  labels: number[];
  spacing: number[];
  percentile: number | null;
  tolerance: number[];
  symmetric: boolean;
}

/** Fails unless every row of the report's `classes` is the float64 reference's (Dice from exact counts). */
export function expectReportMatchesReference(report: { classes: ReportRow[] }, maps: LabelPair, s: EvalSettings): void {
  const rows = report.classes;
  if (rows.map((r) => r.label).join() !== s.labels.join()) {
    throw new Error(`report classes [${rows.map((r) => r.label)}], expected [${s.labels}]`);
  }
  let top = 0;
  for (let i = 0; i < maps.pred.length; i++) top = Math.max(top, maps.pred[i], maps.target[i]);
  const labels = Math.max(top, ...s.labels) + 1;
  // Every label from 0 with tolerance 1 but the reported ones (the reference reports them all).
  const tolerance = Array.from({ length: labels }, (_, l) => {
    const at = s.labels.indexOf(l);
    return at < 0 ? 1 : s.tolerance[at];
  });
  const reference = labelMapSurfaceMetrics(maps.pred, maps.target, maps.shape, {
    labels,
    includeBackground: true,
    tolerance,
    percentile: s.percentile,
    spacing: s.spacing,
    symmetric: s.symmetric,
  });
  for (const row of rows) {
    const want = reference[row.label];
    let p = 0;
    let t = 0;
    let both = 0;
    for (let i = 0; i < maps.pred.length; i++) {
      const inP = maps.pred[i] === row.label;
      const inT = maps.target[i] === row.label;
      p += inP ? 1 : 0;
      t += inT ? 1 : 0;
      both += inP && inT ? 1 : 0;
    }
    const what = `class ${row.label}`;
    if (row.predVoxels !== p || row.targetVoxels !== t) {
      throw new Error(`${what}: voxels ${row.predVoxels} / ${row.targetVoxels}, counted ${p} / ${t}`);
    }
    const dice = p + t > 0 ? (2 * both) / (p + t) : NaN;
    expectMetricClose([fromJson(row.dice)], [dice], `${what} dice`);
    expectMetricClose(
      [row.hausdorff, row.asd, row.nsd].map(fromJson),
      [want.hausdorff, want.averageSurfaceDistance, want.surfaceDice],
      `${what} hd, asd, nsd`,
    );
  }
}
