import type { TunableSpec } from '../spec/index.js';
import { PLAN_KNOBS, type DeviceProfile, type PlanChoice } from './profile.js';
import { pipelineKey, type LossProgram } from './program.js';

// What engine.tune() times, as pure data: the candidate plan choices for a loss on a device,
// the identity of the program each makes (two choices that plan the same passes are timed
// once), and the shape class a tuned choice is kept for.

/** What the candidates may use of the device. */
export interface DeviceCaps {
  /** maxComputeInvocationsPerWorkgroup, capped by workgroup memory (see WORKGROUP_BYTES_PER_THREAD). */
  readonly maxWorkgroupSize: number;
  /** The device's smallest subgroup, where it has the `subgroups` feature and the engine may use it. */
  readonly subgroupSize?: number;
}

/** Workgroup sizes worth timing: a warp or wavefront's multiples GPUs schedule well. */
const WORKGROUP_SIZES = [64, 128, 256, 512] as const;

/** Grid sizes are tried at these multiples of the device class's default (small shapes already run at the per-thread minimum, so only fewer workgroups change them). */
const GRID_SCALES = [1 / 16, 1 / 4, 4] as const;

/** Class blocks worth timing where the loss has more classes than the smallest. */
const CLASS_BLOCKS = [8, 16] as const;

/**
 * The choices tune() times by default: the device class's plan ({}), then each knob moved
 * alone away from its default (a coordinate search; tune() then times the best moves together).
 * Knobs a loss kind's planner does not read give programs equal to another candidate's and
 * are timed once (see {@link programIdentity}).
 */
export function candidateChoices(spec: TunableSpec, profile: DeviceProfile, caps: DeviceCaps): PlanChoice[] {
  const choices: PlanChoice[] = [{}];
  for (const size of WORKGROUP_SIZES) {
    if (size !== profile.workgroupSize && size <= caps.maxWorkgroupSize) choices.push({ workgroupSize: size });
  }
  for (const scale of GRID_SCALES) {
    choices.push({ targetWorkgroups: Math.max(1, Math.round(profile.targetWorkgroups * scale)) });
    choices.push({ elementwiseWorkgroups: Math.max(1, Math.round(profile.elementwiseWorkgroups * scale)) });
  }
  choices.push({ interleave: !profile.interleave });
  if (caps.subgroupSize !== undefined) choices.push({ subgroups: profile.subgroupSize === undefined });
  const classes = classesOf(spec);
  for (const block of CLASS_BLOCKS) if (block < classes) choices.push({ classBlock: block });
  return choices;
}

/** The knobs of `a`, overridden by those `b` sets. */
export function combineChoices(a: PlanChoice, b: PlanChoice): PlanChoice {
  return { ...a, ...b };
}

/**
 * A program's identity for timing: its workgroup size and, per pass, the pipeline, the
 * dispatches and the uniform bytes. Two choices with the same identity record the same work.
 */
export function programIdentity(program: LossProgram, workgroupSize: number): string {
  const passes = program.passes.map((pass) => {
    const uniforms = Array.from(new Uint32Array(pass.uniforms)).join(',');
    const dispatches = pass.dispatches.map((d) => d.workgroups.join('x')).join(' ');
    return `${pipelineKey(pass.kernel, pass.constants)} | ${dispatches} | ${uniforms}`;
  });
  return [`WORKGROUP_SIZE=${workgroupSize}`, ...passes].join('\n');
}

/**
 * The shape class a tuned choice is kept for: the loss kind, its modes (the kernels and
 * `override` constants of the device class's plan; the classic losses' reduction), the class count, and the batch and element
 * counts rounded to powers of two. Losses of one class run the same kernels on about the same
 * amount of data, so the fastest choice for one is a good one for all.
 */
export function shapeClassOf(spec: TunableSpec, defaultProgram: LossProgram): string {
  // The seed's modes are uniforms (a group per class or per sample), not constants.
  const seedModes = spec.kind === 'seed' ? `${spec.options.reduce} reduce, ` : '';
  const modes = seedModes + defaultProgram.passes.map((p) => pipelineKey(p.kernel, p.constants)).join(', ');
  const { batch, elements } = shapeOf(spec);
  const log2 = (n: number) => Math.round(Math.log2(n));
  return `${spec.kind} C=${classesOf(spec)} B~2^${log2(batch)} N~2^${log2(elements)}: ${modes}`;
}

/** A choice's knobs in a fixed order: the form the tuning table stores. */
export function canonicalChoice(choice: PlanChoice): PlanChoice {
  const out: Record<string, number | boolean> = {};
  for (const knob of PLAN_KNOBS) if (choice[knob] !== undefined) out[knob] = choice[knob];
  return out as PlanChoice;
}

function classesOf(spec: TunableSpec): number {
  return spec.kind === 'seed' ? spec.options.shape.classes : spec.options.classes;
}

function shapeOf(spec: TunableSpec): { batch: number; elements: number } {
  return spec.kind === 'seed' ? spec.options.shape : spec.options;
}
