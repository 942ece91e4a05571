import { bindStorage, encodeBuffers, rejectOverlaps, requireEncoder, type Binding, type BufferArg } from './buffers.js';
import type { DiceEngine } from './engine.js';
import { WgslDiceError } from './errors.js';
import {
  packBackwardParams,
  packFinalizeParams,
  packReduceParams,
  UNIFORM_STRIDE,
  type DiceShaderName,
} from './kernels/dice-kernels.js';
import { groupWeights, type NormalizedDiceOptions } from './options.js';
import { toFloat16Bits } from './half.js';
import { stageInput, submitAndRead } from './host-io.js';
import type { BindingWindow, DicePlan } from './plan.js';
import { LossBase } from './loss-base.js';
import { whole } from './resources.js';

/** Buffers for one {@link DiceLoss.encode}: all caller-owned, all with STORAGE usage. */
export interface DiceEncodeBuffers {
  /** f32 probabilities, `[B, ...spatial, C]` channels-last. */
  pred: BufferArg;
  /** f32 targets (one-hot or soft), same shape as pred. */
  target: BufferArg;
  /** Receives the scalar loss (one f32). */
  loss: BufferArg;
  /** Receives dL/dpred (f32, same shape as pred); omit to run the forward pass only. */
  grad?: BufferArg;
  /**
   * Receives one vec4<f32> per (sample, class) group: (dice, intersection, sum of pred, sum of
   * target). Omit to use the loss's own {@link DiceLoss.statsBuffer}.
   */
  stats?: BufferArg;
}

/**
 * Host input for {@link DiceLoss.compute}: a Float32Array, the raw bits of f16 values in a
 * Uint16Array (predType f16; a Float32Array is rounded to f16 for you), or a GPU buffer.
 */
export type DiceInput = Float32Array | Uint16Array | BufferArg;

export interface DiceResult {
  loss: number;
  /**
   * One entry per group, sample-major: (sample, class) for per-class Dice, one per sample for
   * global Dice.
   */
  perClass: {
    dice: Float32Array;
    intersection: Float32Array;
    predSum: Float32Array;
    targetSum: Float32Array;
  };
  /** dL/dpred, present when `grad: true` was asked for. */
  grad?: Float32Array;
}

interface Pipelines {
  reduce: GPUComputePipeline;
  finalize: GPUComputePipeline;
  backward: GPUComputePipeline;
}

/**
 * One Dice loss of a fixed shape and options, created by {@link DiceEngine.dice}. It owns its
 * uniforms and scratch buffers (allocated once, here), borrows the caller's buffers, and
 * caches bind groups by the buffers they bind, so a steady training loop allocates nothing.
 */
export class DiceLoss extends LossBase {
  readonly options: NormalizedDiceOptions;
  /** @internal The planner's grid and windows for this loss (not public API; may change in any release). */
  readonly plan: DicePlan;
  /** The WGSL kernels this loss runs (shaders/NAME.wgsl, or a generated f16 variant of one). */
  readonly kernels: { reduce: DiceShaderName; finalize: DiceShaderName; backward: DiceShaderName };
  /** Number of Dice groups: B * C for per-class, B for global. */
  readonly groupCount: number;
  /** Default destination of the per-group stats (see {@link DiceEncodeBuffers.stats}). */
  readonly statsBuffer: GPUBuffer;

  readonly #pipelines: Pipelines;
  readonly #reduceParams: GPUBuffer;
  readonly #finalizeParams: GPUBuffer;
  readonly #backwardParams: GPUBuffer;
  readonly #weights: GPUBuffer;
  readonly #partials: GPUBuffer;
  readonly #coefs: GPUBuffer;
  #host: HostBuffers | undefined;

  /** @internal Use {@link DiceEngine.dice}. */
  constructor(
    engine: DiceEngine,
    options: NormalizedDiceOptions,
    plan: DicePlan,
    kernels: { reduce: DiceShaderName; finalize: DiceShaderName; backward: DiceShaderName },
    pipelines: Pipelines,
  ) {
    // One bind group per window of each pass, plus the finalize pass.
    super(engine, options.label, { what: 'Dice loss', createdBy: 'engine.dice()' }, plan.reduce.windows.length + 1 + plan.backward.windows.length);
    this.kernels = kernels;
    this.options = options;
    this.#pipelines = pipelines;
    this.plan = plan;
    this.groupCount = options.shape.batch * plan.groupsPerSlab;

    const u = GPUBufferUsage;
    const r = this.resources;
    this.#reduceParams = r.uniform('reduce params', packReduceParams(this.plan));
    this.#finalizeParams = r.uniform(
      'finalize params',
      packFinalizeParams(this.plan, options.smoothNumerator, options.smoothDenominator),
    );
    this.#backwardParams = r.uniform('backward params', packBackwardParams(this.plan));
    this.#weights = r.storage('group weights', groupWeights(options));
    this.#partials = r.buffer('partials', this.plan.reduce.partialVec4s * 16, u.STORAGE);
    this.#coefs = r.buffer('gradient coefficients', this.groupCount * 16, u.STORAGE);
    this.statsBuffer = r.buffer('stats', this.groupCount * 16, u.STORAGE | u.COPY_SRC);
  }

  get elementCount(): number {
    return this.options.shape.elements;
  }

  get #predElementBytes(): number {
    return this.options.predType === 'f16' ? 2 : 4;
  }

  /** Bytes pred must hold: f32 or f16 elements, in whole words. */
  get #predBytes(): number {
    return Math.ceil((this.elementCount * this.#predElementBytes) / 4) * 4;
  }

  /**
   * Records the forward pass (and the backward pass when `grad` is given) into the caller's
   * encoder. It submits nothing and reads nothing back; after the first call with a given set
   * of buffers it creates no GPU object at all.
   *
   * Every argument is checked before anything is recorded (a rejected call leaves the encoder
   * as it was), except whether a buffer was destroyed: WebGPU only reports that at submit, so
   * a destroyed buffer shows up as a validation error of the caller's `queue.submit`.
   *
   * @example
   * const encoder = device.createCommandEncoder();
   * loss.encode(encoder, { pred, target, loss: lossBuffer, grad: gradBuffer });
   * device.queue.submit([encoder.finish()]);
   */
  encode(encoder: GPUCommandEncoder, given: DiceEncodeBuffers): void {
    this.assertUsable();
    requireEncoder(encoder);
    const buffers = encodeBuffers<DiceEncodeBuffers>(given, ['pred', 'target', 'loss', 'grad', 'stats'], { statsBuffer: this.statsBuffer }, ['stats']);
    const bytes = this.elementCount * 4;
    const pred = bindStorage(this.device, 'pred', buffers.pred, this.#predBytes, true);
    const target = bindStorage(this.device, 'target', buffers.target, bytes, true);
    const loss = bindStorage(this.device, 'loss', buffers.loss, 4);
    const stats =
      buffers.stats === undefined
        ? { buffer: this.statsBuffer, offset: 0, size: this.groupCount * 16 }
        : bindStorage(this.device, 'stats', buffers.stats, this.groupCount * 16);
    const grad = buffers.grad === undefined ? undefined : bindStorage(this.device, 'grad', buffers.grad, bytes, true);
    // grad may overwrite pred in place: the reduce dispatch has read all of pred before the
    // backward dispatch writes grad. The backward dispatch reads target while writing grad.
    rejectOverlaps(
      { pred, target },
      { loss, stats: buffers.stats === undefined ? undefined : stats, grad },
      { inPlace: [['pred', 'grad']], sameDispatch: [['target', 'grad']] },
    );

    const { reduce, backward } = this.plan;
    const r = this.resources;
    const pass = encoder.beginComputePass({ label: `${this.options.label} dice` });
    pass.setPipeline(this.#pipelines.reduce);
    reduce.windows.forEach((w, i) => {
      const params = { buffer: this.#reduceParams, offset: i * UNIFORM_STRIDE, size: 48 };
      const inputs = [window(pred, w, this.#predElementBytes), window(target, w), whole(this.#partials)];
      pass.setBindGroup(0, r.bindGroup('reduce', this.#pipelines.reduce, params, inputs));
      pass.dispatchWorkgroups(w.count, reduce.colBlocks);
    });
    pass.setPipeline(this.#pipelines.finalize);
    pass.setBindGroup(
      0,
      r.bindGroup('finalize', this.#pipelines.finalize, this.#finalizeParams, [
        whole(this.#partials),
        whole(this.#weights),
        stats,
        whole(this.#coefs),
        loss,
      ]),
    );
    pass.dispatchWorkgroups(1);
    if (grad) {
      pass.setPipeline(this.#pipelines.backward);
      backward.windows.forEach((w, i) => {
        const params = { buffer: this.#backwardParams, offset: i * UNIFORM_STRIDE, size: 32 };
        const inputs = [window(target, w), whole(this.#coefs), window(grad, w)];
        pass.setBindGroup(0, r.bindGroup('backward', this.#pipelines.backward, params, inputs));
        pass.dispatchWorkgroups(w.count);
      });
    }
    pass.end();
  }

  /**
   * Runs the loss once and reads the results back: the convenient path for tests, tools and
   * inference-time evaluation. Inputs may be Float32Arrays (uploaded into buffers this loss
   * keeps for the next call) or GPU buffers. Calls on one loss run one after another.
   */
  compute(pred: DiceInput, target: DiceInput, options: { grad?: boolean } = {}): Promise<DiceResult> {
    return this.serializedCompute(pred, target, options, ['grad'], (p, t, o) => this.#computeNow(p, t, o));
  }

  async #computeNow(pred: DiceInput, target: DiceInput, options: { grad?: boolean }): Promise<DiceResult> {
    this.assertUsable();
    const wantGrad = options.grad === true;
    const host = (this.#host ??= this.#createHostBuffers());
    const device = this.device;
    const dims = this.options.shape.dims;
    const f16 = this.options.predType === 'f16';
    const predArg = stageInput(
      device,
      'pred',
      f16 && pred instanceof Float32Array ? toFloat16Bits(pred) : pred,
      host.pred,
      [f16 ? Uint16Array : Float32Array],
      this.elementCount,
      dims,
    );
    const targetArg = stageInput(device, 'target', target, host.target, [Float32Array], this.elementCount, dims);

    const statsBytes = this.groupCount * 16;
    const gradBytes = this.elementCount * 4;
    const bytes = await submitAndRead({
      engine: this.engine,
      label: `${this.options.label} compute`,
      record: (encoder) => {
        this.encode(encoder, {
          pred: predArg,
          target: targetArg,
          loss: host.loss,
          grad: wantGrad ? host.grad : undefined,
          stats: this.statsBuffer,
        });
        encoder.copyBufferToBuffer(host.loss, 0, host.readback, 0, 16);
        encoder.copyBufferToBuffer(this.statsBuffer, 0, host.readback, 16, statsBytes);
        if (wantGrad) encoder.copyBufferToBuffer(host.grad, 0, host.readback, 16 + statsBytes, gradBytes);
      },
      readback: host.readback,
      callerBuffers: { pred, target },
      assertUsable: () => this.assertUsable(),
    });
    const loss = new Float32Array(bytes, 0, 1)[0];
    const stats = new Float32Array(bytes, 16, this.groupCount * 4);
    const column = (k: number) => Float32Array.from({ length: this.groupCount }, (_, g) => stats[g * 4 + k]);
    const result: DiceResult = {
      loss,
      perClass: { dice: column(0), intersection: column(1), predSum: column(2), targetSum: column(3) },
    };
    if (wantGrad) result.grad = new Float32Array(bytes.slice(16 + statsBytes, 16 + statsBytes + gradBytes));
    rejectEmptyGroupWithoutSmoothing(this.options, result.perClass);
    return result;
  }

  #createHostBuffers(): HostBuffers {
    const u = GPUBufferUsage;
    const bytes = this.elementCount * 4;
    return {
      pred: this.resources.buffer('host pred', bytes, u.STORAGE | u.COPY_DST),
      target: this.resources.buffer('host target', bytes, u.STORAGE | u.COPY_DST),
      loss: this.resources.buffer('host loss', 16, u.STORAGE | u.COPY_SRC),
      grad: this.resources.buffer('host grad', bytes, u.STORAGE | u.COPY_SRC),
      readback: this.resources.buffer('readback', 16 + this.groupCount * 16 + bytes, u.MAP_READ | u.COPY_DST),
    };
  }



}

interface HostBuffers {
  pred: GPUBuffer;
  target: GPUBuffer;
  loss: GPUBuffer;
  grad: GPUBuffer;
  readback: GPUBuffer;
}

/** The part of a tensor binding that one window's dispatch reads or writes. */
function window(binding: Binding, w: BindingWindow, elementBytes = 4): Binding {
  // Binding sizes are whole words: an f16 window of odd length reads one element of slack,
  // which the binding of the whole tensor already holds.
  const size = Math.ceil((w.elementCount * elementBytes) / 4) * 4;
  return { buffer: binding.buffer, offset: binding.offset + w.elementBase * elementBytes, size };
}

/**
 * With epsilon's denominator 0, a group whose prediction and target are both empty has Dice 0/0:
 * compute() says so instead of returning NaN (encode() leaves NaN in the loss buffer, as documented).
 */
function rejectEmptyGroupWithoutSmoothing(o: NormalizedDiceOptions, perClass: DiceResult['perClass']): void {
  if (o.smoothDenominator !== 0) return;
  const group = perClass.predSum.findIndex((p, g) => p + perClass.targetSum[g] === 0);
  if (group >= 0) {
    throw new WgslDiceError(
      'INVALID_OPTION',
      `Dice group ${group} has an empty prediction and target and epsilon's denominator is 0, so its Dice is 0/0 (NaN); ` +
        'give epsilon a positive denominator, e.g. { numerator: 0, denominator: 1e-6 }.',
    );
  }
}
