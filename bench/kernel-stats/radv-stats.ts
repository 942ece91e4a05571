/**
 * Reads what scripts/kernel-stats/kstats.c prints: a `# device=...` line, then per SPIR-V file
 * one tab-separated line of `name=value` statistics as the driver names them (RADV's below),
 * or `error=...`. Pure text handling, tested in the unit tier on a vendored sample.
 */

/** The figures the table shows, from RADV's statistics of one compute pipeline (named as in the JSON rows). */
export interface KernelStats {
  readonly vgprs: number;
  readonly sgprs: number;
  readonly spilled_vgprs: number;
  readonly spilled_sgprs: number;
  /** Per-thread scratch memory (spilled registers, per-thread arrays the compiler could not keep in registers). */
  readonly scratch_bytes: number;
  /** Workgroup memory. */
  readonly lds_bytes: number;
  /** Occupancy: waves a SIMD can hold at once, limited by registers, LDS or the hardware. */
  readonly subgroups_per_simd: number;
  /** The wave size the driver compiled for (32 or 64 on RDNA). */
  readonly subgroup_size: number;
  readonly instructions: number;
  /** Every statistic the driver reported, by its own name. */
  readonly radv: Readonly<Record<string, number | string>>;
}

export interface KstatsOutput {
  /** The device the driver compiled for, e.g. 'Null hardware (RADV NAVI31)'. */
  readonly device: string;
  /** Driver name and version, e.g. 'radv Mesa 25.0.7-2~bpo12+1'. */
  readonly driver: string;
  /** Per file as given to kstats: its statistics, or why it did not compile. */
  readonly files: ReadonlyMap<string, KernelStats | { readonly error: string }>;
}

// The statistic behind each field: RADV's names (Mesa 25), and 'Subgroup size', which kstats
// adds from the pipeline executable's properties.
const FIELDS = {
  vgprs: 'VGPRs',
  sgprs: 'SGPRs',
  spilled_vgprs: 'Spilled VGPRs',
  spilled_sgprs: 'Spilled SGPRs',
  scratch_bytes: 'Scratch size',
  lds_bytes: 'LDS size',
  subgroups_per_simd: 'Subgroups per SIMD',
  subgroup_size: 'Subgroup size',
  instructions: 'Instructions',
} as const;

/** One line of kstats' output: the file and its `name=value` fields (values as numbers where a double holds them exactly). */
export function parseStatsLine(line: string): { file: string; fields: Record<string, number | string> } {
  const [file, ...cells] = line.replace(/\r$/, '').split('\t');
  const fields: Record<string, number | string> = {};
  for (const cell of cells) {
    const at = cell.indexOf('=');
    if (at <= 0) throw new Error(`kstats output: '${cell}' in the line for ${file} is not name=value`);
    const value = cell.slice(at + 1);
    const number = Number(value);
    // 64-bit hashes stay strings: a double would round them.
    const exact = /^-?\d+$/.test(value) ? Number.isSafeInteger(number) : /^-?\d+(\.\d+)?(e[-+]?\d+)?$/i.test(value);
    fields[cell.slice(0, at)] = exact ? number : value;
  }
  return { file, fields };
}

/** The table's figures from one line's fields; throws when the driver left one out. */
export function kernelStatsOf(fields: Readonly<Record<string, number | string>>, file = 'a kernel'): KernelStats {
  const picked = Object.fromEntries(
    Object.entries(FIELDS).map(([key, name]) => {
      const value = fields[name];
      if (typeof value !== 'number') {
        throw new Error(
          `kstats output: no numeric '${name}' statistic for ${file} (is the driver RADV? it reported: ${Object.keys(fields).join(', ')})`,
        );
      }
      return [key, value];
    }),
  ) as Omit<KernelStats, 'radv'>;
  return { ...picked, radv: { ...fields } };
}

export function parseKstatsOutput(text: string): KstatsOutput {
  let device = '';
  let driver = '';
  const files = new Map<string, KernelStats | { error: string }>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('# ')) {
      const { fields } = parseStatsLine(`#\t${line.slice(2)}`);
      device = String(fields.device ?? device);
      driver = String(fields.driver ?? driver);
      continue;
    }
    const { file, fields } = parseStatsLine(line);
    // A pipeline has one executable for a compute shader; the first is the one reported.
    if (files.has(file)) continue;
    files.set(file, typeof fields.error === 'string' ? { error: fields.error } : kernelStatsOf(fields, file));
  }
  return { device, driver, files };
}
