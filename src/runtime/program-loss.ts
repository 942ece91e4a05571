import { sameBytes } from '../core/bytes.js';
import { WgslDiceError } from '../core/errors.js';
import { STATUS_BYTES, STATUS_PARTS_OFFSET, UNIFORM_STRIDE } from '../core/limits.js';
import {
  describeProgram,
  groupRule,
  groupRuns,
  type BindingRef,
  type HostType,
  type LossProgram,
  type PassGroup,
  type TensorName,
  type TensorSpec,
} from '../program/program.js';
import { bindStorage, describe, hostInputError, isBufferArg, rejectOverlaps, type Binding } from './caller-buffers.js';
import type { LossHost } from './host.js';
import { OwnedResources } from './owned-resources.js';
import { flattenNested } from './nested-input.js';
import { bindError, finishError, recordingError, RecordingChecks } from './recording-checks.js';
import { decodeStatus, readStatusBuffer, rejectBadInput, type InputStatus } from './status.js';
import { RunPacing } from './pacing.js';
import { submitAndRead } from './submit.js';

/** A pass's compiled pipeline, the `@binding` slot of each of its variables, and which it writes. */
export interface CompiledPass {
  readonly pipeline: GPUComputePipeline;
  readonly bindGroupLayout: GPUBindGroupLayout;
  readonly slots: ReadonlyMap<string, number>;
  /** The bindings the kernel declares `read_write`: a tensor bound to one is an output of that recording. */
  readonly writable: ReadonlySet<string>;
}

/**
 * The passes one recording runs (by index into the program), the tensors they bind with what
 * they do to each, and the (read, write) pairs bound in one dispatch.
 */
interface Selection {
  readonly passes: readonly number[];
  readonly access: ReadonlyMap<TensorName, 'read' | 'write'>;
  readonly sameDispatch: readonly [TensorName, TensorName][];
}

/** Where encode() records: a command encoder (one compute pass is begun) or a pass the caller began. */
export interface EncodeOptions {
  /** With a command encoder: timestamps written at the start and end of the loss's compute pass. */
  timestampWrites?: GPUComputePassTimestampWrites;
}

/** What {@link ProgramLoss.warmUp} reports after each pass it has run. */
export interface LossWarmUpProgress {
  /** Passes run so far, of `total`. */
  done: number;
  total: number;
  /** The pass just run (see {@link ProgramLoss.describe}). */
  pass: string;
  /** Milliseconds that pass took, compiling included. */
  ms: number;
}

/** Numbers the losses of this module's lifetime: each one's recordings carry a marker of its own. */
let lossSerial = 0;

/** What one compute() brought back. */
export interface ProgramOutput {
  readonly status: InputStatus;
  /** The status words after the faults: the loss and its parts as f32. */
  readonly parts: Float32Array;
  /** Each readback scratch buffer, by name. */
  readonly sections: ReadonlyMap<string, Float32Array>;
  readonly grad?: Float32Array;
  /** Whether the run skipped the 'from-inputs' passes, their results already in the shared scratch. */
  readonly reused: boolean;
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
 * It also owns what every loss shares: the GPU objects (freed in destroy()), and the rule that
 * compute() calls of one loss run one after another, since they share its upload and readback
 * buffers.
 */
export abstract class ProgramLoss {
  /** The passes, bindings and windows this loss records (see {@link describe}). */
  readonly program: LossProgram;
  protected readonly host: LossHost;
  protected readonly device: GPUDevice;
  protected readonly resources: OwnedResources;
  readonly #what: string;
  readonly #createdBy: string;
  #queue: Promise<unknown> = Promise.resolve();
  #statusReadback: GPUBuffer | undefined;
  #destroyed = false;
  readonly #checks: RecordingChecks;
  readonly #explainRecordingError: ReturnType<typeof recordingError>;
  /** The debug group its recordings run in: WebGPU's finish() errors quote it (RecordingChecks.watchFinishErrors). */
  readonly #marker: string;
  readonly #passes: readonly CompiledPass[];
  /** Each pass's uniform buffer (one buffer for the passes that share a named block). */
  readonly #uniforms: readonly GPUBuffer[];
  readonly #scratch = new Map<string, GPUBuffer>();
  readonly #tensors: ReadonlyMap<TensorName, TensorSpec>;
  /** What the buffer checks compare against, per set of passes recorded: derived once, not at every encode. */
  readonly #selections = new Map<string, Selection>();
  /** compute()'s upload, output and readback buffers, each made when a call first needs it. */
  readonly #host = new Map<string, GPUBuffer>();
  /** Set by {@link _freeComputeBuffersAfterEachCall}. */
  #freeComputeBuffers = false;
  /** How long compute() sleeps through a run before awaiting it (./pacing.ts). */
  readonly #pacing = new RunPacing();
  /** The generation of this loss's last recording of the 'from-inputs' passes (./shared-results.ts). */
  #fromInputsGeneration = 0;
  /** Set while compute() or warmUp() records: commands this loss submits itself, at once. */
  #ownSubmission = false;

  /**
   * @param naming names this kind of loss and the engine method that makes it, for error
   *   messages ('loss', 'engine.loss()').
   */
  protected constructor(
    host: LossHost,
    program: LossProgram,
    passes: readonly CompiledPass[],
    naming: { what: string; createdBy: string },
  ) {
    this.host = host;
    this.device = host.device;
    this.#what = naming.what;
    this.#createdBy = naming.createdBy;
    this.#checks = new RecordingChecks(host.device);
    this.#explainRecordingError = recordingError(program.label);
    this.#marker = `${program.label} encode #${++lossSerial}`;
    this.#checks.watchFinishErrors(this.#marker, finishError(program.label));
    // The bind groups one encode() uses (one per pass and binding window): see OwnedResources.
    const bindGroups = program.passes.reduce((n, p) => n + p.dispatches.length, 0);
    this.resources = new OwnedResources(host.device, program.label, bindGroups, this.#checks, bindError(program.label));
    this.program = program;
    this.#passes = passes;
    this.#tensors = new Map(program.tensors.map((t) => [t.name, t]));
    const u = GPUBufferUsage;
    const reusable = program.reusable;
    if (reusable) host._sharedResults.hold(reusable.key);
    for (const s of program.scratch) {
      // compute() reads some scratch back; wgsl-dice/tfjs copies the gradient coefficients out.
      const copySource = s.readable || s.name === program.gradientCoefficients ? u.COPY_SRC : 0;
      const usage = u.STORAGE | copySource;
      this.#scratch.set(
        s.name,
        s.contents
          ? this.resources.storage(s.name, s.contents, copySource)
          : reusable?.scratch.includes(s.name)
            ? host._sharedResults.buffer(reusable.key, s.name, s.bytes, () =>
                this.resources.unowned(`${s.name} (shared)`, s.bytes, usage),
              )
            : this.resources.buffer(s.name, s.bytes, usage),
      );
    }
    const shared = new Map<string, { buffer: GPUBuffer; bytes: ArrayBuffer }>();
    this.#uniforms = program.passes.map((p) => {
      if (p.uniformBlock === undefined) return this.resources.uniform(`${p.name} params`, p.uniforms);
      let block = shared.get(p.uniformBlock);
      if (!block) {
        block = { buffer: this.resources.uniform(p.uniformBlock, p.uniforms), bytes: p.uniforms };
        shared.set(p.uniformBlock, block);
      } else if (!sameBytes(new Uint8Array(block.bytes), new Uint8Array(p.uniforms))) {
        throw new Error(`internal error: passes share the uniform block '${p.uniformBlock}' with different contents`);
      }
      return block.buffer;
    });
  }

  /**
   * Resolves once WebGPU has validated everything this loss's encode() calls recorded so far;
   * rejects with the first mistake it found there that no other call of this loss has thrown
   * yet: `INVALID_INPUT` for a command encoder that was already finished, or a buffer of
   * another GPUDevice. WebGPU reports those asynchronously, so encode() cannot throw them
   * itself; the next encode(), compute() or readStatus() of the loss throws them too. After
   * your `encoder.finish()` it also reports what WebGPU found only there, if you did not catch
   * it in an error scope of your own: an encode() into an encoder with a compute pass of yours
   * still open, or into a pass already ended.
   */
  async checkEncodes(): Promise<void> {
    await this.#checks.settle();
    this.throwRecordingError();
  }

  /** Frees this loss's uniforms and scratch buffers. The caller's buffers are untouched. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#checks.dispose();
    this.resources.destroy();
    if (this.program.reusable) this.host._sharedResults.release(this.program.reusable.key);
    this.host._forget(this);
  }

  /**
   * @internal Destroys this loss once every call already queued on it has settled (for caches
   * that evict a loss another caller may still be computing with).
   */
  destroyWhenIdle(): void {
    void this.serialized(async () => this.destroy());
  }

  /** The input faults and loss of the last submitted run: see {@link STATUS_BYTES} in src/core/limits.ts. */
  get statusBuffer(): GPUBuffer {
    return this.scratchBuffer('status');
  }

  /** The passes this loss records, one line each: kernel, modes, dispatches, bindings. */
  describe(): string {
    return describeProgram(this.program);
  }

  /**
   * Reads the status written by the last submitted recording whose passes fold it (every
   * whole-program encode(); a group recorded alone, such as clDice's encodeTargetSkeleton,
   * leaves it as it was).
   */
  readStatus(): Promise<InputStatus> {
    // Serialized with compute() and other readStatus() calls: they share one readback buffer,
    // and a second mapAsync on it while the first is pending is an OperationError.
    return this.serialized(async () => {
      this.assertUsable();
      // A recording WebGPU rejected never ran: the status is not that of the last encode().
      await this.checkEncodes();
      this.#statusReadback ??= this.resources.buffer(
        'status readback',
        STATUS_BYTES,
        GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      );
      return readStatusBuffer(this.host, `${this.program.label} status`, this.statusBuffer, this.#statusReadback, () =>
        this.assertUsable(),
      );
    });
  }

  /**
   * @internal For caches of losses that only compute() now and then (the presets' evaluate()):
   * from now on each compute() destroys its tensor-sized upload, gradient and readback buffers
   * when it returns, so a cached loss holds only its scratch and uniforms (a few bytes per group)
   * between calls. A training loop should not: it would allocate those buffers on every call.
   */
  _freeComputeBuffersAfterEachCall(): void {
    this.#freeComputeBuffers = true;
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
   * binds (loss, and pred for the classic Dice losses) may be left out.
   */
  _encodeBackward(encoder: GPUCommandEncoder, buffers: Readonly<Partial<Record<TensorName, GPUBuffer>>>): void {
    if (!buffers.grad)
      throw new WgslDiceError('INVALID_INPUT', '_encodeBackward records the gradient: pass the grad buffer.');
    if (!this.program.passes.some((pass) => pass.group === 'backward')) {
      throw new WgslDiceError(
        'INVALID_INPUT',
        `${this.program.label} has no gradient (a metric on binarised predictions); use it without differentiating it.`,
      );
    }
    this.record(encoder, buffers, {}, ['backward']);
  }

  /**
   * Records the program: every group whose rule holds for the buffers given (see
   * {@link groupRule}), or only the passes of `groups`. Every argument is checked before
   * anything is recorded, so a rejected call leaves the encoder as it was.
   */
  protected record(
    target: GPUCommandEncoder | GPUComputePassEncoder,
    buffers: Readonly<Record<string, unknown>>,
    options: EncodeOptions = {},
    groups?: readonly PassGroup[],
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
    const given = (name: TensorName) => buffers[name] !== undefined;
    const selection = this.#select(
      this.program.passes.flatMap((pass, p) =>
        (groups ? groups.includes(pass.group) : groupRuns(groupRule(this.program, pass.group), given)) ? [p] : [],
      ),
    );
    const bound = this.#bindTensors(buffers, selection, groups !== undefined);
    this.checkedRecording(() => {
      const pass = intoPass
        ? target
        : target.beginComputePass({ label: `${this.program.label} passes`, timestampWrites: options.timestampWrites });
      this.#recordPasses(pass, selection.passes, bound);
      if (!intoPass) pass.end();
    }, target);
  }

  #recordPasses(pass: GPUComputePassEncoder, passes: readonly number[], bound: ReadonlyMap<TensorName, Binding>): void {
    const reusable = this.program.reusable;
    if (reusable && passes.some((p) => this.program.passes[p].group === 'from-inputs')) {
      this.#fromInputsGeneration = this.host._sharedResults.recorded(reusable.key, !this.#ownSubmission);
    }
    for (const p of passes) {
      const plan = this.program.passes[p];
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
        // Keyed by pass index too: passes may share a name and not a layout.
        const key = `${p} ${plan.name}`;
        pass.setBindGroup(0, this.resources.bindGroup(key, compiled.bindGroupLayout, params, entries));
        pass.dispatchWorkgroups(...dispatch.workgroups);
      }
    }
  }

  /**
   * Runs every pass of this loss once, every group, on zero inputs of its shape, and waits for
   * the GPU after each. Some adapters compile a pipeline only at its first dispatch (Mesa's
   * lavapipe and other software ones take seconds per pipeline there), so without this the first
   * training step, not engine.loss(), takes that time; `progress` hears after each pass. The
   * inputs are buffers of the loss's own, made for the call and destroyed after it; the loss's
   * statusBuffer and statsBuffer then hold the zero run's values. Calls of the loss made
   * meanwhile wait for it. On a GPU that compiled at creation it costs one small submit per pass.
   */
  async warmUp(progress?: (event: LossWarmUpProgress) => void): Promise<void> {
    this.assertUsable();
    if (progress !== undefined && typeof progress !== 'function') {
      throw new WgslDiceError(
        'INVALID_OPTION',
        `warmUp(progress) takes a function (or nothing), got ${describe(progress)}.`,
      );
    }
    return this.serialized(async () => {
      this.assertUsable();
      const u = GPUBufferUsage;
      const zeros = new Map<TensorName, GPUBuffer>();
      try {
        const every = this.#select(this.program.passes.map((_, p) => p));
        for (const spec of this.program.tensors) {
          // An optional tensor with a scratch of the same name is bound to that scratch.
          if (spec.optional && this.#scratch.has(spec.name)) continue;
          zeros.set(spec.name, this.resources.buffer(`warm-up ${spec.name}`, spec.bytes, u.STORAGE));
        }
        const bound = this.#bindTensors(Object.fromEntries(zeros), every, false);
        const total = this.program.passes.length;
        for (const [p, plan] of this.program.passes.entries()) {
          const start = performance.now();
          this.device.pushErrorScope('validation');
          let checked: Promise<GPUError | null>;
          try {
            const encoder = this.device.createCommandEncoder({ label: `${this.program.label} warm-up` });
            const pass = encoder.beginComputePass({ label: `${this.program.label} warm-up ${plan.name}` });
            this.#ownSubmission = true;
            try {
              this.#recordPasses(pass, [p], bound);
            } finally {
              this.#ownSubmission = false;
            }
            pass.end();
            this.device.queue.submit([encoder.finish()]);
          } finally {
            checked = this.device.popErrorScope();
          }
          const error = await checked;
          if (error) throw new WgslDiceError('GPU_ERROR', `The warm-up of ${plan.name} failed: ${error.message}`);
          await this.host._whileDeviceAlive(this.device.queue.onSubmittedWorkDone());
          this.assertUsable();
          progress?.({ done: p + 1, total, pass: plan.name, ms: performance.now() - start });
        }
      } finally {
        for (const buffer of zeros.values()) this.resources.release(buffer);
      }
    });
  }

  /** The tensors `passes` bind, whether they read or write each, and the pairs one dispatch binds together (cached). */
  #select(passes: readonly number[]): Selection {
    const key = passes.join(',');
    let selection = this.#selections.get(key);
    if (selection) return selection;
    const access = new Map<TensorName, 'read' | 'write'>();
    const pairs = new Set<string>();
    for (const p of passes) {
      const { writable } = this.#passes[p];
      for (const d of this.program.passes[p].dispatches) {
        const here = new Map<TensorName, 'read' | 'write'>();
        for (const [name, ref] of Object.entries(d.bindings)) {
          if (!('tensor' in ref)) continue;
          const use = writable.has(name) ? 'write' : 'read';
          if (here.get(ref.tensor) !== 'write') here.set(ref.tensor, use);
          if (access.get(ref.tensor) !== 'write') access.set(ref.tensor, use);
        }
        for (const [r, ru] of here)
          for (const [w, wu] of here) if (ru === 'read' && wu === 'write') pairs.add(`${r}|${w}`);
      }
    }
    selection = {
      passes,
      access,
      sameDispatch: [...pairs].map((pair) => pair.split('|') as [TensorName, TensorName]),
    };
    this.#selections.set(key, selection);
    return selection;
  }

  /**
   * Checks the caller's buffers against the program's tensors (usage, size, aliasing): every
   * tensor given, or with `onlySelected` only those the selected passes bind (a group recorded
   * alone). An optional tensor left out is bound to the loss's scratch of that name.
   */
  #bindTensors(
    buffers: Readonly<Record<string, unknown>>,
    selection: Selection,
    onlySelected: boolean,
  ): Map<TensorName, Binding> {
    const bound = new Map<TensorName, Binding>();
    for (const spec of this.program.tensors) {
      const used = selection.access.has(spec.name);
      if (onlySelected && !used) continue;
      const arg = buffers[spec.name];
      // A missing required buffer gets bindStorage's message, which says what to pass.
      if (arg === undefined && spec.optional && (!used || this.#scratch.has(spec.name))) continue;
      bound.set(spec.name, bindStorage(this.device, spec.name, arg, spec.bytes, spec.windowed));
    }
    const reads: Record<string, Binding | undefined> = {};
    const writes: Record<string, Binding | undefined> = {};
    for (const [name, binding] of bound) {
      const use = selection.access.get(name) ?? this.#tensors.get(name)!.access;
      (use === 'read' ? reads : writes)[name] = binding;
    }
    rejectOverlaps(reads, writes, { inPlace: this.program.inPlace, sameDispatch: selection.sameDispatch });
    return bound;
  }

  #resolve(ref: BindingRef, bound: ReadonlyMap<TensorName, Binding>): Binding {
    if ('scratch' in ref) {
      const buffer = this.scratchBuffer(ref.scratch);
      return { buffer, offset: ref.offset ?? 0, size: ref.size ?? buffer.size };
    }
    const tensor = bound.get(ref.tensor);
    // An optional tensor the caller left out binds the loss's own buffer of that name, window by window.
    if (!tensor) return { buffer: this.scratchBuffer(ref.tensor), offset: ref.offset, size: ref.size };
    return { buffer: tensor.buffer, offset: tensor.offset + ref.offset, size: ref.size };
  }

  /**
   * compute(): copies host arrays at call time (the caller may reuse them at once; nested arrays
   * are flattened and checked, see flattenNested), then, in
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
    return this.serialized(() =>
      this.#freeingComputeBuffers(async () => {
        const outputs: TensorName[] = wantGrad ? ['grad'] : [];
        // With reusable results (LossProgram.reusable) and host inputs equal to those of the
        // last run that wrote them, the 'from-inputs' passes are skipped: decided and recorded
        // with no await in between, so no other recording comes first.
        const shared = this.program.reusable ? this.host._sharedResults : undefined;
        const hostInputs = shared && hostArrays(staged);
        const reused = hostInputs ? shared!.matches(this.program.reusable!.key, hostInputs) : false;
        const submitted = this.#submit(reused ? new Map() : staged, outputs, {
          groups: reused ? this.#groupsBesides('from-inputs', outputs) : undefined,
          folds: true,
        });
        const generation = this.#fromInputsGeneration;
        const { bytes, sections } = await submitted;
        const status = decodeStatus(new Uint32Array(bytes, 0, STATUS_BYTES / 4));
        this.rejectInput(status, labelHint, predHint);
        if (hostInputs && !reused) shared!.completed(this.program.reusable!.key, generation, hostInputs);
        const out = new Map<string, Float32Array>();
        let at = STATUS_BYTES;
        this.program.readback.forEach((name, i) => {
          out.set(name, new Float32Array(bytes.slice(at, at + sections[i])));
          at += sections[i];
        });
        const gradBytes = this.#tensors.get('grad')?.bytes ?? 0;
        return {
          status,
          parts: new Float32Array(bytes.slice(STATUS_PARTS_OFFSET, STATUS_BYTES)),
          sections: out,
          grad: wantGrad ? new Float32Array(bytes.slice(at, at + gradBytes)) : undefined,
          reused,
        };
      }),
    );
  }

  /** Runs a compute() body; after it, frees compute()'s own buffers where asked to (_freeComputeBuffersAfterEachCall). */
  async #freeingComputeBuffers<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } finally {
      if (this.#freeComputeBuffers) {
        for (const buffer of this.#host.values()) this.resources.release(buffer);
        this.#host.clear();
      }
    }
  }

  /**
   * compute() for the passes of `groups` alone (clDice's targetSkeleton()): `inputs` copied at
   * the call as in {@link runOnce}, and the tensor `output` those passes write read back. No
   * status is read: a group recorded alone folds none.
   */
  protected runGroupsOnce(
    inputs: Readonly<Partial<Record<TensorName, unknown>>>,
    groups: readonly PassGroup[],
    output: TensorName,
  ): Promise<Float32Array> {
    this.assertUsable();
    this.throwRecordingError();
    const staged = this.#snapshot(inputs);
    return this.serialized(() =>
      this.#freeingComputeBuffers(
        async () => new Float32Array((await this.#submit(staged, [output], { groups, folds: false })).bytes),
      ),
    );
  }

  #snapshot(inputs: Readonly<Partial<Record<TensorName, unknown>>>): Map<TensorName, unknown> {
    const staged = new Map<TensorName, unknown>();
    for (const [name, given] of Object.entries(inputs) as [TensorName, unknown][]) {
      if (given === undefined) continue;
      const spec = this.#tensors.get(name);
      if (!spec?.host) throw new WgslDiceError('INVALID_INPUT', `This loss takes no ${name}.`);
      const type = HOST_ARRAYS[spec.host.type];
      const input = Array.isArray(given) ? flattenNested(name, given, spec.host.type, spec.host.elements) : given;
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

  /**
   * The groups a whole-program recording with the tensors `outputs` bound would run, less
   * `skipped`: what a run that reuses the 'from-inputs' results records.
   */
  #groupsBesides(skipped: PassGroup, outputs: readonly TensorName[]): PassGroup[] {
    const groups = new Set(this.program.passes.map((pass) => pass.group));
    return [...groups].filter(
      (group) => group !== skipped && groupRuns(groupRule(this.program, group), (name) => outputs.includes(name)),
    );
  }

  /**
   * Uploads the staged host arrays, records the program (or only `groups`) with compute()'s
   * own output buffers, and reads back: with `folds` (a run whose passes fold the status: the
   * whole program, or all of it but reused results) the status and the readback scratch (whose
   * sizes come back as `sections`), then each tensor of `outputs`.
   */
  async #submit(
    staged: ReadonlyMap<TensorName, unknown>,
    outputs: readonly TensorName[],
    { groups, folds }: { groups: readonly PassGroup[] | undefined; folds: boolean },
  ): Promise<{ bytes: ArrayBuffer; sections: number[] }> {
    this.assertUsable();
    const u = GPUBufferUsage;
    const buffers: Record<string, unknown> = {};
    for (const [name, value] of staged) {
      if (value instanceof Uint8Array) {
        const upload = this.#hostBuffer(`host ${name}`, this.#tensors.get(name)!.bytes, u.STORAGE | u.COPY_DST);
        this.device.queue.writeBuffer(upload, 0, value as Uint8Array<ArrayBuffer>);
        buffers[name] = upload;
      } else {
        buffers[name] = value;
      }
    }
    const whole = groups === undefined;
    if (folds) buffers.loss = this.#hostBuffer('host loss', 16, u.STORAGE | u.COPY_SRC);
    for (const name of outputs) {
      // Named apart from an upload of the same tensor (clDice's targetSkeleton is both).
      buffers[name] = this.#hostBuffer(`host ${name} out`, this.#tensors.get(name)!.bytes, u.STORAGE | u.COPY_SRC);
    }
    const sources: { buffer: GPUBuffer; bytes: number }[] = folds
      ? [
          { buffer: this.statusBuffer, bytes: STATUS_BYTES },
          ...this.program.readback.map((name) => ({
            buffer: this.scratchBuffer(name),
            bytes: this.scratchBuffer(name).size,
          })),
        ]
      : [];
    for (const name of outputs)
      sources.push({ buffer: buffers[name] as GPUBuffer, bytes: this.#tensors.get(name)!.bytes });
    const total = sources.reduce((n, source) => n + source.bytes, 0);
    const readback = this.#hostBuffer(
      `readback ${folds ? 'all' : groups!.join('+')}${outputs.map((o) => ` ${o}`).join('')}`,
      total,
      u.MAP_READ | u.COPY_DST,
    );
    const bytes = await this.explainingRecording(
      submitAndRead({
        host: this.host,
        label: `${this.program.label} compute`,
        record: (encoder) => {
          this.#ownSubmission = true;
          try {
            this.record(encoder, buffers, {}, groups);
          } finally {
            this.#ownSubmission = false;
          }
          let at = 0;
          for (const source of sources) {
            encoder.copyBufferToBuffer(source.buffer, 0, readback, at, source.bytes);
            at += source.bytes;
          }
        },
        readback,
        callerBuffers: Object.fromEntries(staged),
        assertUsable: () => this.assertUsable(),
        // Paced on whole-program runs only: a group recorded alone takes another time.
        pacing: whole ? this.#pacing : undefined,
      }),
    );
    return {
      bytes: bytes.slice(0, total),
      sections: folds ? sources.slice(1, 1 + this.program.readback.length).map((s) => s.bytes) : [],
    };
  }

  /**
   * One of compute()'s own buffers, made on first use: a call with GPU-buffer inputs and no
   * gradient makes none of tensor size.
   */
  #hostBuffer(name: string, bytes: number, usage: GPUBufferUsageFlags): GPUBuffer {
    let buffer = this.#host.get(name);
    if (!buffer) {
      buffer = this.resources.buffer(name, bytes, usage);
      this.#host.set(name, buffer);
    }
    return buffer;
  }

  /**
   * Runs `record`, this loss's commands on the caller's encoder or pass, checked by WebGPU (see
   * {@link checkEncodes}): into a finished encoder, each command is a validation error. With
   * `target` (the encoder or pass recorded into) the commands run in the loss's debug group, so
   * that errors WebGPU keeps until finish() can be told apart as this loss's.
   */
  protected checkedRecording(record: () => void, target?: GPUCommandEncoder | GPUComputePassEncoder): void {
    this.#checks.check(() => {
      target?.pushDebugGroup(this.#marker);
      try {
        record();
      } finally {
        target?.popDebugGroup();
      }
    }, this.#explainRecordingError);
  }

  /** Throws the mistake WebGPU found in an earlier recording of this loss, once. */
  protected throwRecordingError(): void {
    const error = this.#checks.take();
    if (error) throw error;
  }

  /**
   * Runs a submit of this loss's own (compute()): when WebGPU rejects it, the precise reason
   * found while recording (a buffer of another device) replaces WebGPU's bare error.
   */
  protected async explainingRecording<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (error) {
      await this.#checks.settle();
      throw this.#checks.take() ?? error;
    }
  }

  /** Runs `work` after every earlier call of this loss has settled. */
  protected serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  protected assertUsable(): void {
    if (this.#destroyed) {
      throw new WgslDiceError(
        'ENGINE_DESTROYED',
        `This ${this.#what} was destroyed; create a new one with ${this.#createdBy}.`,
      );
    }
    this.host._assertUsable();
  }

  /** The class count the label-range message names. */
  protected abstract get classCount(): number;

  /** Throws the typed error for the faults compute() read back (programs whose faults mean other things override it). */
  protected rejectInput(status: InputStatus, labelHint: string, predHint: string): void {
    rejectBadInput(status, this.classCount, labelHint, predHint);
  }
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

/** compute()'s staged inputs when all are host arrays (their copies), else undefined. */
function hostArrays(staged: ReadonlyMap<TensorName, unknown>): ReadonlyMap<TensorName, Uint8Array> | undefined {
  if (staged.size === 0) return undefined;
  for (const value of staged.values()) if (!(value instanceof Uint8Array)) return undefined;
  return staged as ReadonlyMap<TensorName, Uint8Array>;
}
