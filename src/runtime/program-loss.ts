import { WgslDiceError } from '../core/errors.js';
import { STATUS_BYTES, STATUS_PARTS_OFFSET, UNIFORM_STRIDE } from '../core/limits.js';
import {
  describeProgram,
  type HostType,
  type LossProgram,
  type ProgramPass,
  type TensorName,
  type TensorSpec,
} from '../program/program.js';
import { bindStorage, describe, hostInputError, isBufferArg, rejectOverlaps, type Binding } from './caller-buffers.js';
import type { LossHost } from './host.js';
import { LossBase } from './loss-base.js';
import { whole } from './owned-resources.js';
import { decodeStatus, rejectBadInput, type InputStatus } from './status.js';
import { submitAndRead } from './submit.js';

/** A pass's compiled pipeline and the `@binding` slot of each of its variables. */
export interface CompiledPass {
  readonly pipeline: GPUComputePipeline;
  readonly bindGroupLayout: GPUBindGroupLayout;
  readonly slots: ReadonlyMap<string, number>;
}

/** Where encode() records: a command encoder (one compute pass is begun) or a pass the caller began. */
export interface EncodeOptions {
  /** With a command encoder: timestamps written at the start and end of the loss's compute pass. */
  timestampWrites?: GPUComputePassTimestampWrites;
}

/** What one compute() brought back. */
export interface ProgramOutput {
  readonly status: InputStatus;
  /** The status words after the faults: the loss and its parts as f32. */
  readonly parts: Float32Array;
  /** Each readback scratch buffer, by name. */
  readonly sections: ReadonlyMap<string, Float32Array>;
  readonly grad?: Float32Array;
}

const HOST_ARRAYS: Record<HostType, { new (length: number): ArrayBufferView; name: string }> = {
  f32: Float32Array,
  'f16-bits': Uint16Array,
  u8: Uint8Array,
  u16: Uint16Array,
  u32: Uint32Array,
};

/**
 * The one runtime every loss runs on: it owns the scratch and uniform buffers of a
 * {@link LossProgram}, records the program's passes into the caller's encoder (or an open
 * compute pass), and in compute() uploads, submits and reads back. It knows no loss: binding
 * names are resolved against the WGSL, sizes and windows come from the program, and the same
 * checks (buffer usage and size, aliasing, faults in the status buffer) hold for every loss.
 */
export abstract class ProgramLoss extends LossBase {
  /** The passes, bindings and windows this loss records (see {@link describe}). */
  readonly program: LossProgram;
  readonly #passes: readonly CompiledPass[];
  readonly #uniforms: readonly GPUBuffer[];
  readonly #scratch = new Map<string, GPUBuffer>();
  readonly #tensors: ReadonlyMap<TensorName, TensorSpec>;
  /** Derived from the program once, not at every encode: what the buffer checks compare against. */
  readonly #sameDispatch: readonly [TensorName, TensorName][];
  readonly #backwardTensors: ReadonlySet<TensorName>;
  /** compute()'s upload, output and readback buffers, each made when a call first needs it. */
  readonly #host = new Map<string, GPUBuffer>();

  protected constructor(
    host: LossHost,
    program: LossProgram,
    passes: readonly CompiledPass[],
    naming: { what: string; createdBy: string },
  ) {
    const bindGroups = program.passes.reduce((n, p) => n + p.dispatches.length, 0);
    super(host, program.label, naming, bindGroups);
    this.program = program;
    this.#passes = passes;
    this.#tensors = new Map(program.tensors.map((t) => [t.name, t]));
    this.#sameDispatch = sameDispatchPairs(program);
    this.#backwardTensors = backwardTensors(program);
    const u = GPUBufferUsage;
    for (const s of program.scratch) {
      // compute() reads some scratch back; wgsl-dice/tfjs copies the gradient coefficients out.
      const copySource = s.readable || s.name === program.gradientCoefficients ? u.COPY_SRC : 0;
      this.#scratch.set(
        s.name,
        s.contents
          ? this.resources.storage(s.name, s.contents, copySource)
          : this.resources.buffer(s.name, s.bytes, u.STORAGE | copySource),
      );
    }
    this.#uniforms = program.passes.map((p) => this.resources.uniform(`${p.name} params`, p.uniforms));
  }

  /** The input faults and loss of the last submitted run: see {@link STATUS_BYTES} in src/core/limits.ts. */
  get statusBuffer(): GPUBuffer {
    return this.scratchBuffer('status');
  }

  /** The passes this loss records, one line each: kernel, modes, dispatches, bindings. */
  describe(): string {
    return describeProgram(this.program);
  }

  /** Reads the status written by the last submitted passes (for the encode path). */
  readStatus(): Promise<InputStatus> {
    return this.readStatusFrom(this.statusBuffer, this.program.label);
  }

  protected scratchBuffer(name: string): GPUBuffer {
    const buffer = this.#scratch.get(name);
    if (!buffer) throw new Error(`internal error: the program has no scratch buffer '${name}'`);
    return buffer;
  }

  /**
   * @internal For wgsl-dice/tfjs's custom gradient (not public API; may change in any release):
   * the buffer of {@link LossProgram.gradientCoefficients}, which the forward passes write and
   * the backward passes read. Copy it out after a forward; scaled by dy and written back before
   * {@link _encodeBackward}, it makes that pass record dy · dL/dpred of the saved call.
   */
  get _gradientCoefficients(): GPUBuffer | undefined {
    const name = this.program.gradientCoefficients;
    return name === undefined ? undefined : this.scratchBuffer(name);
  }

  /**
   * @internal Records only the backward passes, into `grad`, from the coefficients in
   * {@link _gradientCoefficients} (see there). Buffers as for encode(); those no backward pass
   * binds (loss, and pred for the seed losses) may be left out.
   */
  _encodeBackward(encoder: GPUCommandEncoder, buffers: Readonly<Partial<Record<TensorName, GPUBuffer>>>): void {
    if (!buffers.grad)
      throw new WgslDiceError('INVALID_INPUT', '_encodeBackward records the gradient: pass the grad buffer.');
    if (!this.program.passes.some((pass) => pass.backward)) {
      throw new WgslDiceError(
        'INVALID_INPUT',
        `${this.program.label} has no gradient (a metric on binarised predictions); use it without differentiating it.`,
      );
    }
    this.record(encoder, buffers, {}, 'backward');
  }

  /**
   * Records the program (or only its backward passes). Every argument is checked before
   * anything is recorded, so a rejected call leaves the encoder as it was.
   */
  protected record(
    target: GPUCommandEncoder | GPUComputePassEncoder,
    buffers: Readonly<Record<string, unknown>>,
    options: EncodeOptions = {},
    passes: 'all' | 'backward' = 'all',
  ): void {
    this.assertUsable();
    this.throwRecordingError();
    const intoPass = isComputePass(target);
    if (!intoPass && !isCommandEncoder(target)) {
      throw new WgslDiceError(
        'INVALID_INPUT',
        `encode() records into a GPUCommandEncoder (device.createCommandEncoder()) or an open GPUComputePassEncoder, got ${describe(target)}.`,
      );
    }
    if (intoPass && options.timestampWrites !== undefined) {
      throw new WgslDiceError(
        'INVALID_OPTION',
        'timestampWrites belong to the pass you began; pass them to beginComputePass() yourself.',
      );
    }
    const bound = this.#bindTensors(buffers, passes === 'backward' ? this.#backwardTensors : undefined);
    const withGrad = bound.has('grad');
    this.checkedRecording(() => {
      const pass = intoPass
        ? target
        : target.beginComputePass({ label: `${this.program.label} passes`, timestampWrites: options.timestampWrites });
      this.#recordPasses(pass, bound, withGrad, passes === 'backward');
      if (!intoPass) pass.end();
    });
  }

  #recordPasses(
    pass: GPUComputePassEncoder,
    bound: ReadonlyMap<TensorName, Binding>,
    withGrad: boolean,
    backwardOnly: boolean,
  ): void {
    this.program.passes.forEach((plan, p) => {
      if (plan.backward ? !withGrad : backwardOnly) return;
      const compiled = this.#passes[p];
      pass.setPipeline(compiled.pipeline);
      for (const dispatch of plan.dispatches) {
        const entries: Binding[] = [];
        for (const [name, ref] of Object.entries(dispatch.bindings)) {
          const slot = compiled.slots.get(name);
          if (slot === undefined) throw new Error(`internal error: ${plan.kernel}.wgsl has no binding '${name}'`);
          entries[slot - 1] = this.#resolve(ref, bound);
        }
        const params = { buffer: this.#uniforms[p], offset: dispatch.block * UNIFORM_STRIDE, size: plan.uniformBytes };
        pass.setBindGroup(0, this.resources.bindGroup(plan.name, compiled.bindGroupLayout, params, entries));
        pass.dispatchWorkgroups(...dispatch.workgroups);
      }
    });
  }

  /** Checks the caller's buffers (of `only` the tensors named there) against the program's tensors: usage, size, aliasing. */
  #bindTensors(buffers: Readonly<Record<string, unknown>>, only?: ReadonlySet<TensorName>): Map<TensorName, Binding> {
    const bound = new Map<TensorName, Binding>();
    for (const spec of this.program.tensors) {
      if (only && !only.has(spec.name)) continue;
      const arg = buffers[spec.name];
      // A missing required buffer gets bindStorage's message, which says what to pass.
      if (arg === undefined && spec.optional) continue;
      bound.set(spec.name, bindStorage(this.device, spec.name, arg, spec.bytes, spec.windowed));
    }
    const reads: Record<string, Binding | undefined> = {};
    const writes: Record<string, Binding | undefined> = {};
    for (const [name, binding] of bound) (this.#tensors.get(name)!.access === 'read' ? reads : writes)[name] = binding;
    rejectOverlaps(reads, writes, { inPlace: this.program.inPlace, sameDispatch: this.#sameDispatch });
    return bound;
  }

  #resolve(
    ref: ProgramPass['dispatches'][number]['bindings'][string],
    bound: ReadonlyMap<TensorName, Binding>,
  ): Binding {
    if ('scratch' in ref) return whole(this.scratchBuffer(ref.scratch));
    const tensor = bound.get(ref.tensor);
    // An optional tensor the caller left out binds the loss's own buffer of that name, window
    // for window.
    if (!tensor) return { buffer: this.scratchBuffer(ref.tensor), offset: ref.offset, size: ref.size };
    return { buffer: tensor.buffer, offset: tensor.offset + ref.offset, size: ref.size };
  }

  /**
   * compute(): copies host arrays at call time (the caller may reuse them at once), then, in
   * turn with earlier calls, uploads, runs, reads the status, the readback scratch and the
   * gradient back, and throws LABEL_OUT_OF_RANGE or NON_FINITE_INPUT on bad input.
   */
  protected runOnce(
    inputs: Readonly<Partial<Record<TensorName, unknown>>>,
    wantGrad: boolean,
    labelHint: string,
    predHint = '',
  ): Promise<ProgramOutput> {
    this.assertUsable();
    this.throwRecordingError();
    const staged = this.#snapshot(inputs);
    return this.serialized(() => this.#run(staged, wantGrad, labelHint, predHint));
  }

  #snapshot(inputs: Readonly<Partial<Record<TensorName, unknown>>>): Map<TensorName, unknown> {
    const staged = new Map<TensorName, unknown>();
    for (const [name, input] of Object.entries(inputs) as [TensorName, unknown][]) {
      if (input === undefined) continue;
      const spec = this.#tensors.get(name);
      if (!spec?.host) throw new WgslDiceError('INVALID_INPUT', `This loss takes no ${name}.`);
      const type = HOST_ARRAYS[spec.host.type];
      if (ArrayBuffer.isView(input) && !(input instanceof DataView)) {
        if (!(input instanceof type)) {
          if (spec.host.type === 'f32') throw hostInputError(name, input);
          throw new WgslDiceError(
            'INVALID_DTYPE',
            `${name} must be a ${type.name} for this loss, got ${describe(input)}.`,
          );
        }
        const array = input as unknown as Uint8Array;
        if (array.length !== spec.host.elements) {
          throw new WgslDiceError(
            'SHAPE_MISMATCH',
            `${name} has ${array.length} elements but shape ${JSON.stringify(this.program.dims)} needs ${spec.host.elements}.`,
          );
        }
        // A copy padded to whole words (writeBuffer's unit), taken now.
        const bytes = new Uint8Array(Math.ceil(array.byteLength / 4) * 4);
        bytes.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
        staged.set(name, bytes);
      } else if (isBufferArg(input)) {
        staged.set(name, input);
      } else {
        throw hostInputError(name, input);
      }
    }
    return staged;
  }

  async #run(
    staged: Map<TensorName, unknown>,
    wantGrad: boolean,
    labelHint: string,
    predHint: string,
  ): Promise<ProgramOutput> {
    this.assertUsable();
    const buffers: Record<string, unknown> = {};
    for (const [name, value] of staged) {
      if (value instanceof Uint8Array) {
        const upload = this.#hostBuffer(name);
        this.device.queue.writeBuffer(upload, 0, value as Uint8Array<ArrayBuffer>);
        buffers[name] = upload;
      } else {
        buffers[name] = value;
      }
    }
    buffers.loss = this.#hostBuffer('loss');
    if (wantGrad) buffers.grad = this.#hostBuffer('grad');
    const readback = this.#hostBuffer(wantGrad ? 'readback with grad' : 'readback');
    const sections = this.program.readback.map((name) => this.scratchBuffer(name));
    const gradBytes = this.#tensors.get('grad')?.bytes ?? 0;
    const bytes = await this.explainingRecording(
      submitAndRead({
        host: this.host,
        label: `${this.program.label} compute`,
        record: (encoder) => {
          this.record(encoder, buffers);
          encoder.copyBufferToBuffer(this.statusBuffer, 0, readback, 0, STATUS_BYTES);
          let at = STATUS_BYTES;
          for (const buffer of sections) {
            encoder.copyBufferToBuffer(buffer, 0, readback, at, buffer.size);
            at += buffer.size;
          }
          if (wantGrad) encoder.copyBufferToBuffer(buffers.grad as GPUBuffer, 0, readback, at, gradBytes);
        },
        readback,
        callerBuffers: Object.fromEntries(staged),
        assertUsable: () => this.assertUsable(),
      }),
    );
    const status = decodeStatus(new Uint32Array(bytes, 0, STATUS_BYTES / 4));
    this.rejectInput(status, labelHint, predHint);
    const out = new Map<string, Float32Array>();
    let at = STATUS_BYTES;
    this.program.readback.forEach((name, i) => {
      out.set(name, new Float32Array(bytes.slice(at, at + sections[i].size)));
      at += sections[i].size;
    });
    return {
      status,
      parts: new Float32Array(bytes.slice(STATUS_PARTS_OFFSET, STATUS_BYTES)),
      sections: out,
      grad: wantGrad ? new Float32Array(bytes.slice(at, at + gradBytes)) : undefined,
    };
  }

  /**
   * One of compute()'s own buffers, made on first use: a call with GPU-buffer inputs and no
   * gradient makes none of tensor size.
   */
  #hostBuffer(name: string): GPUBuffer {
    let buffer = this.#host.get(name);
    if (buffer) return buffer;
    const u = GPUBufferUsage;
    const gradBytes = this.#tensors.get('grad')?.bytes ?? 0;
    const readbackBytes =
      STATUS_BYTES + this.program.readback.reduce((n, section) => n + this.scratchBuffer(section).size, 0);
    if (name === 'readback' || name === 'readback with grad') {
      buffer = this.resources.buffer(
        name,
        readbackBytes + (name === 'readback' ? 0 : gradBytes),
        u.MAP_READ | u.COPY_DST,
      );
    } else if (name === 'loss' || name === 'grad') {
      buffer = this.resources.buffer(`host ${name}`, name === 'loss' ? 16 : gradBytes, u.STORAGE | u.COPY_SRC);
    } else {
      buffer = this.resources.buffer(
        `host ${name}`,
        this.#tensors.get(name as TensorName)!.bytes,
        u.STORAGE | u.COPY_DST,
      );
    }
    this.#host.set(name, buffer);
    return buffer;
  }

  /** The class count the label-range message names. */
  protected abstract get classCount(): number;

  /** Throws the typed error for the faults compute() read back (programs whose faults mean other things override it). */
  protected rejectInput(status: InputStatus, labelHint: string, predHint: string): void {
    rejectBadInput(status, this.classCount, labelHint, predHint);
  }
}

/** The tensors the backward passes bind. */
function backwardTensors(program: LossProgram): Set<TensorName> {
  const names = new Set<TensorName>();
  for (const pass of program.passes) {
    if (!pass.backward) continue;
    for (const d of pass.dispatches)
      for (const ref of Object.values(d.bindings)) if ('tensor' in ref) names.add(ref.tensor);
  }
  return names;
}

/** (read, write) tensor pairs that some dispatch binds together: they may not share a buffer. */
function sameDispatchPairs(program: LossProgram): [TensorName, TensorName][] {
  const access = new Map(program.tensors.map((t) => [t.name, t.access]));
  const pairs = new Set<string>();
  for (const pass of program.passes) {
    for (const d of pass.dispatches) {
      const tensors = Object.values(d.bindings).flatMap((ref) => ('tensor' in ref ? [ref.tensor] : []));
      for (const r of tensors)
        for (const w of tensors) if (access.get(r) === 'read' && access.get(w) === 'write') pairs.add(`${r}|${w}`);
    }
  }
  return [...pairs].map((p) => p.split('|') as [TensorName, TensorName]);
}

/** `value instanceof` the WebGPU class where the platform exposes it, else the methods we call. */
function isWebGpu(value: unknown, className: string, methods: readonly string[]): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const WebGpuClass = (globalThis as Record<string, unknown>)[className];
  if (typeof WebGpuClass === 'function') return value instanceof (WebGpuClass as new () => object);
  return methods.every((m) => typeof (value as Record<string, unknown>)[m] === 'function');
}

function isComputePass(value: unknown): value is GPUComputePassEncoder {
  return isWebGpu(value, 'GPUComputePassEncoder', ['dispatchWorkgroups', 'setPipeline', 'end']);
}

function isCommandEncoder(value: unknown): value is GPUCommandEncoder {
  return isWebGpu(value, 'GPUCommandEncoder', ['beginComputePass', 'finish']);
}
