import { UNIFORM_STRIDE } from '../core/limits.js';
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
  /** In order; the backward passes run only when a gradient is asked for. */
  readonly passes: readonly ProgramPass[];
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
}

export type TensorName = 'pred' | 'target' | 'mask' | 'loss' | 'grad' | 'stats';

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

/** A binding of one dispatch: part of a caller's tensor (bytes from its start), or a scratch buffer. */
export type BindingRef =
  { readonly tensor: TensorName; readonly offset: number; readonly size: number } | { readonly scratch: string };

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
  /** Bytes of one block the kernel binds. */
  readonly uniformBytes: number;
  readonly dispatches: readonly ProgramDispatch[];
  readonly backward: boolean;
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

/** A binding of a whole scratch buffer of the loss's own. */
export function scratchRef(name: string): BindingRef {
  return { scratch: name };
}

/** A pass whose uniform blocks (one per dispatch block, UNIFORM_STRIDE apart) are `uniforms`. */
export function uniformPass(
  name: string,
  kernel: KernelName,
  constants: PipelineConstants,
  uniforms: ArrayBuffer,
  dispatches: ProgramDispatch[],
  backward = false,
): ProgramPass {
  // Per-window blocks sit UNIFORM_STRIDE apart; a lone block is bound as packed.
  return {
    name,
    kernel,
    constants,
    uniforms,
    uniformBytes: Math.min(UNIFORM_STRIDE, uniforms.byteLength),
    dispatches,
    backward,
  };
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
    lines.push(
      `  ${i + 1}. ${pass.name}${pass.backward ? ' (with grad)' : ''}: ${pass.kernel}` +
        `${constants ? ` [${constants}]` : ''}, ${pass.dispatches.length} dispatch(es), ${workgroups} workgroups; ${binds}`,
    );
  });
  return lines.join('\n');
}
