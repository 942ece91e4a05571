/**
 * `npm run kernel-stats`: registers, scratch, workgroup memory, occupancy and instruction counts
 * of every pass of every bench case, compiled by a real GPU compiler (Mesa RADV/ACO for AMD
 * RDNA) without a GPU. See bench/kernel-stats/index.ts for how.
 */
import { parseArgs } from 'node:util';
import type { DeviceClass } from '../src/index.js';
import { capture } from './kernel-stats/capture.js';
import { DEFAULT_FAMILIES, kernelStats } from './kernel-stats/index.js';
import { formatMarkdown, formatText } from './kernel-stats/table.js';
import { kernelStatsTargets } from './kernel-stats/targets.js';

const HELP = `Usage: npm run kernel-stats -- [options]

Plans every bench case (bench/cases.ts, clDice of bench:cldice, and Wasserstein Dice) for GPUs,
creates each pass's pipeline on a dawn.node device that dumps its SPIR-V, and compiles it with
Mesa's RADV driver for AMD GPUs on RADV's null device (no GPU needed). Prints, per GPU family,
one line per pass: VGPRs, SGPRs, spilled registers, scratch and LDS bytes, subgroups (waves) per
SIMD, instructions; flags scratch > 0 and fewer than 16 subgroups per SIMD.

Needs gcc, libvulkan-dev, spirv-tools and mesa-vulkan-drivers: installed with apt when run as
root on Debian/Ubuntu, else the error says what to install.

Options:
  --family F[,F...]   RADV family names (default ${DEFAULT_FAMILIES.join(',')}: RDNA3, RDNA2;
                      also navi10, navi22, navi33, ... as RADV_FORCE_FAMILY spells them)
  --case SUBSTRING    only the cases whose name contains SUBSTRING (e.g. softmax-u8, cl-dice)
  --software          the plans for software adapters (lavapipe) instead of GPU plans
  --max-classes N     only shapes with at most N classes
  --json              a JSON array on stdout, one row object a line (family, case, shape, pass,
                      kernel, constants, figures, flags, every RADV statistic)
  --markdown          Markdown tables (for bench/RESULTS.md) instead of the text table
  --keep              keep the work directory (SPIR-V of each pipeline, the kstats binary) and
                      print its path: RADV_DEBUG=shaders RADV_FORCE_FAMILY=navi31 DIR/kstats
                      DIR/pipeline-N.spv prints that pipeline's ISA
  -h, --help          this text

Use \`npm run --silent kernel-stats -- --json\` to keep npm's own lines out of stdout.
`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      family: { type: 'string' },
      case: { type: 'string' },
      software: { type: 'boolean', default: false },
      'max-classes': { type: 'string' },
      json: { type: 'boolean', default: false },
      markdown: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      // The capture process (bench/kernel-stats/capture.ts), started by kernelStats().
      capture: { type: 'boolean', default: false },
      'device-class': { type: 'string' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  if (values.capture) {
    await capture(kernelStatsTargets(values.case), values['device-class'] as DeviceClass);
    return;
  }
  const maxClasses = values['max-classes'] === undefined ? Infinity : Number(values['max-classes']);
  if (!(maxClasses >= 1)) throw new Error(`--max-classes takes a positive number, got ${values['max-classes']}`);
  if (values.json && values.markdown) throw new Error('--json and --markdown: choose one output');
  if (values.case !== undefined && kernelStatsTargets(values.case).length === 0) {
    const names = [...new Set(kernelStatsTargets().map((t) => t.case))];
    throw new Error(`no case name contains '${values.case}'; the cases: ${names.join(', ')}`);
  }
  const families =
    values.family
      ?.split(',')
      .map((f) => f.trim())
      .filter(Boolean) ?? DEFAULT_FAMILIES;

  const started = performance.now();
  const rows = (
    await kernelStats({
      families,
      deviceClass: values.software ? 'software' : 'gpu',
      only: values.case,
      keep: values.keep,
    })
  ).filter((row) => row.classes <= maxClasses);
  console.error(`kernel-stats: ${rows.length} rows in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  if (values.json) process.stdout.write(`[\n${rows.map((row) => JSON.stringify(row)).join(',\n')}\n]\n`);
  else process.stdout.write(`${values.markdown ? formatMarkdown(rows) : formatText(rows)}\n`);
  if (rows.some((row) => row.error)) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`\nkernel-stats failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
