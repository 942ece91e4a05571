/**
 * The capture process: creates every target's loss on a dawn.node device whose shaders Dawn
 * dumps, and prints the markers of capture-format.ts around them. Its stdout is read by
 * index.ts; Dawn prints the dumps there too, from native code, which is why this runs in a
 * process of its own.
 */
import { writeSync } from 'node:fs';
import { DiceEngine, type DeviceClass } from '../../src/index.js';
import { describeAdapter, requestNodeDevice } from '../../src/node/index.js';
import { markerLine, type Marker, type PassMarker, type PipelineConstants } from './capture-format.js';
import type { ProgramPass } from '../cases.js';
import type { KernelStatsTarget } from './targets.js';

/**
 * `dump_shaders` prints each pipeline's SPIR-V as created, overrides applied;
 * `disable_symbol_renaming` keeps the WGSL names in it, so a reader can tell the kernels apart.
 */
const DUMP_FLAGS = ['enable-dawn-features=dump_shaders,disable_symbol_renaming'];

/** The engine's label: pipeline and module labels begin with it (`kernel-stats family_forward`). */
const ENGINE_LABEL = 'kernel-stats';

interface CreatedPipeline {
  readonly id: number;
  readonly moduleLabel: string;
  readonly constants: PipelineConstants;
}

/**
 * Straight to file descriptor 1, not through process.stdout: Dawn writes its dumps to the same
 * descriptor synchronously, and a marker must land exactly between two of them.
 */
function emit(marker: Marker): void {
  writeSync(1, markerLine(marker));
}

/**
 * Makes `device` create its compute pipelines one at a time, each between a begin and an end
 * marker, and records them. The engine compiles a loss's passes concurrently (and clDice its
 * fourteen kernels), so without this two dumps could come between one pair of markers. This
 * wraps the device's own method on this one device, which only this process uses.
 */
function createOneAtATime(device: GPUDevice): CreatedPipeline[] {
  const created: CreatedPipeline[] = [];
  const createAsync = device.createComputePipelineAsync.bind(device);
  let previous: Promise<unknown> = Promise.resolve();
  device.createComputePipelineAsync = (descriptor: GPUComputePipelineDescriptor) => {
    const next = previous.then(async () => {
      const pipeline: CreatedPipeline = {
        id: created.length,
        moduleLabel: descriptor.compute.module.label,
        constants: { ...(descriptor.compute.constants as Record<string, number> | undefined) },
      };
      created.push(pipeline);
      emit({ event: 'pipeline-begin', label: descriptor.label ?? '', ...pipeline });
      try {
        return await createAsync(descriptor);
      } finally {
        emit({ event: 'pipeline-end', id: pipeline.id });
      }
    });
    previous = next.catch(() => undefined);
    return next;
  };
  device.createComputePipeline = () => {
    throw new Error(
      'kernel-stats: a synchronous createComputePipeline would bypass the markers; the engine creates pipelines asynchronously',
    );
  };
  return created;
}

/** The constants the planner chose, as the pipeline got them (the engine adds its WORKGROUP_SIZE). */
function sameConstants(pipeline: PipelineConstants, planned: PipelineConstants): boolean {
  const keys = Object.keys(pipeline).filter((k) => k !== 'WORKGROUP_SIZE');
  return keys.length === Object.keys(planned).length && keys.every((k) => pipeline[k] === planned[k]);
}

/** Which pass of which loss: the part of a pass marker the loss decides. */
type PassOfPipeline = Pick<PassMarker, 'pass' | 'direction' | 'kernel' | 'pipeline'>;

/**
 * The passes of one loss and their pipelines. A program's pass runs the pipeline of its kernel
 * and constants (made now, or by an earlier loss of this engine: the engine compiles each
 * once). Passes that run one pipeline again (clDice's levels, named `... <level>`) are one row,
 * named without the level and, where one kernel runs in several modes, with the modes that tell
 * its rows apart.
 */
function passesOf(
  target: KernelStatsTarget,
  planned: readonly ProgramPass[],
  all: readonly CreatedPipeline[],
): PassOfPipeline[] {
  const where = `${target.case} ${JSON.stringify(target.shape)}`;
  const rows = new Map<number, PassOfPipeline & { constants: PipelineConstants }>();
  for (const pass of planned) {
    const matches = all.filter(
      (p) => p.moduleLabel === `${ENGINE_LABEL} ${pass.kernel}` && sameConstants(p.constants, pass.constants),
    );
    if (matches.length !== 1) {
      throw new Error(
        `kernel-stats: ${matches.length} pipelines match ${where} pass ${pass.name} (${pass.kernel} ${JSON.stringify(pass.constants)}); ` +
          `modules of the pipelines created: ${[...new Set(all.map((p) => p.moduleLabel))].join(', ')}`,
      );
    }
    if (rows.has(matches[0].id)) continue;
    rows.set(matches[0].id, {
      pass: pass.name.replace(/ \d+$/, ''),
      direction: pass.group === 'backward' ? 'backward' : 'forward',
      kernel: pass.kernel,
      pipeline: matches[0].id,
      constants: pass.constants,
    });
  }
  return [...rows.values()].map(({ constants, ...row }, _, list) => {
    const siblings = list.filter((other) => other.kernel === row.kernel);
    const modes = Object.keys(constants).filter((k) => siblings.some((other) => other.constants[k] !== constants[k]));
    return modes.length === 0
      ? row
      : { ...row, pass: `${row.pass} ${modes.map((k) => `${k}=${constants[k]}`).join(' ')}` };
  });
}

/** Creates every target's loss (and so its pipelines) on a dumping device; prints the markers. */
export async function capture(targets: readonly KernelStatsTarget[], deviceClass: DeviceClass): Promise<void> {
  const errors: string[] = [];
  const device = await requestNodeDevice({
    label: 'wgsl-dice kernel-stats',
    dawnFlags: DUMP_FLAGS,
    onUncapturedError: (error) => errors.push(error.message),
  });
  const info = device.adapterInfo as GPUAdapterInfo & { subgroupMinSize?: number };
  emit({
    event: 'adapter',
    description: describeAdapter(device).description || describeAdapter(device).device,
    subgroupMinSize: device.features.has('subgroups') ? info.subgroupMinSize : undefined,
  });
  const created = createOneAtATime(device);
  const engine = await DiceEngine.create(device, { deviceClass, label: ENGINE_LABEL });
  try {
    for (const target of targets) {
      const loss = await target.create(engine);
      for (const pass of passesOf(target, loss.passes, created)) {
        emit({
          event: 'pass',
          case: target.case,
          shape: [...target.shape],
          classes: target.classes,
          deviceClass,
          ...pass,
        });
      }
      loss.destroy();
    }
  } finally {
    engine.destroy();
    await device.queue.onSubmittedWorkDone();
    device.destroy();
  }
  if (errors.length) throw new Error(`kernel-stats: GPU errors while creating the pipelines:\n${errors.join('\n')}`);
}
