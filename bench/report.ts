/**
 * Benchmark output: one record per measurement (printed as a JSON line with --json) and the
 * human-readable table with the ratios the issue asks about.
 */

import type { PlanChoice } from '../src/index.js';

export type Impl =
  | 'wgsl-dice'
  | 'copy'
  | 'tfjs-webgpu'
  | 'reference-cpu'
  | 'wgsl-dice-encode-cpu'
  | 'wgsl-dice/tfjs'
  // The surface rows (bench/surface.ts): MONAI's functions through engine.presets.monai, and MONAI's CPU path.
  | 'wgsl-dice-presets'
  | 'monai-cpu';
export const IMPLS: readonly Impl[] = [
  'wgsl-dice',
  'copy',
  'tfjs-webgpu',
  'reference-cpu',
  'wgsl-dice-encode-cpu',
  'wgsl-dice/tfjs',
];

export interface Row {
  /** Adapter description from describeAdapter (e.g. "llvmpipe (LLVM 19.1.7, 256 bits)"). */
  device: string;
  /** A loss case name (cases.ts), or the copy variant for impl 'copy'. */
  case: string;
  impl: Impl;
  /** 'fwd' | 'fwd+bwd' for losses, 'copy' for the copy kernel. */
  mode: string;
  shape: number[];
  layout: string;
  dtype: string;
  elements: number;
  /** Minimum bytes moved (formula in cases.ts lossBytes / copy.ts copyBytes); null for host-only rows. */
  bytes: number | null;
  ms_median: number | null;
  ms_min: number | null;
  /** bytes / ms_median, in GB/s (1e9 bytes). */
  gbps: number | null;
  /** gbps as a percentage of the best copy GB/s at the same shape on the same device. */
  pct_of_copy: number | null;
  timing: string;
  reps: number;
  /** 'pass', 'is-reference', or 'FAIL: ...' (then no time is reported). */
  check: string;
  /** Wall clock of the same GPU runs (submit to onSubmittedWorkDone), for comparison. */
  wall_ms_median?: number;
  /** Workgroups the copy dispatched (the fastest of the candidates tried). */
  workgroups?: number;
  /** wgsl-dice: the WGSL kernels recorded, and the workgroups its planner chose. */
  kernels?: string;
  grid?: string;
  note?: string;
  /** unet-step rows: the loss's share of the training step, from the stand-in step (tfjs-integration.ts). */
  loss_share_pct?: number;
  /** GPU suite: the plan measured ('default', or 'tuned' by engine.tune() in the same run). */
  plan?: 'default' | 'tuned';
  /** GPU suite, mode 'tune': the choice engine.tune() kept (PlanChoice knobs). */
  choice?: PlanChoice;
  /** GPU suite, mode 'tune': the shape class and every candidate's median time. */
  tune?: { shapeClass: string; defaultMs: number; timings: readonly { plan: string; ms: number }[] };
  /** GPU suite, default plans: the passes as RADV compiles them (npm run kernel-stats). */
  kernel_stats?: readonly object[];
  date: string;
}

/** A row with nothing measured yet: the fields given over no bytes, no time, 'pass'. */
export function newRow(
  fields: Pick<Row, 'device' | 'case' | 'impl' | 'mode' | 'shape' | 'elements' | 'date'> & Partial<Row>,
): Row {
  return {
    layout: 'channels-last',
    dtype: 'f32',
    bytes: null,
    ms_median: null,
    ms_min: null,
    gbps: null,
    pct_of_copy: null,
    timing: '',
    reps: 0,
    check: 'pass',
    ...fields,
  };
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));

/** Fills gbps and pct_of_copy from bytes, ms_median and the copy ceiling. */
export function withRates(row: Row, copyGbps: number | undefined): Row {
  if (row.bytes === null || row.ms_median === null || row.ms_median <= 0) return row;
  const gbps = row.bytes / (row.ms_median * 1e-3) / 1e9;
  return {
    ...row,
    gbps: round(gbps, 3),
    pct_of_copy: copyGbps ? round((100 * gbps) / copyGbps, 1) : null,
  };
}

export function jsonLine(row: Row): string {
  const tidy = {
    ...row,
    ms_median: row.ms_median === null ? null : round(row.ms_median, 4),
    ms_min: row.ms_min === null ? null : round(row.ms_min, 4),
    wall_ms_median: row.wall_ms_median === undefined ? undefined : round(row.wall_ms_median, 4),
  };
  return JSON.stringify(tidy);
}

const TIMING_SHORT: Record<string, string> = {
  'timestamp-query': 'gpu-ts',
  'wall-clock(submit+onSubmittedWorkDone)': 'wall-gpu',
  'wall-clock(op+await data())': 'wall-op',
  'wall-clock(host)': 'wall-host',
  'host performance.now() around encode()': 'host-enc',
  'wall-clock(tf.valueAndGrad+await)': 'wall-tfjs',
  'wall-clock(training step+await)': 'wall-step',
};

/** Implementations whose rows get a tfjs/this ratio against tfjs-webgpu's row of the same case, shape and mode. */
const RATIO_IMPLS: readonly Impl[] = ['wgsl-dice', 'wgsl-dice/tfjs'];

function formatMs(ms: number | null): string {
  if (ms === null) return '-';
  if (ms >= 100) return ms.toFixed(1);
  if (ms >= 1) return ms.toFixed(3);
  return ms.toFixed(4);
}

const shapeKey = (row: Row) => row.shape.join('x');

export interface Speedup {
  impl: Impl;
  case: string;
  shape: string;
  mode: string;
  tfjsMs: number;
  wgslMs: number;
  wgslWallMs: number | undefined;
  /** tfjs wall-clock median / wgsl-dice GPU-time median. */
  ratio: number;
  /** tfjs wall-clock median / wgsl-dice wall-clock median (both awaited the same way). */
  wallRatio: number | undefined;
}

/** wgsl-dice against tfjs-webgpu for each case, shape and mode measured by both. */
export function speedups(rows: readonly Row[]): Speedup[] {
  const out: Speedup[] = [];
  for (const row of rows) {
    if (!RATIO_IMPLS.includes(row.impl) || row.ms_median === null) continue;
    const tfjs = rows.find(
      (r) => r.impl === 'tfjs-webgpu' && r.case === row.case && r.mode === row.mode && shapeKey(r) === shapeKey(row),
    );
    if (!tfjs || tfjs.ms_median === null) continue;
    out.push({
      impl: row.impl,
      case: row.case,
      shape: shapeKey(row),
      mode: row.mode,
      tfjsMs: tfjs.ms_median,
      wgslMs: row.ms_median,
      wgslWallMs: row.wall_ms_median,
      ratio: tfjs.ms_median / row.ms_median,
      wallRatio: row.wall_ms_median ? tfjs.ms_median / row.wall_ms_median : undefined,
    });
  }
  return out;
}

export function formatSpeedups(list: readonly Speedup[]): string {
  if (list.length === 0) return '';
  const lines = [
    'wgsl-dice vs tfjs-webgpu (tfjs median wall clock / wgsl-dice median; GPU time, and wall clock awaited like tfjs):',
  ];
  for (const s of list) {
    const wall = s.wallRatio === undefined ? '' : `  wall ${s.wallRatio.toFixed(1)}x (${s.wgslWallMs!.toFixed(2)} ms)`;
    lines.push(
      `  ${s.impl.padEnd(14)} ${s.case.padEnd(16)} ${s.shape.padEnd(14)} ${s.mode.padEnd(9)} ` +
        `${s.ratio.toFixed(1).padStart(6)}x  (tfjs ${s.tfjsMs.toFixed(1)} ms, ${s.impl} ${s.wgslMs.toFixed(3)} ms)${wall}`,
    );
  }
  return lines.join('\n');
}

/** The whole report as text: header, one table, the tfjs ratios, a legend. */
export function formatTable(header: string[], rows: readonly Row[]): string {
  const ratioOf = new Map(speedups(rows).map((s) => [`${s.impl}|${s.case}|${s.shape}|${s.mode}`, s.ratio] as const));
  const columns = [
    'shape',
    'case',
    'mode',
    'impl',
    'ms median',
    'ms min',
    'wall ms',
    'GB/s',
    '% copy',
    'tfjs/this',
    'timing',
    'check',
  ];
  const body = rows.map((row) => {
    const ratio = ratioOf.get(`${row.impl}|${row.case}|${shapeKey(row)}|${row.mode}`);
    return [
      shapeKey(row),
      row.case,
      row.mode,
      row.plan === 'tuned' ? `${row.impl} tuned` : row.impl,
      formatMs(row.ms_median),
      formatMs(row.ms_min),
      row.wall_ms_median === undefined ? '' : formatMs(row.wall_ms_median),
      row.gbps === null ? '-' : row.gbps.toFixed(2),
      row.pct_of_copy === null ? '-' : `${row.pct_of_copy.toFixed(1)}%`,
      ratio === undefined ? '' : `${ratio.toFixed(1)}x`,
      TIMING_SHORT[row.timing] ?? row.timing,
      row.check.startsWith('FAIL') ? 'FAIL' : row.check,
    ];
  });
  const numeric = new Set([4, 5, 6, 7, 8, 9]);
  const widths = columns.map((title, c) => Math.max(title.length, ...body.map((cells) => cells[c].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (numeric.has(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
      .join('  ')
      .trimEnd();
  const lines = [...header, '', line(columns), line(widths.map((w) => '-'.repeat(w)))];
  let previousShape = '';
  for (let i = 0; i < body.length; i++) {
    if (previousShape && body[i][0] !== previousShape) lines.push('');
    previousShape = body[i][0];
    lines.push(line(body[i]));
  }
  const failures = rows.filter((row) => row.check.startsWith('FAIL'));
  for (const row of failures) {
    lines.push(`CHECK FAILED  ${row.impl} ${row.case} ${shapeKey(row)} ${row.mode}: ${row.check.slice(6)}`);
  }
  lines.push(
    '',
    'GB/s = minimum bytes moved / median time (fwd: read pred + target; fwd+bwd: + read target again + write grad,',
    '       loss-family cases (softmax-*, sigmoid-*) read pred again too; a u8 label map counts 1 byte a voxel;',
    '       copy: inputs read + output written). % copy = GB/s / best copy GB/s at the same shape, same device.',
    'wall ms = median wall clock of GPU runs, each submitted and awaited (submit..onSubmittedWorkDone), host polling.',
    'tfjs/this = tfjs-webgpu median / wgsl-dice (or wgsl-dice/tfjs) median (same case, shape, mode, run and adapter).',
    'tf.grad: the loss inside tfjs (tf.valueAndGrad w.r.t. yPred, loss data() and queue awaited, grad not read back);',
    '        wgsl-dice/tfjs = the wgsl-dice/tfjs op, tfjs-webgpu = the same loss in tfjs ops.',
    'unet-step: one SGD step of a U-Net-like model with that loss; loss share = (step - stand-in step) / step,',
    '        the stand-in being tf.mean(yPred) (in the JSON lines: loss_share_pct).',
    'timing: gpu-ts = timestamp queries bracketing the passes; wall-gpu = submit..onSubmittedWorkDone;',
    '        wall-tfjs = tf.grad rows; wall-step = unet-step rows;',
    '        wall-op = wall clock of the whole tfjs op incl. `await data()` of loss (and grad);',
    '        wall-host = CPU wall clock; host-enc = CPU time of one encode() (fwd+bwd), median of 1000 calls.',
  );
  return lines.join('\n');
}
