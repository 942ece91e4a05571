import { WgslDiceError } from './core/errors.js';
import { WORKGROUP_BYTES_PER_THREAD } from './core/limits.js';
import { describeValue, optionalLabel, ownOptions } from './core/validate.js';
import { sourceLocation } from './kernels/compose.js';
import { reflectWgsl } from './kernels/reflect.js';
import { kernelSource, type KernelName } from './kernels/sources.js';
import { createClDiceLoss, type ClDiceLoss } from './losses/cldice.js';
import type { LossFactory } from './losses/factory.js';
import { FamilyLoss } from './losses/family.js';
import { DiceLoss } from './losses/seed-dice.js';
import { WassersteinDiceLoss } from './losses/wasserstein.js';
import { createPresets, type Presets } from './presets/index.js';
import { planProgram } from './program/planner.js';
import { gridProfileFor, type DeviceClass, type DeviceProfile, type GridProfile } from './program/profile.js';
import { pipelineKey, type LossProgram, type PipelineConstants } from './program/program.js';
import { deviceLossGuard, deviceLostError, type DeviceLossGuard } from './runtime/device-loss.js';
import type { HostedLoss, LossHost } from './runtime/host.js';
import type { CompiledPass } from './runtime/program-loss.js';
import { isClDiceOptions, type ClDiceOptions } from './spec/cldice.js';
import { normalizeLossOptions, normalizeMetricOptions, type LossOptions, type MetricOptions } from './spec/family.js';
import { normalizeDiceOptions, type DiceLossOptions } from './spec/seed.js';
import { normalizeWassersteinOptions, type WassersteinDiceOptions } from './spec/wasserstein.js';
// Below this, binding windows hold so few rows that ordinary shapes fail with BINDING_TOO_LARGE.
const MIN_BINDING_BYTES = 4096;

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
  readonly #kernels = new Map<
    KernelName,
    { bindGroupLayout: GPUBindGroupLayout; slots: ReadonlyMap<string, number> }
  >();
  readonly #losses = new Set<HostedLoss>();
  readonly #lossGuard: DeviceLossGuard;
  /** What the planner knows of this device: grid sizes, limits, the subgroup size if usable. */
  readonly #profile: DeviceProfile;
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
    const subgroups = options.subgroups !== false && device.features.has('subgroups') && info?.subgroupMinSize;
    this.#profile = { ...this.gridProfile, subgroupSize: subgroups ? info!.subgroupMinSize : undefined };
    this.#lossGuard = deviceLossGuard(device);
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
   * Creates a Dice loss for one shape and set of options (the seed's three losses: see
   * {@link DiceLossOptions}). Resolves once its pipelines are compiled.
   */
  async dice(options: DiceLossOptions): Promise<DiceLoss> {
    this._assertUsable();
    const normalized = normalizeDiceOptions(options);
    this.#requireF16(normalized);
    const program = planProgram({ kind: 'seed', options: normalized }, this.#profile);
    const loss = new DiceLoss(this, normalized, program, await this.#compile(program));
    this.#losses.add(loss);
    return loss;
  }

  /**
   * Creates a loss of the whole Dice family (activations, label maps, layouts, masks, every
   * peer's knobs, cross-entropy in the same passes): see {@link LossOptions}.
   */
  async loss(options: LossOptions): Promise<FamilyLoss>;
  /** clDice (MONAI's SoftclDiceLoss / SoftDiceclDiceLoss), its own pipeline: see {@link ClDiceOptions}. */
  async loss(options: ClDiceOptions): Promise<ClDiceLoss>;
  async loss(options: LossOptions | ClDiceOptions): Promise<FamilyLoss | ClDiceLoss> {
    // clDice has its own loss class (not yet a program), tracked for destroy() like the others.
    if (isClDiceOptions(options)) {
      this._assertUsable();
      const loss = await createClDiceLoss(this, options, this.gridProfile, this.label);
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
    const normalized = normalizeWassersteinOptions(options);
    this.#requireF16(normalized);
    const program = planProgram({ kind: 'wasserstein', options: normalized }, this.#profile);
    const loss = new WassersteinDiceLoss(this, normalized, program, await this.#compile(program));
    this.#losses.add(loss);
    return loss;
  }

  async #family(normalized: ReturnType<typeof normalizeLossOptions>): Promise<FamilyLoss> {
    this._assertUsable();
    this.#requireF16(normalized);
    const program = planProgram({ kind: 'family', options: normalized }, this.#profile);
    const loss = new FamilyLoss(this, normalized, program, await this.#compile(program));
    this.#losses.add(loss);
    return loss;
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
  async #compile(program: LossProgram): Promise<CompiledPass[]> {
    const passes = await Promise.all(
      program.passes.map(async (p) => {
        const kernel = this.#kernel(p.kernel);
        return {
          pipeline: await this.#pipeline(p.kernel, p.constants),
          bindGroupLayout: kernel.bindGroupLayout,
          slots: kernel.slots,
        };
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
  #kernel(name: KernelName): { bindGroupLayout: GPUBindGroupLayout; slots: ReadonlyMap<string, number> } {
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
      kernel = { bindGroupLayout, slots: new Map(bindings.map((b) => [b.name, b.binding])) };
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

  /** @internal Rejects with DEVICE_LOST instead of waiting forever on a lost device. */
  _whileDeviceAlive<T>(work: Promise<T>): Promise<T> {
    return this.#lossGuard.whileAlive(work);
  }

  #pipeline(name: KernelName, constants: PipelineConstants = {}): Promise<GPUComputePipeline> {
    const key = pipelineKey(name, constants);
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
            constants: Object.assign(
              Object.create(null),
              { WORKGROUP_SIZE: this.gridProfile.workgroupSize },
              constants,
            ),
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
