import { STATUS_BYTES, UNIFORM_STRIDE } from '../core/limits.js';
import type { KernelName } from '../kernels/sources.js';
import type { BindingWindow } from './grids.js';

/**
 * A loss as pure data: what the planner (src/program/planner.ts) makes of a {@link LossSpec}
 * for one device profile, and all the runtime (src/runtime/program-loss.ts) needs to record it.
 * Nothing here touches a GPU, so programs are tested, and printed by `loss.describe()`,
 * without one.
 */
export interface LossProgram<Grids = unknown> {
  readonly label: string;
  /** The shape the loss was made for, as the caller gave it (for messages). */
  readonly dims: readonly number[];
  /** The grids and binding windows the passes were cut from (SeedGrids, VoxelGrids). */
  readonly grids: Grids;
  /** The caller's tensors the passes bind, with the bytes each must hold. */
  readonly tensors: readonly TensorSpec[];
  /** Buffers the loss owns: uniforms aside, allocated once when the loss is created. */
  readonly scratch: readonly ScratchSpec[];
  /** In order; each runs with its group (see {@link PassGroup}, {@link groupRule}). */
  readonly passes: readonly ProgramPass[];
  /**
   * When the groups other than the defaults run in a whole-program recording (forward: always;
   * backward: with grad bound). A group recorded alone (`record(..., groups)`) runs regardless.
   */
  readonly groups?: Readonly<Partial<Record<PassGroup, GroupRule>>>;
  /** Scratch that compute() reads back after the status buffer, in this order. */
  readonly readback: readonly string[];
  /** Pairs of tensors that may share memory (grad over pred when pred is read by an earlier dispatch only). */
  readonly inPlace: readonly (readonly [TensorName, TensorName])[];
  /**
   * The scratch buffer that carries a call from the forward passes to the backward ones, when
   * the backward reads nothing else the forward wrote and dL/dpred is linear in its values:
   * a copy saved after a forward and scaled by dy gives dy · dL/dpred of that call when written
   * back before the backward passes (wgsl-dice/tfjs's custom gradient).
   */
  readonly gradientCoefficients?: string;
  /** The plan choice it was made with, where the engine's tuning chose one (describe() names it). */
  readonly plan?: string;
  /**
   * Where the passes of the group 'from-inputs' compute scratch from the inputs alone, that
   * scratch can be shared: every loss of an engine whose program names the same key binds the
   * same buffers, and compute() skips the group when its host inputs equal those of the last
   * completed run that wrote them (src/runtime/shared-results.ts).
   */
  readonly reusable?: ReusableResults;
}

/** See {@link LossProgram.reusable}. */
export interface ReusableResults {
  /**
   * Equal keys promise equal 'from-inputs' passes: the same kernels, uniforms, grids and input
   * tensors, and the same contents of every buffer those passes read besides the inputs.
   */
  readonly key: string;
  /** The scratch the 'from-inputs' passes write and later groups read: one buffer per key and name. */
  readonly scratch: readonly string[];
}

export type TensorName = 'pred' | 'target' | 'mask' | 'loss' | 'grad' | 'stats' | 'targetSkeleton' | 'distances';

/**
 * Passes that run together. A whole-program recording runs each group by its {@link GroupRule};
 * the runtime can also record a subset alone (wgsl-dice/tfjs's backward, clDice's
 * encodeTargetSkeleton). Add a name here for a new kind of pass set (a distance transform, say).
 */
export type PassGroup = 'forward' | 'backward' | 'target-skeleton' | 'from-inputs';

/**
 * When a group runs in a whole-program recording: always (`{}`), only with an optional tensor
 * bound (`{ with: 'grad' }`: the backward), or only without it (`{ without: 'targetSkeleton' }`:
 * passes that make what the caller may give precomputed).
 */
export interface GroupRule {
  /** Runs only when this (optional) tensor is bound. */
  readonly with?: TensorName;
  /** Runs only when this (optional) tensor is not bound. */
  readonly without?: TensorName;
}

const DEFAULT_GROUP_RULES: Readonly<Partial<Record<PassGroup, GroupRule>>> = {
  forward: {},
  backward: { with: 'grad' },
  'from-inputs': {},
};

/** The rule of `group` in `program`: its own, else the default (forward always, backward with grad). */
export function groupRule(program: Pick<LossProgram, 'groups'>, group: PassGroup): GroupRule {
  const rule = program.groups?.[group] ?? DEFAULT_GROUP_RULES[group];
  if (!rule) throw new Error(`internal error: the program has passes of group '${group}' but no rule for it`);
  return rule;
}

/** Whether a group with `rule` runs when the tensors `bound` are given. */
export function groupRuns(rule: GroupRule, bound: (name: TensorName) => boolean): boolean {
  if (rule.with !== undefined) return bound(rule.with);
  if (rule.without !== undefined) return !bound(rule.without);
  return true;
}

/** How a host array may be given for a tensor in compute(). */
export type HostType = 'f32' | 'f16-bits' | 'u8' | 'u16' | 'u32';

export interface TensorSpec {
  readonly name: TensorName;
  /** Bytes the caller's binding must hold (whole words). */
  readonly bytes: number;
  /** Bound window by window (any size), else as one binding. */
  readonly windowed: boolean;
  readonly access: 'read' | 'write';
  /** Absent from encode() buffers: the passes that bind it are skipped (grad) or a scratch of the same name stands in (stats). */
  readonly optional: boolean;
  /** For inputs: the typed array compute() takes, and its element count. */
  readonly host?: { readonly type: HostType; readonly elements: number };
}

export interface ScratchSpec {
  readonly name: string;
  readonly bytes: number;
  /** Initial contents (tables written once). */
  readonly contents?: Float32Array<ArrayBuffer>;
  /** compute() or the caller copies it out (COPY_SRC). */
  readonly readable?: boolean;
}

/**
 * A binding of one dispatch: part of a caller's tensor (bytes from its start), or a scratch
 * buffer, whole or (with offset and size) one binding window of it.
 */
export type BindingRef =
  | { readonly tensor: TensorName; readonly offset: number; readonly size: number }
  | { readonly scratch: string; readonly offset?: number; readonly size?: number };

export interface ProgramDispatch {
  /** Index of this dispatch's block in the pass's uniform buffer. */
  readonly block: number;
  readonly workgroups: readonly [number, number, number];
  /** By the WGSL variable name of each `@binding` (binding 0, `params`, is the uniform block). */
  readonly bindings: Readonly<Record<string, BindingRef>>;
  /** The binding window this dispatch runs in, when the pass is windowed. */
  readonly window?: BindingWindow;
}

export interface ProgramPass {
  readonly name: string;
  readonly kernel: KernelName;
  /** The pipeline's `override` constants: its modes, never a shape. */
  readonly constants: PipelineConstants;
  /** Uniform blocks, one per dispatch block, UNIFORM_STRIDE apart. */
  readonly uniforms: ArrayBuffer;
  /**
   * Passes that name the same block share one uniform buffer (clDice's level passes all read
   * one per-window block); their `uniforms` must hold the same bytes. Unnamed: the pass's own.
   */
  readonly uniformBlock?: string;
  /** Bytes of one block the kernel binds. */
  readonly uniformBytes: number;
  readonly dispatches: readonly ProgramDispatch[];
  readonly group: PassGroup;
}

/** A pass's `override` constants by name: its modes, never a shape. */
export type PipelineConstants = Readonly<Record<string, number>>;

/**
 * A pipeline's identity: the kernel and its `override` constants. Never a shape: shapes and
 * scalars live in uniforms, so one pipeline serves every shape of a mode.
 */
export function pipelineKey(name: KernelName, constants: PipelineConstants): string {
  const entries = Object.entries(constants).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${name}${entries.map(([k, v]) => ` ${k}=${v}`).join('')}`;
}

/** A binding of `size` bytes of a caller's tensor from byte `offset`. */
export function tensorRef(name: TensorName, offset: number, size: number): BindingRef {
  return { tensor: name, offset, size };
}

/** A binding of a scratch buffer of the loss's own: whole, or `size` bytes from byte `offset` (a window). */
export function scratchRef(name: string, offset?: number, size?: number): BindingRef {
  return offset === undefined ? { scratch: name } : { scratch: name, offset, size };
}

/**
 * The scratch of the status protocol every program shares with its kernels (src/runtime/status.ts):
 * `faults`, one record (two vec4<u32>) per workgroup of the passes that check their input
 * (lib/faults.wgsl), and `status`, where a finalize folds them (lib/fault_fold.wgsl) and which
 * compute() and readStatus() read back.
 */
export function statusScratch(faultRecords: number): ScratchSpec[] {
  return [
    { name: 'faults', bytes: faultRecords * 32 },
    { name: 'status', bytes: STATUS_BYTES, readable: true },
  ];
}

/** A pass whose uniform blocks (one per dispatch block, UNIFORM_STRIDE apart) are `uniforms`. */
export function uniformPass(
  name: string,
  kernel: KernelName,
  constants: PipelineConstants,
  uniforms: ArrayBuffer,
  dispatches: ProgramDispatch[],
  group: PassGroup = 'forward',
): ProgramPass {
  // Per-window blocks sit UNIFORM_STRIDE apart; a lone block is bound as packed.
  return {
    name,
    kernel,
    constants,
    uniforms,
    uniformBytes: Math.min(UNIFORM_STRIDE, uniforms.byteLength),
    dispatches,
    group,
  };
}

/**
 * A pass with one dispatch a binding window, in window order: each reads its own uniform block
 * (the window's index), runs the window's `count` workgroups by `rows` (wg.y), and binds what
 * `bind` gives the window.
 */
export function perWindowPass<W extends BindingWindow>(
  name: string,
  kernel: KernelName,
  constants: PipelineConstants,
  uniforms: ArrayBuffer,
  windows: readonly W[],
  bind: (window: W) => Readonly<Record<string, BindingRef>>,
  { rows = 1, group = 'forward' }: { readonly rows?: number; readonly group?: PassGroup } = {},
): ProgramPass {
  const dispatches = windows.map((w, block) => ({
    block,
    window: w,
    workgroups: [w.count, rows, 1] as const,
    bindings: bind(w),
  }));
  return uniformPass(name, kernel, constants, uniforms, dispatches, group);
}

/**
 * A loss's finalize: one workgroup that turns the forward's partial sums into the loss and folds
 * the forward's fault records into `status` (lib/fault_fold.wgsl); those two bindings follow `bindings`.
 */
export function finalizePass(
  kernel: KernelName,
  constants: PipelineConstants,
  uniforms: ArrayBuffer,
  bindings: Record<string, BindingRef>,
): ProgramPass {
  return uniformPass('finalize', kernel, constants, uniforms, [
    {
      block: 0,
      workgroups: [1, 1, 1],
      bindings: { ...bindings, status: scratchRef('status'), faults: scratchRef('faults') },
    },
  ]);
}

/** A plain-text table of a program's passes: kernel, constants, dispatches, bindings. */
export function describeProgram(program: LossProgram): string {
  const lines = [`${program.label}`];
  if (program.plan !== undefined) lines.push(`  plan: ${program.plan}`);
  const bytes = (n: number) =>
    n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;
  lines.push(
    `  tensors: ${program.tensors.map((t) => `${t.name} ${bytes(t.bytes)}${t.windowed ? ' (windowed)' : ''}`).join(', ')}`,
  );
  lines.push(
    `  scratch: ${program.scratch.map((s) => `${s.name} ${bytes(s.contents?.byteLength ?? s.bytes)}`).join(', ')}`,
  );
  program.passes.forEach((pass, i) => {
    const constants = Object.entries(pass.constants)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    const workgroups = pass.dispatches.reduce((n, d) => n + d.workgroups[0] * d.workgroups[1] * d.workgroups[2], 0);
    const first = pass.dispatches[0];
    const binds = first
      ? Object.entries(first.bindings)
          .map(([name, ref]) => `${name}<-${'scratch' in ref ? ref.scratch : ref.tensor}`)
          .join(' ')
      : '';
    const rule = groupRule(program, pass.group);
    const when = rule.with ? `with ${rule.with}` : rule.without ? `without ${rule.without}` : '';
    const group = pass.group === 'forward' || pass.group === 'backward' ? when : `${pass.group}${when && `, ${when}`}`;
    const shared = pass.uniformBlock ? `, params<-${pass.uniformBlock}` : '';
    lines.push(
      `  ${i + 1}. ${pass.name}${group && ` (${group})`}: ${pass.kernel}` +
        `${constants ? ` [${constants}]` : ''}, ${pass.dispatches.length} dispatch(es), ${workgroups} workgroups${shared}; ${binds}`,
    );
  });
  return lines.join('\n');
}
