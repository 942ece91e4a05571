/**
 * kernel-stats rows as a text table (the terminal) or Markdown (bench/RESULTS.md): one table per
 * GPU family; shapes of a case that run the same pipelines share a line.
 */
import { MIN_SUBGROUPS_PER_SIMD, type KernelStatsRow } from './index.js';

const COLUMNS = [
  'case',
  'pass',
  'kernel',
  'VGPRs',
  'SGPRs',
  'spilled V/S',
  'scratch B',
  'LDS B',
  'waves/SIMD',
  'instrs',
  'flags',
  'shapes',
];
const NUMERIC = new Set(['VGPRs', 'SGPRs', 'spilled V/S', 'scratch B', 'LDS B', 'waves/SIMD', 'instrs']);

interface Line {
  row: KernelStatsRow;
  shapes: string[];
}

/** Rows of one family, merged across the shapes of a case that share every figure's pipeline. */
function mergeShapes(rows: readonly KernelStatsRow[]): Line[] {
  const lines = new Map<string, Line>();
  for (const row of rows) {
    const key = `${row.case}|${row.pass}|${row.kernel}|${JSON.stringify(row.constants)}`;
    const line = lines.get(key);
    if (line) line.shapes.push(row.shape.join('x'));
    else lines.set(key, { row, shapes: [row.shape.join('x')] });
  }
  return [...lines.values()];
}

function cells({ row, shapes }: Line): string[] {
  const figure = (value: number | undefined) => (value === undefined ? '-' : String(value));
  return [
    row.case,
    row.pass,
    row.kernel,
    figure(row.vgprs),
    figure(row.sgprs),
    row.error ? '-' : `${row.spilled_vgprs}/${row.spilled_sgprs}`,
    figure(row.scratch_bytes),
    figure(row.lds_bytes),
    figure(row.subgroups_per_simd),
    figure(row.instructions),
    row.error ? `error: ${row.error}` : row.flags.join(' '),
    shapes.join(' '),
  ];
}

function byFamily(rows: readonly KernelStatsRow[]): Map<string, KernelStatsRow[]> {
  const families = new Map<string, KernelStatsRow[]>();
  for (const row of rows) families.set(row.family, [...(families.get(row.family) ?? []), row]);
  return families;
}

function heading(rows: readonly KernelStatsRow[]): string {
  const waves = [...new Set(rows.flatMap((r) => (r.subgroup_size === undefined ? [] : [r.subgroup_size])))].join('/');
  const { gpu, driver, device_class, capture_adapter } = rows[0];
  return `${gpu}, ${driver}, compute waves of ${waves}; ${device_class} plans made on ${capture_adapter}`;
}

const LEGEND =
  `flags: scratch = per-thread memory in scratch (spills or arrays the compiler could not keep in registers); ` +
  `occupancy = fewer than ${MIN_SUBGROUPS_PER_SIMD} subgroups (waves) per SIMD. spilled V/S = spilled VGPRs/SGPRs. ` +
  `SGPRs: RADV reports 128 for every kernel on RDNA (a fixed allocation); the JSON's radv['Pre-Sched SGPRs'] is the demand.`;

/** Plain-text tables, columns aligned. */
export function formatText(rows: readonly KernelStatsRow[]): string {
  const out: string[] = [];
  for (const [family, familyRows] of byFamily(rows)) {
    const body = mergeShapes(familyRows).map(cells);
    const widths = COLUMNS.map((title, c) => Math.max(title.length, ...body.map((r) => r[c].length)));
    const line = (r: string[]) =>
      r
        .map((cell, c) => (NUMERIC.has(COLUMNS[c]) ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
        .join('  ')
        .trimEnd();
    out.push(`${family}: ${heading(familyRows)}`, '', line(COLUMNS), line(widths.map((w) => '-'.repeat(w))));
    let previous = '';
    for (const r of body) {
      if (previous && r[0] !== previous) out.push('');
      previous = r[0];
      out.push(line(r));
    }
    out.push('');
  }
  out.push(LEGEND);
  return out.join('\n');
}

/** Markdown tables (flagged figures in bold), for bench/RESULTS.md. */
export function formatMarkdown(rows: readonly KernelStatsRow[]): string {
  const out: string[] = [];
  for (const [family, familyRows] of byFamily(rows)) {
    out.push(`#### ${family}: ${heading(familyRows)}`, '');
    out.push(`| ${COLUMNS.join(' | ')} |`, `|${COLUMNS.map((c) => (NUMERIC.has(c) ? '---:' : '---')).join('|')}|`);
    for (const line of mergeShapes(familyRows)) {
      const r = cells(line);
      const bold = (column: string, flag: string) => {
        const c = COLUMNS.indexOf(column);
        if (line.row.flags.includes(flag)) r[c] = `**${r[c]}**`;
      };
      bold('scratch B', 'scratch');
      bold('waves/SIMD', 'occupancy');
      out.push(`| ${r.map((cell) => cell.replace(/\|/g, '\\|')).join(' | ')} |`);
    }
    out.push('');
  }
  out.push(LEGEND);
  return out.join('\n');
}
