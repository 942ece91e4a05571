import { WgslDiceError } from '../core/errors.js';
import { UNIFORM_STRIDE } from '../core/limits.js';
import { rejectUnknownKeys } from '../core/validate.js';
import type { GridProfile } from '../program/profile.js';
import {
  packClDiceFinalizeParams,
  packClDiceParams,
  clDiceGrids,
  type ClDiceKernel,
  type ClDiceGrids,
} from '../program/cldice.js';
import {
  bindStorage,
  rejectOverlaps,
  requireEncoder,
  type Binding,
  type BufferArg,
} from '../runtime/caller-buffers.js';
import { clDicePipelines, type ClDicePipelines } from '../runtime/cldice-pipelines.js';
import type { LossHost } from '../runtime/host.js';
import { LossBase } from '../runtime/loss-base.js';
import { whole } from '../runtime/owned-resources.js';
import { stageInput, submitAndRead } from '../runtime/submit.js';
import { normalizeClDiceOptions, type ClDiceOptions, type NormalizedClDiceOptions } from '../spec/cldice.js';

export interface ClDiceEncodeBuffers {
  /** f32 probabilities in the declared shape and layout. */
  pred: BufferArg;
  /** f32 target (one-hot or soft), same shape and layout as pred. */
  target: BufferArg;
  /** Receives the scalar loss (one f32). */
  loss: BufferArg;
  /** Receives dL/d(pred). */
  grad?: BufferArg;
  /**
   * The target's soft skeleton, from {@link ClDiceLoss.encodeTargetSkeleton} or
   * {@link ClDiceLoss.targetSkeleton}: given, the target passes are skipped (fixed labels).
   */
  targetSkeleton?: BufferArg;
}

export interface ClDiceResult {
  loss: number;
  clDice: number;
  softDice: number;
  /** Topology precision: how much of pred's skeleton lies in the target. */
  tprec: number;
  /** Topology sensitivity: how much of the target's skeleton pred covers. */
  tsens: number;
  grad?: Float32Array;
}

interface Scratch {
  /** x_1 .. x_{K+1}: eroded[k] = erode(x_k). */
  eroded: GPUBuffer[];
  /** delta_0 .. delta_K, overwritten by dL/d delta_k in the backward pass. */
  delta: GPUBuffer[];
  /** skel_0 .. skel_{K-1} (skel_K is the pred or target skeleton). */
  skeleton: GPUBuffer[];
  predSkeleton: GPUBuffer;
  targetSkeleton: GPUBuffer;
  gradSkeleton: GPUBuffer;
  /** Ping-pong dL/dx_k. */
  gradLevels: [GPUBuffer, GPUBuffer];
  choice: GPUBuffer;
  partials: GPUBuffer;
  coefficients: GPUBuffer;
}

/**
 * clDice of fixed shape and options (see {@link ClDiceOptions}), created by
 * `engine.loss({ formula: 'cl-dice', ... })`. Forward: soft skeletons of target and pred by
 * stencil passes (erode, then dilate fused with the skeleton update, per level), foreground
 * sums per workgroup, one finalize. Backward, level K down to 0: the skeleton recurrence
 * (elementwise), the dilation's choices, and two gathers that route gradients through them
 * with torch's tie rules. Every pass runs in binding windows of whole volumes; no atomics.
 */
export class ClDiceLoss extends LossBase {
  readonly options: NormalizedClDiceOptions;
  /** Two vec4<f32>: (loss, clDice, softDice, tprec), (tsens, 0, 0, 0). */
  readonly statsBuffer: GPUBuffer;
  readonly #pipelines: ClDicePipelines;
  readonly #grids: ClDiceGrids;
  readonly #params: { windows: GPUBuffer; finalize: GPUBuffer };
  readonly #scratch: Scratch;
  #host: Record<'pred' | 'target' | 'skeleton' | 'loss' | 'grad' | 'readback', GPUBuffer> | undefined;

  /** @internal Use {@link createClDiceLoss} (engine.loss). */
  constructor(host: LossHost, options: NormalizedClDiceOptions, pipelines: ClDicePipelines, grids: ClDiceGrids) {
    const K = options.skeletonIterations;
    const passesPerCall = 8 * (K + 1) + 1;
    super(
      host,
      options.label,
      { what: 'loss', createdBy: "engine.loss({ formula: 'cl-dice' })" },
      passesPerCall * grids.windows.length + 1,
    );
    this.options = options;
    this.#pipelines = pipelines;
    this.#grids = grids;
    const r = this.resources;
    const u = GPUBufferUsage;
    const volume = () => r.buffer('volume', options.elements * 4, u.STORAGE | u.COPY_SRC);
    const levels = (n: number) => Array.from({ length: n }, volume);
    this.#params = {
      windows: r.uniform('params', packClDiceParams(grids.geometry, grids.windows)),
      finalize: r.uniform('finalize params', packClDiceFinalizeParams(grids.workgroups, options.smooth, options.alpha)),
    };
    this.#scratch = {
      eroded: levels(K + 1),
      delta: levels(K + 1),
      skeleton: levels(K),
      predSkeleton: volume(),
      targetSkeleton: volume(),
      gradSkeleton: volume(),
      gradLevels: [volume(), volume()],
      choice: volume(),
      partials: r.buffer('partials', grids.workgroups * 32, u.STORAGE),
      coefficients: r.buffer('coefficients', 32, u.STORAGE),
    };
    this.statsBuffer = r.buffer('stats', 32, u.STORAGE | u.COPY_SRC);
  }

  /** Records the passes into the caller's encoder (no submit, no readback). */
  encode(encoder: GPUCommandEncoder, buffers: ClDiceEncodeBuffers): void {
    this.assertUsable();
    this.throwRecordingError();
    requireEncoder(encoder);
    if (typeof buffers !== 'object' || buffers === null) {
      throw new WgslDiceError('INVALID_INPUT', 'encode() needs { pred, target, loss, grad?, targetSkeleton? }.');
    }
    rejectUnknownKeys('encode() buffer', buffers, ['pred', 'target', 'loss', 'grad', 'targetSkeleton']);
    const bytes = this.options.elements * 4;
    const device = this.device;
    const pred = bindStorage(device, 'pred', buffers.pred, bytes, true);
    const target = bindStorage(device, 'target', buffers.target, bytes, true);
    const loss = bindStorage(device, 'loss', buffers.loss, 4);
    const grad = buffers.grad === undefined ? undefined : bindStorage(device, 'grad', buffers.grad, bytes, true);
    const given =
      buffers.targetSkeleton === undefined
        ? undefined
        : bindStorage(device, 'targetSkeleton', buffers.targetSkeleton, bytes, true);
    rejectOverlaps(
      { pred, target, targetSkeleton: given },
      { loss, grad },
      {
        sameDispatch: [
          ['pred', 'grad'],
          ['target', 'grad'],
          ['targetSkeleton', 'grad'],
        ],
      },
    );

    this.checkedRecording(() => {
      const pass = encoder.beginComputePass({ label: `${this.options.label} passes` });
      const targetSkeleton = given ?? whole(this.#scratch.targetSkeleton);
      if (!given) this.#encodeSkeleton(pass, target, targetSkeleton);
      this.#encodeSkeleton(pass, pred, whole(this.#scratch.predSkeleton));
      this.#encodeLoss(pass, pred, target, targetSkeleton, loss);
      if (grad) this.#encodeBackward(pass, pred, target, targetSkeleton, grad);
      pass.end();
    });
  }

  /**
   * Records the soft skeleton of `target` into `skeleton` (same shape and layout), for a trainer
   * with fixed labels to pass as `targetSkeleton` to every later encode().
   */
  encodeTargetSkeleton(encoder: GPUCommandEncoder, buffers: { target: BufferArg; skeleton: BufferArg }): void {
    this.assertUsable();
    this.throwRecordingError();
    requireEncoder(encoder);
    rejectUnknownKeys('encodeTargetSkeleton() buffer', buffers, ['target', 'skeleton']);
    const bytes = this.options.elements * 4;
    const target = bindStorage(this.device, 'target', buffers.target, bytes, true);
    const skeleton = bindStorage(this.device, 'skeleton', buffers.skeleton, bytes, true);
    rejectOverlaps({ target }, { skeleton }, { sameDispatch: [['target', 'skeleton']] });
    this.checkedRecording(() => {
      const pass = encoder.beginComputePass({ label: `${this.options.label} target skeleton` });
      this.#encodeSkeleton(pass, target, skeleton);
      pass.end();
    });
  }

  /** One kernel over every binding window; `bindings(view)` lists its storage bindings. */
  #run(
    pass: GPUComputePassEncoder,
    kernel: ClDiceKernel,
    bindings: (view: (b: Binding) => Binding) => Binding[],
  ): void {
    const pipeline = this.#pipelines[kernel];
    pass.setPipeline(pipeline);
    this.#grids.windows.forEach((w, i) => {
      const view = (b: Binding): Binding => ({
        buffer: b.buffer,
        offset: b.offset + w.elementBase * 4,
        size: w.elementCount * 4,
      });
      const params: Binding = { buffer: this.#params.windows, offset: i * UNIFORM_STRIDE, size: UNIFORM_STRIDE };
      pass.setBindGroup(0, this.resources.bindGroup(kernel, pipeline.getBindGroupLayout(0), params, bindings(view)));
      pass.dispatchWorkgroups(w.count);
    });
  }

  /** soft_skel(source) into `out`, keeping every level for the backward pass. */
  #encodeSkeleton(pass: GPUComputePassEncoder, source: Binding, out: Binding): void {
    const K = this.options.skeletonIterations;
    const s = this.#scratch;
    const level = (k: number) => (k === 0 ? source : whole(s.eroded[k - 1]));
    const skeleton = (k: number) => (k === K ? out : whole(s.skeleton[k]));
    for (let k = 0; k <= K; k++) {
      const next = whole(s.eroded[k]);
      this.#run(pass, 'erode', (v) => [v(level(k)), v(next)]);
      this.#run(pass, k === 0 ? 'skeleton_first' : 'skeleton', (v) => [
        v(next),
        v(level(k)),
        v(k === 0 ? next : skeleton(k - 1)),
        v(whole(s.delta[k])),
        v(skeleton(k)),
      ]);
    }
  }

  #encodeLoss(
    pass: GPUComputePassEncoder,
    pred: Binding,
    target: Binding,
    targetSkeleton: Binding,
    loss: Binding,
  ): void {
    const s = this.#scratch;
    this.#run(pass, 'sums', (v) => [
      v(pred),
      v(target),
      v(whole(s.predSkeleton)),
      v(targetSkeleton),
      whole(s.partials),
    ]);
    const finalize = this.#pipelines.finalize;
    pass.setPipeline(finalize);
    pass.setBindGroup(
      0,
      this.resources.bindGroup('finalize', finalize.getBindGroupLayout(0), this.#params.finalize, [
        whole(s.partials),
        loss,
        whole(this.statsBuffer),
        whole(s.coefficients),
      ]),
    );
    pass.dispatchWorkgroups(1);
  }

  #encodeBackward(
    pass: GPUComputePassEncoder,
    pred: Binding,
    target: Binding,
    targetSkeleton: Binding,
    grad: Binding,
  ): void {
    const K = this.options.skeletonIterations;
    const s = this.#scratch;
    const coefficients = whole(s.coefficients);
    const level = (k: number) => (k === 0 ? pred : whole(s.eroded[k - 1]));
    const gradLevel = (k: number) => whole(s.gradLevels[k % 2]);
    for (let k = K; k >= 0; k--) {
      const skeletonKernel: ClDiceKernel =
        k === K
          ? k === 0
            ? 'skeleton_backward_only'
            : 'skeleton_backward_top'
          : k === 0
            ? 'skeleton_backward_first'
            : 'skeleton_backward';
      const delta = whole(s.delta[k]);
      this.#run(pass, skeletonKernel, (v) => [
        coefficients,
        v(target),
        v(k === 0 ? target : whole(s.skeleton[k - 1])),
        v(delta),
        v(whole(s.gradSkeleton)),
      ]);
      this.#run(pass, 'dilate_choice', (v) => [v(whole(s.eroded[k])), v(whole(s.choice))]);
      this.#run(pass, k === K ? 'dilate_backward_first' : 'dilate_backward', (v) => [
        v(whole(s.choice)),
        v(delta),
        v(gradLevel(k + 1)),
      ]);
      this.#run(pass, k === 0 ? 'erode_backward_final' : 'erode_backward', (v) => [
        v(level(k)),
        v(gradLevel(k + 1)),
        v(delta),
        v(k === 0 ? grad : gradLevel(k)),
        coefficients,
        v(target),
        v(targetSkeleton),
      ]);
    }
  }

  /**
   * Runs the loss once on host arrays or GPU buffers and reads the result back. A non-finite
   * loss (NaN or infinity in pred or target) throws NON_FINITE_INPUT.
   */
  compute(
    pred: Float32Array | BufferArg,
    target: Float32Array | BufferArg,
    options: { grad?: boolean; targetSkeleton?: Float32Array | BufferArg } = {},
  ): Promise<ClDiceResult> {
    return this.serialized(() => this.#computeNow(pred, target, options));
  }

  /** The soft skeleton of `target` (same shape and layout), to pass as `targetSkeleton` later. */
  targetSkeleton(target: Float32Array | BufferArg): Promise<Float32Array> {
    return this.serialized(async () => {
      this.assertUsable();
      const o = this.options;
      const host = (this.#host ??= this.#createHostBuffers());
      const targetArg = stageInput(this.device, 'target', target, host.target, [Float32Array], o.elements, o.dims);
      const bytes = await this.explainingRecording(
        submitAndRead({
          host: this.host,
          label: `${o.label} target skeleton`,
          record: (encoder) => {
            this.encodeTargetSkeleton(encoder, { target: targetArg, skeleton: host.skeleton });
            encoder.copyBufferToBuffer(host.skeleton, 0, host.readback, 32, o.elements * 4);
          },
          readback: host.readback,
          callerBuffers: { target },
          assertUsable: () => this.assertUsable(),
        }),
      );
      return new Float32Array(bytes.slice(32, 32 + o.elements * 4));
    });
  }

  async #computeNow(
    pred: Float32Array | BufferArg,
    target: Float32Array | BufferArg,
    options: { grad?: boolean; targetSkeleton?: Float32Array | BufferArg },
  ): Promise<ClDiceResult> {
    this.assertUsable();
    if (typeof options !== 'object' || options === null) {
      throw new WgslDiceError('INVALID_OPTION', 'compute() options must be an object like { grad: true }.');
    }
    rejectUnknownKeys('compute() option', options, ['grad', 'targetSkeleton']);
    const o = this.options;
    const wantGrad = options.grad === true;
    const host = (this.#host ??= this.#createHostBuffers());
    const device = this.device;
    const predArg = stageInput(device, 'pred', pred, host.pred, [Float32Array], o.elements, o.dims);
    const targetArg = stageInput(device, 'target', target, host.target, [Float32Array], o.elements, o.dims);
    const skeletonArg =
      options.targetSkeleton === undefined
        ? undefined
        : stageInput(
            device,
            'targetSkeleton',
            options.targetSkeleton,
            host.skeleton,
            [Float32Array],
            o.elements,
            o.dims,
          );
    const gradBytes = o.elements * 4;
    const bytes = await this.explainingRecording(
      submitAndRead({
        host: this.host,
        label: `${o.label} compute`,
        record: (encoder) => {
          this.encode(encoder, {
            pred: predArg,
            target: targetArg,
            loss: host.loss,
            grad: wantGrad ? host.grad : undefined,
            targetSkeleton: skeletonArg,
          });
          encoder.copyBufferToBuffer(this.statsBuffer, 0, host.readback, 0, 32);
          if (wantGrad) encoder.copyBufferToBuffer(host.grad, 0, host.readback, 32, gradBytes);
        },
        readback: host.readback,
        callerBuffers: { pred, target, targetSkeleton: options.targetSkeleton },
        assertUsable: () => this.assertUsable(),
      }),
    );
    const [loss, clDice, softDice, tprec, tsens] = new Float32Array(bytes, 0, 5);
    if (!Number.isFinite(loss)) {
      throw new WgslDiceError(
        'NON_FINITE_INPUT',
        `the clDice loss came out ${loss}: pred, target or targetSkeleton holds NaN or infinity (or values so large their sums overflow f32).`,
      );
    }
    const result: ClDiceResult = { loss, clDice, softDice, tprec, tsens };
    if (wantGrad) result.grad = new Float32Array(bytes.slice(32, 32 + gradBytes));
    return result;
  }

  #createHostBuffers() {
    const r = this.resources;
    const u = GPUBufferUsage;
    const bytes = this.options.elements * 4;
    return {
      pred: r.buffer('host pred', bytes, u.STORAGE | u.COPY_DST),
      target: r.buffer('host target', bytes, u.STORAGE | u.COPY_DST),
      skeleton: r.buffer('host target skeleton', bytes, u.STORAGE | u.COPY_DST | u.COPY_SRC),
      loss: r.buffer('host loss', 16, u.STORAGE | u.COPY_SRC),
      grad: r.buffer('host grad', bytes, u.STORAGE | u.COPY_SRC),
      readback: r.buffer('readback', 32 + bytes, u.MAP_READ | u.COPY_DST),
    };
  }
}

/** Builds a clDice loss: options checked, grid and windows planned, pipelines compiled. */
export async function createClDiceLoss(
  host: LossHost,
  options: ClDiceOptions,
  profile: GridProfile,
  label: string,
): Promise<ClDiceLoss> {
  const normalized = normalizeClDiceOptions(options);
  const grids = clDiceGrids(normalized, profile);
  const pipelines = await clDicePipelines(host.device, label, profile.workgroupSize, normalized.rank);
  host._assertUsable();
  return new ClDiceLoss(host, normalized, pipelines, grids);
}
