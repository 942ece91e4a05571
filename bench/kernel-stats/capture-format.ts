/**
 * What the capture process (capture.ts) prints, and how it is read back: pure text handling, no
 * GPU, so the unit tier tests it on vendored samples.
 *
 * Dawn's `dump_shaders` toggle prints each pipeline's SPIR-V (overrides applied) when the
 * pipeline is created, with nothing that names the pipeline. The capture process therefore
 * creates pipelines one at a time and prints a marker line before and after each; the SPIR-V
 * between a pair of markers is that pipeline's. After each loss it prints one marker per pass,
 * naming the pipeline the pass runs.
 */

/** Every marker line starts with this; the rest of the line is one JSON object. */
export const MARKER = '@@wgsl-dice-kernel-stats ';

/** The line Dawn prints (after an `info:` line) before a pipeline's SPIR-V assembly. */
const SPIRV_DUMP_HEADER = '/* Dumped SPIRV disassembly */';

export type PipelineConstants = Readonly<Record<string, number>>;

/** A compute pipeline the capture process created: its labels and its `override` constants. */
export interface PipelineMarker {
  readonly event: 'pipeline-begin';
  readonly id: number;
  readonly label: string;
  /** The shader module's label: the engine's label and the kernel's name. */
  readonly moduleLabel: string;
  readonly constants: PipelineConstants;
}

/** One pass of one loss, and the pipeline it runs. */
export interface PassMarker {
  readonly event: 'pass';
  /** The bench case, e.g. 'seed-global', 'softmax-u8', 'cldice'. */
  readonly case: string;
  /** The loss's shape in its own layout. */
  readonly shape: readonly number[];
  readonly classes: number;
  /** The plans' device class: 'gpu' or 'software'. */
  readonly deviceClass: string;
  /** The pass's name in the loss's program: 'reduce', 'forward', 'finalize', 'backward', ... */
  readonly pass: string;
  readonly direction: 'forward' | 'backward';
  readonly kernel: string;
  readonly pipeline: number;
}

/**
 * The adapter the losses were planned and their pipelines made on. Plans depend on it beyond
 * the device class: the classic losses' reduce kernel takes the subgroup variant when a class row fits
 * the adapter's smallest subgroup.
 */
export interface AdapterMarker {
  readonly event: 'adapter';
  readonly description: string;
  /** Absent when the device has no `subgroups` feature. */
  readonly subgroupMinSize?: number;
}

export type Marker =
  AdapterMarker | PipelineMarker | { readonly event: 'pipeline-end'; readonly id: number } | PassMarker;

export function markerLine(marker: Marker): string {
  return `${MARKER}${JSON.stringify(marker)}\n`;
}

/** A captured pipeline with its SPIR-V assembly as Dawn printed it. */
export interface CapturedPipeline extends Omit<PipelineMarker, 'event'> {
  readonly spirv: string;
  /** The earlier pipeline whose SPIR-V this one shares (Dawn returned its cached pipeline). */
  readonly sameAs?: number;
}

export interface Capture {
  readonly adapter?: Omit<AdapterMarker, 'event'>;
  readonly pipelines: ReadonlyMap<number, CapturedPipeline>;
  readonly passes: readonly PassMarker[];
}

/**
 * Reads what the capture process printed (Dawn's dumps interleaved with the markers). Throws,
 * saying what is wrong, when a pipeline has no end marker or more than one SPIR-V dump.
 *
 * A pipeline with no dump at all is one Dawn did not compile again: Dawn returns its cached
 * pipeline for a descriptor it has seen (same module source, constants and layout). Its SPIR-V
 * is that of the earlier pipeline with the same module label and constants; with none, it is an
 * error too.
 */
export function parseCapture(text: string): Capture {
  const lines = text.split('\n');
  const pipelines = new Map<number, CapturedPipeline>();
  const passes: PassMarker[] = [];
  let adapter: Omit<AdapterMarker, 'event'> | undefined;
  let open: { marker: PipelineMarker; dumps: string[] } | undefined;
  let sawAnyDump = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith(MARKER)) {
      const marker = JSON.parse(line.slice(MARKER.length)) as Marker;
      if (marker.event === 'adapter') {
        const { event: _event, ...described } = marker;
        adapter = described;
      } else if (marker.event === 'pipeline-begin') {
        if (open)
          throw new Error(`kernel-stats capture: pipeline ${open.marker.id} (${open.marker.label}) has no end marker`);
        open = { marker, dumps: [] };
      } else if (marker.event === 'pipeline-end') {
        if (!open || open.marker.id !== marker.id)
          throw new Error(`kernel-stats capture: end marker of pipeline ${marker.id} without its begin marker`);
        if (!sawAnyDump) {
          throw new Error(
            "kernel-stats capture: no SPIR-V in the output; Dawn prints it only on a device made with the 'dump_shaders' toggle " +
              "(requestNodeDevice({ dawnFlags: ['enable-dawn-features=dump_shaders,disable_symbol_renaming'] })).",
          );
        }
        pipelines.set(marker.id, resolvePipeline(open.marker, open.dumps, pipelines));
        open = undefined;
      } else {
        passes.push(marker);
      }
      continue;
    }
    if (line.trim() !== SPIRV_DUMP_HEADER) continue;
    sawAnyDump = true;
    const assembly: string[] = [];
    while (i + 1 < lines.length && isSpirvAssemblyLine(lines[i + 1])) assembly.push(lines[++i]);
    if (open) open.dumps.push(`${assembly.join('\n')}\n`);
  }
  if (open)
    throw new Error(
      `kernel-stats capture: pipeline ${open.marker.id} (${open.marker.label}) has no end marker (did the capture process stop early?)`,
    );
  for (const pass of passes) {
    if (!pipelines.has(pass.pipeline))
      throw new Error(
        `kernel-stats capture: ${pass.case} ${pass.pass} names pipeline ${pass.pipeline}, which was not captured`,
      );
  }
  return { adapter, pipelines, passes };
}

function resolvePipeline(
  marker: PipelineMarker,
  dumps: string[],
  earlier: ReadonlyMap<number, CapturedPipeline>,
): CapturedPipeline {
  const { event: _event, ...pipeline } = marker;
  if (dumps.length === 1) return { ...pipeline, spirv: dumps[0] };
  if (dumps.length > 1) {
    throw new Error(
      `kernel-stats capture: ${dumps.length} SPIR-V dumps while pipeline ${marker.id} (${marker.label}) was created; pipelines must be created one at a time`,
    );
  }
  const key = constantsKey(marker.constants);
  const twin = [...earlier.values()].find(
    (p) => p.sameAs === undefined && p.moduleLabel === marker.moduleLabel && constantsKey(p.constants) === key,
  );
  if (!twin)
    throw new Error(
      `kernel-stats capture: Dawn printed no SPIR-V for pipeline ${marker.id} (${marker.label}) and no earlier pipeline is the same`,
    );
  return { ...pipeline, spirv: twin.spirv, sameAs: twin.id };
}

function constantsKey(constants: PipelineConstants): string {
  return JSON.stringify(Object.entries(constants).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** spirv-dis output: `; header` comments, `OpCode ...` and `%id = OpCode ...`, indented. */
function isSpirvAssemblyLine(line: string): boolean {
  return /^\s*(;|Op[A-Z]|%[\w.]+ = Op[A-Z])/.test(line);
}

/**
 * The assembly `spirv-as` is given. Dawn declares SPV_KHR_maximal_reconvergence and the
 * MaximallyReconvergesKHR execution mode; the spirv-as of Debian 12 (SPIRV-Tools 2023.1)
 * predates them and rejects the module. Both lines are dropped everywhere, whatever the
 * assembler knows, so that every machine measures the same modules. The mode only promises how
 * divergent invocations reconverge before subgroup operations; with Mesa 25.0.7 ACO made the
 * same code with and without it (the same "Hash" statistic, written back into the binaries,
 * for the classic losses' subgroup reduce and the family and clDice kernels, 2026-12-03).
 */
export function assemblerInput(spirv: string): string {
  return spirv
    .split('\n')
    .filter((line) => !/\bSPV_KHR_maximal_reconvergence\b|\bMaximallyReconvergesKHR\b/.test(line))
    .join('\n');
}
