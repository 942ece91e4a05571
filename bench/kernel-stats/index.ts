/**
 * Kernel statistics of every pass of every bench case, as a real GPU compiler sees them, with
 * no GPU: Mesa's RADV driver (AMD RDNA, the ACO compiler) compiling on its null device.
 *
 *   1. A capture process (capture.ts) creates the losses, planned for a device class, on a
 *      dawn.node device that dumps each pipeline's SPIR-V, and names each pass's pipeline.
 *   2. spirv-as assembles each distinct pipeline; kstats (scripts/kernel-stats/kstats.c)
 *      compiles them once per GPU family and prints RADV's statistics.
 *   3. One row per (family, case, shape, pass).
 *
 * `npm run kernel-stats` (bench/kernel-stats.ts) prints the rows; the bench can attach them to
 * its own rows (see rowsFor).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DeviceClass } from '../../src/index.js';
import {
  assemblerInput,
  parseCapture,
  type CapturedPipeline,
  type PassMarker,
  type PipelineConstants,
} from './capture-format.js';
import { parseKstatsOutput, type KernelStats, type KstatsOutput } from './radv-stats.js';
import { assemble, buildKstats, compileForFamily, ensureTools } from './toolchain.js';

/** RDNA3 and RDNA2, as RADV_FORCE_FAMILY names them. */
export const DEFAULT_FAMILIES = ['navi31', 'navi21'] as const;

/** The issue 18 targets for GPU plans: no scratch, and at least this many subgroups per SIMD. */
export const MIN_SUBGROUPS_PER_SIMD = 16;

export interface KernelStatsOptions {
  /** RADV family names (navi31, navi21, navi10, ...); default RDNA3 and RDNA2. */
  families?: readonly string[];
  /** Plans for this device class on any adapter; default 'gpu'. */
  deviceClass?: DeviceClass;
  /** Only the cases whose name contains this. */
  only?: string;
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
  /**
   * Keep the work directory (the captured SPIR-V, `pipeline-N.spv` and the kstats binary) and
   * log its path, to read a pipeline's ISA: `RADV_DEBUG=shaders RADV_FORCE_FAMILY=navi31 DIR/kstats DIR/pipeline-N.spv`.
   */
  keep?: boolean;
}

/** One pass of one case at one shape, compiled for one GPU family. Field names as in bench JSON. */
export interface KernelStatsRow extends Partial<Omit<KernelStats, 'radv'>> {
  /** YYYY-MM-DD. */
  date: string;
  family: string;
  /** The device RADV compiled for, e.g. 'Null hardware (RADV NAVI31)'. */
  gpu: string;
  driver: string;
  device_class: string;
  /** The adapter the plans and pipelines were made on, and its smallest subgroup. */
  capture_adapter: string;
  case: string;
  shape: number[];
  classes: number;
  pass: string;
  direction: 'forward' | 'backward';
  kernel: string;
  /** The pipeline's `override` constants, WORKGROUP_SIZE included. */
  constants: PipelineConstants;
  /** 'scratch' (scratch_bytes > 0) and 'occupancy' (fewer than MIN_SUBGROUPS_PER_SIMD subgroups per SIMD). */
  flags: string[];
  /** Why there are no statistics (the pipeline did not assemble or compile). */
  error?: string;
  /** Every statistic RADV reported. */
  radv?: Readonly<Record<string, number | string>>;
}

/** The rows of one case at one shape (what a bench row of that case can carry). */
export function rowsFor(rows: readonly KernelStatsRow[], caseName: string, shape: readonly number[]): KernelStatsRow[] {
  return rows.filter((row) => row.case === caseName && row.shape.join('x') === shape.join('x'));
}

export function flagsOf(stats: Pick<KernelStats, 'scratch_bytes' | 'subgroups_per_simd'>): string[] {
  return [
    ...(stats.scratch_bytes > 0 ? ['scratch'] : []),
    ...(stats.subgroups_per_simd < MIN_SUBGROUPS_PER_SIMD ? ['occupancy'] : []),
  ];
}

/**
 * The capture process is this bundle's sibling in dist/ (bench/kernel-stats.ts built), run
 * with --capture; from another bundle in dist/ (the bench) the path is the same.
 */
const CAPTURE_PROGRAM = fileURLToPath(new URL('./bench-kernel-stats.js', import.meta.url));
const KSTATS_SOURCE = fileURLToPath(new URL('../scripts/kernel-stats/kstats.c', import.meta.url));

/** Runs the capture process with its stdout in `outputPath`; rejects with its stderr when it fails. */
async function runCapture(outputPath: string, deviceClass: DeviceClass, only: string | undefined): Promise<void> {
  const args = [
    CAPTURE_PROGRAM,
    '--capture',
    '--device-class',
    deviceClass,
    ...(only === undefined ? [] : ['--case', only]),
  ];
  // A file, not a pipe: the dumps run to tens of megabytes, which a file takes as fast as Dawn
  // writes them, with nothing for this process to drain meanwhile.
  const out = openSync(outputPath, 'w');
  try {
    const child = spawn(process.execPath, args, { stdio: ['ignore', out, 'pipe'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const status = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', resolve);
    });
    if (status !== 0)
      throw new Error(`the kernel-stats capture process failed (exit status ${status}):\n${stderr.trim()}`);
  } finally {
    closeSync(out);
  }
}

/**
 * Assembles each distinct module once (many cases share pipelines) into `work`. A module that
 * does not assemble gets an error in its rows instead of stopping the run.
 */
function assembleDistinct(pipelines: ReadonlyMap<number, CapturedPipeline>, work: string) {
  const binaryOf = new Map<number, string>();
  const byText = new Map<string, string>();
  const assemblyErrors = new Map<number, string>();
  for (const pipeline of pipelines.values()) {
    const text = assemblerInput(pipeline.spirv);
    let binary = byText.get(text);
    if (!binary) {
      binary = join(work, `pipeline-${pipeline.id}.spv`);
      const source = join(work, `pipeline-${pipeline.id}.spvasm`);
      writeFileSync(source, text);
      try {
        assemble(source, text, binary);
      } catch (error) {
        assemblyErrors.set(pipeline.id, (error as Error).message.split('\n').slice(0, 2).join(' '));
        continue;
      }
      byText.set(text, binary);
    }
    binaryOf.set(pipeline.id, binary);
  }
  return { binaryOf, binaries: [...byText.values()], assemblyErrors };
}

/**
 * Every pass of every target (or of the cases whose name contains `only`), compiled for each
 * family: the rows, in the bench's case order. Installs the tools it needs first (ensureTools).
 */
export async function kernelStats(options: KernelStatsOptions = {}): Promise<KernelStatsRow[]> {
  const families = options.families ?? DEFAULT_FAMILIES;
  const deviceClass = options.deviceClass ?? 'gpu';
  const log = options.log ?? ((line: string) => console.error(line));
  ensureTools();
  const work = mkdtempSync(join(tmpdir(), 'wgsl-dice-kernel-stats-'));
  try {
    log(`kernel-stats: creating the pipelines (${deviceClass} plans) on a dumping dawn.node device`);
    const capturePath = join(work, 'capture.txt');
    await runCapture(capturePath, deviceClass, options.only);
    const { adapter, pipelines, passes } = parseCapture(readFileSync(capturePath, 'utf8'));
    if (passes.length === 0) throw new Error(`no case name contains ${JSON.stringify(options.only)}`);

    const { binaryOf, binaries, assemblyErrors } = assembleDistinct(pipelines, work);
    if (binaries.length === 0)
      throw new Error(`kernel-stats: no pipeline assembled; the first error: ${[...assemblyErrors.values()][0]}`);
    const kstats = join(work, 'kstats');
    buildKstats(KSTATS_SOURCE, kstats);
    log(
      `kernel-stats: ${passes.length} passes, ${binaries.length} distinct pipelines; compiling for ${families.join(', ')} with RADV`,
    );

    const date = new Date().toISOString().slice(0, 10);
    const captureAdapter = adapter
      ? `${adapter.description}${adapter.subgroupMinSize ? `, subgroups of ${adapter.subgroupMinSize}+` : ', no subgroups'}`
      : 'unknown adapter';
    const rows: KernelStatsRow[] = [];
    for (const family of families) {
      const output = parseKstatsOutput(compileForFamily(kstats, family, binaries));
      for (const pass of passes)
        rows.push(
          rowOf(
            pass,
            { date, family, captureAdapter, output },
            binaryOf,
            assemblyErrors,
            pipelines.get(pass.pipeline)!.constants,
          ),
        );
    }
    return rows;
  } finally {
    if (options.keep) log(`kernel-stats: kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

function rowOf(
  pass: PassMarker,
  run: { date: string; family: string; captureAdapter: string; output: KstatsOutput },
  binaryOf: ReadonlyMap<number, string>,
  assemblyErrors: ReadonlyMap<number, string>,
  constants: PipelineConstants,
): KernelStatsRow {
  const { event: _event, pipeline, deviceClass, shape, ...where } = pass;
  const { date, family, captureAdapter, output } = run;
  const base = {
    date,
    family,
    gpu: output.device,
    driver: output.driver,
    device_class: deviceClass,
    capture_adapter: captureAdapter,
    ...where,
    shape: [...shape],
    constants,
  };
  const binary = binaryOf.get(pipeline);
  const stats = binary === undefined ? undefined : output.files.get(binary);
  if (!stats || 'error' in stats) {
    const error = stats?.error ?? assemblyErrors.get(pipeline) ?? 'kstats printed nothing for this pipeline';
    return { ...base, flags: ['error'], error };
  }
  const { radv, ...figures } = stats;
  return { ...base, ...figures, flags: flagsOf(stats), radv };
}
