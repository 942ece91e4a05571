import { WgslDiceError } from './core/errors.js';
import { MIN_BINDING_BYTES, WORKGROUP_BYTES_PER_THREAD } from './core/limits.js';
import { describeValue, optionalLabel, ownOptions, snapshotOptions } from './core/validate.js';
import { sourceLocation } from './kernels/compose.js';
import { reflectWgsl } from './kernels/reflect.js';
import { kernelSource, type KernelName } from './kernels/sources.js';
import { ClDiceLoss } from './losses/cldice.js';
import type { LossFactory } from './losses/factory.js';
import { FamilyLoss } from './losses/family.js';
import { DiceLoss } from './losses/seed-dice.js';
import { DistanceTransform, HausdorffDTLoss, SurfaceMetrics } from './losses/surface.js';
import { WassersteinDiceLoss } from './losses/wasserstein.js';
import { createPresets, type Presets } from './presets/index.js';
import { candidateChoices, shapeClassOf, type DeviceCaps } from './program/candidates.js';
import { planProgram } from './program/planner.js';
import {
  describeChoice,
  gridProfileFor,
  profileWithChoice,
  type DeviceClass,
  type DeviceProfile,
  type GridProfile,
  type PlanChoice,
} from './program/profile.js';
import { pipelineKey, type LossProgram, type PipelineConstants } from './program/program.js';
import {
  adapterKey,
  maxWorkgroupSize,
  parseTuningTable,
  tuningTable,
  type TuningEntry,
  type TuningTable,
} from './program/tuning-table.js';
import { deviceLossGuard, deviceLostError, type DeviceLossGuard } from './runtime/device-loss.js';
import type { HostedLoss, LossHost } from './runtime/host.js';
import { SharedResults } from './runtime/shared-results.js';
import type { CompiledPass, ProgramLoss } from './runtime/program-loss.js';
import type { LossSpec, TunableSpec } from './spec/index.js';
import { requireTimestamps } from './runtime/pass-timer.js';
import { tunePlans, type TuneOptions, type TuneResult } from './runtime/tune.js';
import { isClDiceOptions, normalizeClDiceOptions, type ClDiceOptions } from './spec/cldice.js';
import { normalizeLossOptions, normalizeMetricOptions, type LossOptions, type MetricOptions } from './spec/family.js';
import { normalizeDiceOptions, type DiceLossOptions } from './spec/seed.js';
import {
  isHausdorffDTOptions,
  normalizeDistanceTransformOptions,
  normalizeHausdorffDTOptions,
  normalizeSurfaceMetricsOptions,
  type DistanceTransformOptions,
  type HausdorffDTOptions,
  type SurfaceMetricsOptions,
} from './spec/surface.js';
import { normalizeWassersteinOptions, type WassersteinDiceOptions } from './spec/wasserstein.js';
/** A kernel's reflected bind group layout, its bindings' slots and which it writes. */
type KernelLayout = Omit<CompiledPass, 'pipeline'>;

export interface DiceEngineOptions {
  /** Threads per workgroup, a power of two (default 256, or the device's limit if lower). */
  workgroupSize?: number;
  /** Workgroups a pass aims for; default 8 on software adapters, 1024 on GPUs. */
  targetWorkgroups?: number;
  /**
   * Largest storage binding a pass uses (default: the device's maxStorageBufferBindingSize).
   * Larger tensors are processed in several binding windows with bitwise the same result;
   * a small value forces that path (tests do).
   */
  maxBindingBytes?: number;
  /**
   * Use the subgroup reduction where the device has the `subgroups` feature (default true);
   * false forces the workgroup-memory tree on every device.
   */
  subgroups?: boolean;
  /** Prefix for the labels of the GPU objects the engine creates. */
  label?: string;
  /**
   * Plan as for this kind of device whatever the adapter is (default: what the adapter is).
   * 'gpu' on a software adapter gives the plans a GPU would run, for analysis
   * (`npm run kernel-stats`) and tests; they compute the same results, only slower there.
   */
  deviceClass?: DeviceClass;
  /**
   * Plan choices `engine.tune()` found, from `engine.exportTuning()` (the object or its JSON
   * text): losses of a tuned shape class on the same adapter are planned with them. Entries
   * for other adapters are kept (and exported again) but not used.
   */
  tuning?: TuningTable | string;
}

/**
 * The per-device half of wgsl-dice: compiles each kernel once (asynchronously), hands out
 * losses, and frees everything it created in {@link DiceEngine.destroy}. The device and every
 * input/output buffer stay the caller's.
 *
 * @example
 * const engine = await DiceEngine.create(device);
 * const dice = await engine.dice({ shape: [2, 128, 128, 4], reduce: 'per-class' });
 * const { loss, grad } = await dice.compute(pred, target, { grad: true });
 */
export class DiceEngine implements LossHost, LossFactory {
  readonly device: GPUDevice;
  /** @internal What the planner knows of the adapter (not public API; may change in any release). */
  readonly gridProfile: GridProfile;
  readonly label: string;
  readonly #pipelines = new Map<string, Promise<GPUComputePipeline>>();
  readonly #kernels = new Map<KernelName, KernelLayout>();
  readonly #losses = new Set<HostedLoss>();
  readonly #lossGuard: DeviceLossGuard;
  /** What the planner knows of this device: grid sizes, limits, the subgroup size if usable. */
  readonly #profile: DeviceProfile;
  /** The device's smallest subgroup where subgroups may be used (what a choice of subgroups turns on). */
  readonly #subgroupSize: number | undefined;
  /** Which adapter tuned choices are kept for (see adapterKey). */
  readonly #adapter: string;
  /** Tuned choices by adapter and shape class, imported or found by tune(). */
  readonly #tuning = new Map<string, TuningEntry>();
  /** The spec of each loss this engine made on the program runtime: what tune() re-plans. */
  readonly #specs = new WeakMap<object, TunableSpec>();
  #destroyed = false;
  #presets: Presets | undefined;

  /**
   * The peer libraries' Dice-family APIs on this engine, with each library's own option names and
   * defaults: `engine.presets.monai.DiceLoss({ softmax: true, to_onehot_y: true })`, smp, keras, qsm, nnunet.
   */
  get presets(): Presets {
    return (this.#presets ??= createPresets(this));
  }

  private constructor(device: GPUDevice, options: DiceEngineOptions) {
    this.device = device;
    this.label = options.label ?? 'wgsl-dice';
    this.gridProfile = gridProfileFor(device, options);
    const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo & { subgroupMinSize?: number } }).adapterInfo;
    // `subgroups: false` takes subgroups off the table for tuned choices too.
    const subgroups = options.subgroups !== false && device.features.has('subgroups');
    this.#subgroupSize = subgroups ? info?.subgroupMinSize : undefined;
    this.#profile = { ...this.gridProfile, subgroupSize: this.#subgroupSize };
    this.#adapter = adapterKey(info, this.gridProfile.software ? 'software' : 'gpu');
    this.#lossGuard = deviceLossGuard(device);
    if (options.tuning !== undefined) this.importTuning(options.tuning);
  }

  static async create(device: GPUDevice, given: DiceEngineOptions = {}): Promise<DiceEngine> {
    if (typeof device !== 'object' || device === null || typeof device.createComputePipelineAsync !== 'function') {
      throw new WgslDiceError('INVALID_INPUT', 'DiceEngine.create needs a GPUDevice.');
    }
    const options = ownOptions<DiceEngineOptions>('engine option', given, [
      'workgroupSize',
      'targetWorkgroups',
      'maxBindingBytes',
      'subgroups',
      'label',
      'deviceClass',
      'tuning',
    ]);
    if (options.deviceClass !== undefined && options.deviceClass !== 'gpu' && options.deviceClass !== 'software') {
      throw new WgslDiceError(
        'INVALID_OPTION',
        `deviceClass must be 'gpu' or 'software', got ${describeValue(options.deviceClass)}.`,
      );
    }
    optionalLabel(options.label, 'wgsl-dice');
    if (options.subgroups !== undefined && typeof options.subgroups !== 'boolean') {
      throw new WgslDiceError('INVALID_OPTION', `subgroups must be true or false, got ${String(options.subgroups)}.`);
    }
    const size = options.workgroupSize;
    if (
      size !== undefined &&
      (!Number.isInteger(size) ||
        size < 1 ||
        (size & (size - 1)) !== 0 ||
        size > device.limits.maxComputeInvocationsPerWorkgroup ||
        size * WORKGROUP_BYTES_PER_THREAD > device.limits.maxComputeWorkgroupStorageSize)
    ) {
      const largest = Math.min(
        device.limits.maxComputeInvocationsPerWorkgroup,
        2 ** Math.floor(Math.log2(device.limits.maxComputeWorkgroupStorageSize / WORKGROUP_BYTES_PER_THREAD)),
      );
      throw new WgslDiceError(
        'INVALID_OPTION',
        `workgroupSize must be a power of two <= ${largest} on this device, got ${size}.`,
      );
    }
    const target = options.targetWorkgroups;
    if (target !== undefined && (!Number.isInteger(target) || target < 1)) {
      throw new WgslDiceError('INVALID_OPTION', `targetWorkgroups must be a positive integer, got ${target}.`);
    }
    const window = options.maxBindingBytes;
    const limit = device.limits.maxStorageBufferBindingSize;
    if (
      window !== undefined &&
      (!Number.isInteger(window) || window < MIN_BINDING_BYTES || window % 256 !== 0 || window > limit)
    ) {
      throw new WgslDiceError(
        'INVALID_OPTION',
        `maxBindingBytes must be a multiple of 256 in [${MIN_BINDING_BYTES}, ${limit}] (this device's ` +
          `maxStorageBufferBindingSize), got ${describeValue(window)}. It only caps binding windows, for tests; ` +
          'omit it to use the device limit.',
      );
    }
    return new DiceEngine(device, options);
  }

  /**
   * Creates a Dice loss for one shape and set of options (the three classic TensorFlow Dice losses: see
   * {@link DiceLossOptions}). Resolves once its pipelines are compiled.
   */
  async dice(options: DiceLossOptions): Promise<DiceLoss> {
    this._assertUsable();
    return this.#create({ kind: 'seed', options: normalizeDiceOptions(options) });
  }

  /**
   * Creates a loss of the whole Dice family (activations, label maps, layouts, masks, every
   * peer's knobs, cross-entropy in the same passes): see {@link LossOptions}.
   */
  async loss(options: LossOptions): Promise<FamilyLoss>;
  /** clDice (MONAI's SoftclDiceLoss / SoftDiceclDiceLoss): see {@link ClDiceOptions}. */
  async loss(options: ClDiceOptions): Promise<ClDiceLoss>;
  /** MONAI's HausdorffDTLoss / LogHausdorffDTLoss, forward and backward: see {@link HausdorffDTOptions}. */
  async loss(options: HausdorffDTOptions): Promise<HausdorffDTLoss>;
  async loss(
    given: LossOptions | ClDiceOptions | HausdorffDTOptions,
  ): Promise<FamilyLoss | ClDiceLoss | HausdorffDTLoss> {
    // One snapshot for every branch: the branch is chosen and the options checked on one read.
    const options = snapshotOptions(given);
    if (isHausdorffDTOptions(options)) {
      this._assertUsable();
      const normalized = normalizeHausdorffDTOptions(options);
      this.#requireF16(normalized);
      const program = planProgram({ kind: 'hausdorff-dt', options: normalized }, this.#profile);
      return this.#track(new HausdorffDTLoss(this, normalized, program, await this.#compile(program)));
    }
    if (isClDiceOptions(options)) {
      this._assertUsable();
      const normalized = normalizeClDiceOptions(options);
      this.#requireF16(normalized);
      const program = planProgram({ kind: 'cldice', options: normalized }, this.#profile);
      const loss = new ClDiceLoss(this, normalized, program, await this.#compile(program));
      this.#losses.add(loss);
      return loss;
    }
    return this.#family(normalizeLossOptions(options));
  }

  /**
   * The same sums on binarised predictions (argmax over classes, or a threshold), for hard
   * Dice and IoU metrics; no gradient. Read per-group tp and sums from the result's `groups`.
   */
  async metric(options: MetricOptions): Promise<FamilyLoss> {
    return this.#family(normalizeMetricOptions(options));
  }

  /**
   * MONAI's Generalized Wasserstein Dice loss on logits and a label map, forward and backward:
   * see {@link WassersteinDiceOptions}.
   *
   * @example
   * const gwdl = await engine.wassersteinDice({ shape: [2, 3, 64, 64], layout: 'channels-first', distanceMatrix: M });
   * const { loss, grad } = await gwdl.compute(logits, labels, { grad: true });
   */
  async wassersteinDice(options: WassersteinDiceOptions): Promise<WassersteinDiceLoss> {
    this._assertUsable();
    return this.#create({ kind: 'wasserstein', options: normalizeWassersteinOptions(options) });
  }

  /**
   * Times the plans a loss could run with on this device and keeps the fastest for its shape
   * class, as cuDNN's benchmark mode does: opt-in, because it compiles and runs every
   * candidate. Losses of that shape class this engine creates afterwards use the choice (the
   * loss given keeps its plan), and {@link exportTuning} hands the choices to an app to ship.
   * Each plan is bitwise repeatable; different plans add in different orders, so their results
   * agree within f32 rounding. Needs the device feature `timestamp-query` (FEATURE_MISSING
   * without it). clDice has no plan choices yet.
   *
   * @example
   * const probe = await engine.dice({ shape: [8, 512, 512, 4] });
   * const { plan, ms, defaultMs } = await engine.tune(probe);
   * const dice = await engine.dice({ shape: [8, 512, 512, 4] }); // planned with `plan`
   */
  async tune(loss: object, options: TuneOptions = {}): Promise<TuneResult> {
    this._assertUsable();
    requireTimestamps(this.device);
    const spec = this.#specs.get(loss);
    if (!spec) {
      throw new WgslDiceError(
        'INVALID_INPUT',
        `tune() takes a loss this engine made with dice(), loss(), metric() or wassersteinDice(), got ${describeValue(loss)} ` +
          '(clDice has no plan choices yet).',
      );
    }
    const defaultProgram = planProgram(spec, this.#profile);
    const result = await tunePlans(
      {
        host: this,
        defaultProgram,
        shapeClass: shapeClassOf(spec, defaultProgram),
        caps: this.#caps(),
        candidates: candidateChoices(spec, this.#profile, this.#caps()),
        plan: (choice) => this.#planned(spec, choice),
        create: async (choice) => this.#instantiate(spec, choice),
      },
      options,
    );
    this._assertUsable();
    const entry: TuningEntry = {
      adapter: this.#adapter,
      shapeClass: result.shapeClass,
      choice: result.choice,
      ms: result.ms,
      defaultMs: result.defaultMs,
    };
    this.#tuning.set(tuningKey(entry.adapter, entry.shapeClass), entry);
    return result;
  }

  /**
   * The plan choices tune() found (and those imported), as a JSON-ready table: pass it, or its
   * `JSON.stringify` text, to `DiceEngine.create(device, { tuning })` or {@link importTuning}.
   */
  exportTuning(): TuningTable {
    return tuningTable(this.#tuning.values());
  }

  /**
   * Adds the entries of a table from {@link exportTuning} (the object or its JSON text),
   * replacing those of the same adapter and shape class. Losses created afterwards use them.
   */
  importTuning(table: TuningTable | string): void {
    for (const entry of parseTuningTable(table, this.#adapter, this.#caps())) {
      this.#tuning.set(tuningKey(entry.adapter, entry.shapeClass), entry);
    }
  }

  /**
   * The exact distance transform of every (sample, class) mask (dense masks or label maps; 1D to
   * 3D; euclidean with spacing, chessboard or taxicab; signed or not): see
   * {@link DistanceTransformOptions}.
   *
   * @example
   * const dt = await engine.distanceTransform({ shape: [1, 3, 64, 64], layout: 'channels-first', target: 'u8' });
   * const distances = await dt.compute(labels); // Float32Array [1, 3, 64, 64]
   */
  async distanceTransform(options: DistanceTransformOptions): Promise<DistanceTransform> {
    this._assertUsable();
    const normalized = normalizeDistanceTransformOptions(options);
    const program = planProgram({ kind: 'distance-transform', options: normalized }, this.#profile);
    return this.#track(new DistanceTransform(this, normalized, program, await this.#compile(program)));
  }

  /**
   * Hausdorff distance (any percentile, directed or not), average surface distance and
   * normalised surface Dice of every (sample, class), from two masks or label maps, MONAI's
   * conventions, on the GPU: see {@link SurfaceMetricsOptions}.
   *
   * @example
   * const sm = await engine.surfaceMetrics({ shape: [1, 128, 128, 128, 4], target: 'u8', percentile: 95, tolerance: 1, includeBackground: false });
   * const { hausdorff, averageSurfaceDistance, surfaceDice } = await sm.compute(predLabels, targetLabels);
   */
  async surfaceMetrics(options: SurfaceMetricsOptions): Promise<SurfaceMetrics> {
    this._assertUsable();
    const normalized = normalizeSurfaceMetricsOptions(options);
    const program = planProgram({ kind: 'surface-metrics', options: normalized }, this.#profile);
    return this.#track(new SurfaceMetrics(this, normalized, program, await this.#compile(program)));
  }

  #track<L extends HostedLoss>(loss: L): L {
    this.#losses.add(loss);
    return loss;
  }

  async #family(normalized: ReturnType<typeof normalizeLossOptions>): Promise<FamilyLoss> {
    return this.#create({ kind: 'family', options: normalized });
  }

  /** A loss of `spec` planned with this engine's tuned choice for its shape class, if any. */
  async #create<S extends TunableSpec>(spec: S): Promise<LossOf<S>> {
    this._assertUsable();
    this.#requireF16(spec.options);
    // The shape class comes from the default plan: planned only when there is a choice to find.
    const tuned =
      this.#tuning.size === 0
        ? undefined
        : this.#tuning.get(tuningKey(this.#adapter, shapeClassOf(spec, planProgram(spec, this.#profile))));
    const loss = await this.#instantiate(spec, tuned?.choice);
    this.#losses.add(loss);
    this.#specs.set(loss, spec);
    return loss;
  }

  /** The program of `spec` with `choice` (undefined: the device class's plan) and its workgroup size. */
  #planned(spec: LossSpec, choice: PlanChoice | undefined): { program: LossProgram; workgroupSize: number } {
    if (choice === undefined)
      return { program: planProgram(spec, this.#profile), workgroupSize: this.#profile.workgroupSize };
    const profile = profileWithChoice(this.#profile, choice, this.#subgroupSize);
    const program = { ...planProgram(spec, profile), plan: `tuned, ${describeChoice(choice)}` };
    return { program, workgroupSize: profile.workgroupSize };
  }

  /** Plans, compiles and constructs a loss of `spec` (not yet tracked by the engine). */
  async #instantiate<S extends TunableSpec>(spec: S, choice: PlanChoice | undefined): Promise<LossOf<S>> {
    const { program, workgroupSize } = this.#planned(spec, choice);
    const passes = await this.#compile(program, workgroupSize);
    switch (spec.kind) {
      case 'seed':
        return new DiceLoss(this, spec.options, program as LossProgram<never>, passes) as LossOf<S>;
      case 'family':
        return new FamilyLoss(this, spec.options, program as LossProgram<never>, passes) as LossOf<S>;
      case 'wasserstein':
        return new WassersteinDiceLoss(this, spec.options, program as LossProgram<never>, passes) as LossOf<S>;
    }
    throw new Error(`internal error: no loss class for ${(spec as TunableSpec).kind}`);
  }

  #caps(): DeviceCaps {
    return { maxWorkgroupSize: maxWorkgroupSize(this.device.limits), subgroupSize: this.#subgroupSize };
  }

  /** FEATURE_MISSING where an f16 element type is asked of a device without 'shader-f16'. */
  #requireF16(o: { predType: 'f32' | 'f16'; gradType?: 'f32' | 'f16' }): void {
    const option = o.predType === 'f16' ? 'predType' : o.gradType === 'f16' ? 'gradType' : undefined;
    if (option && !this.device.features.has('shader-f16')) {
      throw new WgslDiceError(
        'FEATURE_MISSING',
        `${option} 'f16' needs the device feature 'shader-f16', which this device was not created with; ` +
          "request it in requestDevice({ requiredFeatures: ['shader-f16'] }) where the adapter offers it, or use f32.",
      );
    }
  }

  /** Compiles (or finds) the pipeline of each pass of a program planned for this device. */
  async #compile(program: LossProgram, workgroupSize = this.#profile.workgroupSize): Promise<CompiledPass[]> {
    const passes = await Promise.all(
      program.passes.map(async (p) => {
        const kernel = this.#kernel(p.kernel);
        return { pipeline: await this.#pipeline(p.kernel, p.constants, workgroupSize), ...kernel };
      }),
    );
    this._assertUsable();
    return passes;
  }

  /**
   * A kernel's bind group layout and binding slots, from its WGSL declarations (read once).
   * Explicit layouts, not 'auto': every declared binding is part of the layout, whether or not
   * the pipeline's modes use it, so one program shape binds every mode of a kernel.
   */
  #kernel(name: KernelName): KernelLayout {
    let kernel = this.#kernels.get(name);
    if (!kernel) {
      const bindings = reflectWgsl(kernelSource(name).code).bindings;
      const bindGroupLayout = this.device.createBindGroupLayout({
        label: `${this.label} ${name}`,
        entries: bindings.map((b) => ({
          binding: b.binding,
          visibility: GPUShaderStage.COMPUTE,
          buffer: {
            type:
              b.addressSpace === 'uniform' ? 'uniform' : b.access === 'read_write' ? 'storage' : 'read-only-storage',
          },
        })),
      });
      kernel = {
        bindGroupLayout,
        slots: new Map(bindings.map((b) => [b.name, b.binding])),
        writable: new Set(bindings.filter((b) => b.access === 'read_write').map((b) => b.name)),
      };
      this.#kernels.set(name, kernel);
    }
    return kernel;
  }

  /** Destroys every loss this engine created and drops its pipelines. */
  destroy(): void {
    if (this.#destroyed) return;
    for (const loss of [...this.#losses]) loss.destroy();
    this.#pipelines.clear();
    this.#kernels.clear();
    this.#destroyed = true;
  }

  /** @internal */
  _forget(loss: HostedLoss): void {
    this.#losses.delete(loss);
  }

  /** @internal */
  _assertUsable(): void {
    if (this.#destroyed) {
      throw new WgslDiceError('ENGINE_DESTROYED', 'This DiceEngine was destroyed; create a new one.');
    }
    const lost = this.#lossGuard.lostInfo;
    if (lost) throw deviceLostError(lost);
  }

  /**
   * @internal A kernel recorded outside a loss program (wgsl-dice/tfjs's scale_by): its pipeline
   * from this engine's cache, its reflected bind-group layout and its workgroup size.
   */
  async _standaloneKernel(
    name: KernelName,
  ): Promise<{ pipeline: GPUComputePipeline; layout: GPUBindGroupLayout; workgroupSize: number }> {
    const pipeline = await this.#pipeline(name);
    this._assertUsable();
    return { pipeline, layout: this.#kernel(name).bindGroupLayout, workgroupSize: this.gridProfile.workgroupSize };
  }

  /** @internal */
  readonly _sharedResults = new SharedResults();

  /** @internal Rejects with DEVICE_LOST instead of waiting forever on a lost device. */
  _whileDeviceAlive<T>(work: Promise<T>): Promise<T> {
    return this.#lossGuard.whileAlive(work);
  }

  #pipeline(
    name: KernelName,
    constants: PipelineConstants = {},
    workgroupSize = this.gridProfile.workgroupSize,
  ): Promise<GPUComputePipeline> {
    const key = pipelineKey(name, { ...constants, WORKGROUP_SIZE: workgroupSize });
    let pipeline = this.#pipelines.get(key);
    if (!pipeline) {
      const shader = kernelSource(name);
      const module = this.device.createShaderModule({ label: `${this.label} ${name}`, code: shader.code });
      pipeline = this.device
        .createComputePipelineAsync({
          label: `${this.label} ${key}`,
          layout: this.device.createPipelineLayout({
            label: `${this.label} ${name}`,
            bindGroupLayouts: [this.#kernel(name).bindGroupLayout],
          }),
          // No prototype: dawn.node reads inherited keys of `constants` too, so a polluted
          // Object.prototype would otherwise name constants that do not exist.
          compute: {
            module,
            entryPoint: 'main',
            constants: Object.assign(Object.create(null), { WORKGROUP_SIZE: workgroupSize }, constants),
          },
        })
        .catch(async (error: unknown) => {
          this.#pipelines.delete(key); // a later call tries again instead of reusing the failure
          // The pipeline error only says "invalid module"; the compiler's messages say why.
          const info = await module.getCompilationInfo();
          const messages = info.messages.map(
            (m) => `${sourceLocation(shader, m.lineNum)}:${m.linePos} ${m.type}: ${m.message}`,
          );
          throw new WgslDiceError(
            'GPU_ERROR',
            `Could not build the ${key} pipeline on this device: ${String((error as Error)?.message ?? error)}` +
              (messages.length ? `\n${messages.join('\n')}` : ''),
          );
        });
      this.#pipelines.set(key, pipeline);
    }
    return pipeline;
  }
}

/** The loss class each spec kind is run by. */
type LossOf<S extends TunableSpec> = S extends { kind: 'seed' }
  ? DiceLoss
  : S extends { kind: 'family' }
    ? FamilyLoss
    : S extends { kind: 'wasserstein' }
      ? WassersteinDiceLoss
      : ProgramLoss;

function tuningKey(adapter: string, shapeClass: string): string {
  return `${adapter}\n${shapeClass}`;
}
