import { bindStorage, encodeBuffers, rejectOverlaps, requireEncoder, type Binding, type BufferArg } from '../buffers.js';
import type { DiceEngine } from '../engine.js';
import { WgslDiceError } from '../errors.js';
import {
  packBackwardParams,
  needsVoxelStats,
  packClassInfo,
  packFinalizeParams,
  packReduceParams,
  packVoxelParams,
  type VoxelGrid,
} from '../kernels/family-kernels.js';
import { UNIFORM_STRIDE } from '../kernels/dice-kernels.js';
import { planColumns, planElementwise, planRangeWindows, type BindingWindow, type ColumnGrid, type GridProfile } from '../plan.js';
import { decodeStatus, rejectBadInput, stageInput, submitAndRead, type InputStatus } from '../host-io.js';
import { LossBase } from '../loss-base.js';
import { whole } from '../resources.js';
import { groupCount, type NormalizedLossOptions } from './options.js';

export interface LossEncodeBuffers {
  /** f32 probabilities or logits (see `activation`), in the declared shape and layout. */
  pred: BufferArg;
  /** Dense f32 targets of pred's shape, or the packed integer label map `[B, ...spatial]`. */
  target: BufferArg;
  /** Receives the scalar loss (one f32). */
  loss: BufferArg;
  /** Receives dL/d(pred input): w.r.t. logits when an activation is fused. */
  grad?: BufferArg;
  /** f32 voxel mask when the loss was created with `mask`. */
  mask?: BufferArg;
}

export type TargetInput = Float32Array | Uint8Array | Uint16Array | Uint32Array | BufferArg;

export interface LossResult {
  loss: number;
  /** The Dice-family term before lambdaDice (after gamma). */
  diceLoss: number;
  /** The cross-entropy term before its lambda (0 without crossEntropy). */
  crossEntropy: number;
  /** The focal term before its lambda (0 without focal). */
  focal: number;
  /**
   * With focal: per (sample, class) pair, sample-major, the focal terms' sum times the class's
   * alpha and weight, before the reduction's division (0 for classes outside the focal term).
   */
  pairFocal?: Float32Array;
  /** Per group (sample-major, then class): score, tp, sum of pred, sum of target, value, weight. */
  groups: {
    score: Float32Array;
    tp: Float32Array;
    predSum: Float32Array;
    targetSum: Float32Array;
    value: Float32Array;
    weight: Float32Array;
  };
  grad?: Float32Array;
}

export type { InputStatus } from '../host-io.js';

interface FamilyPipelines {
  voxelStats: GPUComputePipeline;
  reduce: GPUComputePipeline;
  finalize: GPUComputePipeline;
  backward: GPUComputePipeline;
}

/**
 * How a loss's passes are laid over the tensors, and cut in binding windows (see src/plan.ts)
 * when a tensor is larger than one storage binding. Window ranges (`elementBase`,
 * `elementCount`) are in voxels: a window binds voxels [v0, v0 + n) of the label map, the
 * per-sample mask and the voxel statistics, and elements [v0 * C, (v0 + n) * C) of pred, a dense
 * target and grad (channels-first windows hold whole samples, whose elements are contiguous).
 */
export interface FamilyPlan {
  /** Bytes per voxel of the widest windowed tensor: what a window's size is measured in. */
  readonly bytesPerVoxel: number;
  /** The column reduction: slabs are samples (channels-last) or (sample, class) pairs. */
  readonly reduce: ColumnGrid & { readonly slabs: number; readonly windows: readonly BindingWindow[] };
  /** The voxel-major passes (voxel statistics and backward share it). */
  readonly voxel: VoxelGrid & { readonly slabs: number; readonly windows: readonly BindingWindow[] };
}

/** Window starts are multiples of 256 voxels: a 256-byte offset into every tensor, u8 labels included. */
const WINDOW_ALIGN_VOXELS = 256;

/**
 * Plans the family's passes for a profile: the reduction grid (its chunks capped at half a window
 * channels-last, as planDice does) and the binding windows of every pass, via planRangeWindows.
 * Throws BINDING_TOO_LARGE when a channels-first sample does not fit in one window.
 */
export function planFamily(o: NormalizedLossOptions, profile: GridProfile): FamilyPlan {
  // pred, a dense target and grad take 4C bytes a voxel; voxel statistics 16; labels and a
  // per-sample mask at most 4.
  const bytesPerVoxel = Math.max(4 * o.classes, needsVoxelStats(o) ? 16 : 4);
  const voxels = o.batch * o.spatial;
  const align = WINDOW_ALIGN_VOXELS;
  if (!o.channelsFirst) {
    // A chunk fits in half a window, so every window holds at least one (as in planDice).
    const half = Math.floor(profile.maxBindingBytes / 2 / bytesPerVoxel);
    const grid = planColumns(o.batch, o.spatial, o.classes, profile, half);
    const reduceWindows = planRangeWindows(
      o.batch * grid.chunks,
      (linear) => {
        const slab = Math.floor(linear / grid.chunks);
        const lo = slab * o.spatial + (linear % grid.chunks) * grid.rowsPerChunk;
        return [lo, Math.min(lo + grid.rowsPerChunk, (slab + 1) * o.spatial)];
      },
      bytesPerVoxel,
      profile,
      align,
    );
    const e = planElementwise(1, voxels, profile, half);
    const voxelWindows = planRangeWindows(
      e.chunks,
      (linear) => [linear * e.unitsPerChunk, Math.min((linear + 1) * e.unitsPerChunk, voxels)],
      bytesPerVoxel,
      profile,
      align,
    );
    return {
      bytesPerVoxel,
      reduce: { ...grid, slabs: o.batch, windows: reduceWindows },
      voxel: { slabs: 1, slabVoxels: voxels, chunks: e.chunks, voxelsPerChunk: e.unitsPerChunk, windows: voxelWindows },
    };
  }

  // Channels-first: a voxel's classes lie S apart, so a window holds whole samples.
  let samples: BindingWindow[];
  try {
    samples = planRangeWindows(o.batch, (s) => [s * o.spatial, (s + 1) * o.spatial], bytesPerVoxel, profile, align, Infinity);
  } catch (error) {
    if (!(error instanceof WgslDiceError) || error.code !== 'BINDING_TOO_LARGE') throw error;
    throw new WgslDiceError(
      'BINDING_TOO_LARGE',
      `one channels-first sample (${o.classes} x ${o.spatial} elements; ${o.spatial * bytesPerVoxel} bytes in its widest ` +
        `tensor) does not fit ` +
        `in the ${profile.maxBindingBytes}-byte binding window: channels-first losses are windowed by whole samples. ` +
        `Use layout: 'channels-last' for such volumes (windowed by voxel ranges, any size), or raise ` +
        `maxStorageBufferBindingSize (requestNodeDevice asks for the adapter's maximum).`,
    );
  }
  const grid = planColumns(o.batch * o.classes, o.spatial, 1, profile);
  const e = planElementwise(o.batch, o.spatial, profile);
  // Each sample window runs all its samples' workgroups, in dispatches of at most the grid limit.
  const expand = (perSample: number): BindingWindow[] =>
    samples.flatMap((w) => {
      const pieces: BindingWindow[] = [];
      const end = (w.linearBase + w.count) * perSample;
      for (let linear = w.linearBase * perSample; linear < end; linear += profile.maxWorkgroupsPerDimension) {
        const count = Math.min(profile.maxWorkgroupsPerDimension, end - linear);
        pieces.push({ linearBase: linear, count, elementBase: w.elementBase, elementCount: w.elementCount });
      }
      return pieces;
    });
  return {
    bytesPerVoxel,
    reduce: { ...grid, slabs: o.batch * o.classes, windows: expand(o.classes * grid.chunks) },
    voxel: { slabs: o.batch, slabVoxels: o.spatial, chunks: e.chunks, voxelsPerChunk: e.unitsPerChunk, windows: expand(e.chunks) },
  };
}

/**
 * A Dice-family loss of fixed shape and options (see {@link LossOptions}), created by
 * {@link DiceEngine.loss}: activation, label maps, masks and cross-entropy fused into one
 * reduction, a one-workgroup finalize and one elementwise backward pass.
 */
export class FamilyLoss extends LossBase {
  readonly options: NormalizedLossOptions;
  readonly groupCount: number;
  /** Per group, two vec4<f32>: (score, tp, P, G) and (value, sum of min(p, g), target mass, weight). */
  readonly statsBuffer: GPUBuffer;
  /** 8 u32: bad labels, non-finite inputs, first bad voxel, first non-finite element, then the f32 bits of loss, Dice term, CE term, focal term. */
  readonly statusBuffer: GPUBuffer;
  /** The grids and binding windows of the passes. */
  readonly plan: FamilyPlan;

  readonly #pipelines: FamilyPipelines;
  readonly #params: { voxel: GPUBuffer; reduce: GPUBuffer; finalize: GPUBuffer; backward: GPUBuffer };
  readonly #scratch: { voxelStats: GPUBuffer; partials: GPUBuffer; classInfo: GPUBuffer; pairSums: GPUBuffer; coefs: GPUBuffer; noMask: GPUBuffer };
  #host: Record<'pred' | 'target' | 'mask' | 'loss' | 'grad' | 'readback', GPUBuffer> | undefined;

  /** @internal Use {@link DiceEngine.loss}. */
  constructor(engine: DiceEngine, options: NormalizedLossOptions, pipelines: FamilyPipelines) {
    const plan = planFamily(options, engine.gridProfile);
    // Voxel statistics and backward use the voxel windows, the reduce its own, plus finalize.
    super(engine, options.label, { what: 'loss', createdBy: 'engine.loss()' }, 2 * plan.voxel.windows.length + plan.reduce.windows.length + 1);
    this.plan = plan;
    this.options = options;
    this.#pipelines = pipelines;
    const o = options;
    const voxels = o.batch * o.spatial;
    this.groupCount = groupCount(o);
    const pairs = o.batch * o.classes;

    const r = this.resources;
    const u = GPUBufferUsage;
    this.#params = {
      voxel: r.uniform('voxel params', packVoxelParams(o, plan.voxel, plan.voxel.windows)),
      reduce: r.uniform('reduce params', packReduceParams(o, plan.reduce, plan.reduce.windows)),
      finalize: r.uniform('finalize params', packFinalizeParams(o, plan.reduce.chunks, this.groupCount)),
      backward: r.uniform('backward params', packBackwardParams(o, plan.voxel, plan.voxel.windows)),
    };
    this.#scratch = {
      voxelStats: r.buffer('voxel stats', needsVoxelStats(o) ? voxels * 16 : 16, u.STORAGE),
      partials: r.buffer('partials', plan.reduce.slabs * plan.reduce.chunks * plan.reduce.cols * 48, u.STORAGE),
      classInfo: r.storage('class info', packClassInfo(o)),
      pairSums: r.buffer('pair sums', pairs * 32, u.STORAGE | u.COPY_SRC),
      coefs: r.buffer('gradient coefficients', (2 * pairs + this.groupCount) * 16, u.STORAGE),
      noMask: r.buffer('no mask', 16, u.STORAGE),
    };
    this.statsBuffer = r.buffer('stats', this.groupCount * 32, u.STORAGE | u.COPY_SRC);
    this.statusBuffer = r.buffer('status', 32, u.STORAGE | u.COPY_SRC);
  }

  /** Bytes the target buffer must hold: f32 per element, or the packed label map. */
  get targetBytes(): number {
    const voxels = this.options.batch * this.options.spatial;
    switch (this.options.target) {
      case 'u8': return Math.ceil(voxels / 4) * 4;
      case 'u16': return Math.ceil(voxels / 2) * 4;
      case 'u32': return voxels * 4;
      default: return this.options.elements * 4;
    }
  }

  get maskBytes(): number {
    return (this.options.maskPerSample ? this.options.batch : 1) * this.options.spatial * 4;
  }

  /**
   * Records the passes into the caller's encoder (no submit, no readback; no GPU allocation
   * once the buffers have been seen).
   */
  encode(encoder: GPUCommandEncoder, given: LossEncodeBuffers): void {
    this.assertUsable();
    requireEncoder(encoder);
    const owned = { statusBuffer: this.statusBuffer, statsBuffer: this.statsBuffer };
    const buffers = encodeBuffers<LossEncodeBuffers>(given, ['pred', 'target', 'loss', 'grad', 'mask'], owned);
    const o = this.options;
    const device = this.device;
    // pred, target, grad and a per-sample mask are bound in binding windows (any size).
    const pred = bindStorage(device, 'pred', buffers.pred, o.elements * 4, true);
    const target = bindStorage(device, 'target', buffers.target, this.targetBytes, true);
    const loss = bindStorage(device, 'loss', buffers.loss, 4);
    let mask: Binding = whole(this.#scratch.noMask);
    if (o.mask !== 'none') {
      if (buffers.mask === undefined) {
        throw new WgslDiceError('INVALID_INPUT', `This loss was created with mask: '${o.mask}'; pass the mask buffer.`);
      }
      mask = bindStorage(device, 'mask', buffers.mask, this.maskBytes, o.maskPerSample); // a shared mask is bound whole
    } else if (buffers.mask !== undefined) {
      throw new WgslDiceError('INVALID_INPUT', "A mask was passed but this loss was created without one; create it with mask: 'weight' or 'logits'.");
    }
    let grad: Binding | undefined;
    if (buffers.grad !== undefined) {
      if (o.activation === 'argmax' || o.activation === 'threshold') {
        throw new WgslDiceError('INVALID_INPUT', 'Metrics on binarised predictions have no gradient; omit grad.');
      }
      grad = bindStorage(device, 'grad', buffers.grad, o.elements * 4, true);
    }
    // The backward dispatch binds pred, target and mask read-only next to grad.
    rejectOverlaps(
      { pred, target, mask: o.mask === 'none' ? undefined : mask },
      { loss, grad },
      { sameDispatch: [['pred', 'grad'], ['target', 'grad'], ['mask', 'grad']] },
    );

    const r = this.resources;
    const p = this.#pipelines;
    const s = this.#scratch;
    const { reduce, voxel } = this.plan;
    const params = (buffer: GPUBuffer, i: number): Binding => ({ buffer, offset: i * UNIFORM_STRIDE, size: UNIFORM_STRIDE });
    const stats = needsVoxelStats(o);
    // The parts of each windowed tensor that one window's dispatch binds.
    const views = (w: BindingWindow) => ({
      pred: this.#window(pred, w, 'elements'),
      target: this.#window(target, w, o.target === 'dense' ? 'elements' : o.target),
      mask: o.mask !== 'none' && o.maskPerSample ? this.#window(mask, w, 'u32') : mask,
      voxelStats: stats ? { buffer: s.voxelStats, offset: w.elementBase * 16, size: w.elementCount * 16 } : whole(s.voxelStats),
      grad: grad && this.#window(grad, w, 'elements'),
    });
    const pass = encoder.beginComputePass({ label: `${o.label} passes` });
    if (stats) {
      pass.setPipeline(p.voxelStats);
      voxel.windows.forEach((w, i) => {
        const v = views(w);
        pass.setBindGroup(0, r.bindGroup('voxel', p.voxelStats, params(this.#params.voxel, i), [v.pred, v.voxelStats, v.mask]));
        pass.dispatchWorkgroups(w.count);
      });
    }
    pass.setPipeline(p.reduce);
    reduce.windows.forEach((w, i) => {
      const v = views(w);
      const inputs = [v.pred, v.target, v.mask, v.voxelStats, whole(s.partials)];
      pass.setBindGroup(0, r.bindGroup('reduce', p.reduce, params(this.#params.reduce, i), inputs));
      pass.dispatchWorkgroups(w.count, reduce.colBlocks);
    });
    pass.setPipeline(p.finalize);
    pass.setBindGroup(
      0,
      r.bindGroup('finalize', p.finalize, this.#params.finalize, [
        whole(s.partials), whole(s.classInfo), whole(s.pairSums), whole(this.statsBuffer), whole(s.coefs), loss, whole(this.statusBuffer),
      ]),
    );
    pass.dispatchWorkgroups(1);
    if (grad) {
      pass.setPipeline(p.backward);
      voxel.windows.forEach((w, i) => {
        const v = views(w);
        const inputs = [v.pred, v.target, v.mask, whole(s.coefs), v.grad!, v.voxelStats];
        pass.setBindGroup(0, r.bindGroup('backward', p.backward, params(this.#params.backward, i), inputs));
        pass.dispatchWorkgroups(w.count);
      });
    }
    pass.end();
  }

  /**
   * The part of a tensor binding that a window (voxels [v0, v0 + n)) covers: C f32 elements a
   * voxel, one u32 (u32 labels, a per-sample mask), or packed labels in whole words (v0 is a
   * multiple of 256, so the offset is too).
   */
  #window(binding: Binding, w: BindingWindow, kind: 'elements' | 'u32' | 'u16' | 'u8'): Binding {
    const { elementBase: v0, elementCount: n } = w;
    const at = (offset: number, size: number): Binding => ({ buffer: binding.buffer, offset: binding.offset + offset, size });
    switch (kind) {
      case 'elements': return at(v0 * this.options.classes * 4, n * this.options.classes * 4);
      case 'u32': return at(v0 * 4, n * 4);
      case 'u16': return at(v0 * 2, Math.ceil(n / 2) * 4);
      case 'u8': return at(v0, Math.ceil(n / 4) * 4);
    }
  }

  /**
   * Runs the loss once on host arrays or GPU buffers and reads everything back. Throws
   * LABEL_OUT_OF_RANGE or NON_FINITE_INPUT (with the count and first index) when the input
   * was bad, rather than returning a silently wrong number.
   */
  compute(
    pred: Float32Array | BufferArg,
    target: TargetInput,
    options: { grad?: boolean; mask?: Float32Array | BufferArg } = {},
  ): Promise<LossResult> {
    return this.serializedCompute(pred, target, options, ['grad', 'mask'], (p, t, o) => this.#computeNow(p, t, o));
  }

  /** Reads the status written by the last submitted pass (for the encode path). */
  readStatus(): Promise<InputStatus> {
    return this.readStatusFrom(this.statusBuffer, this.options.label);
  }

  async #computeNow(
    pred: Float32Array | BufferArg,
    target: TargetInput,
    options: { grad?: boolean; mask?: Float32Array | BufferArg },
  ): Promise<LossResult> {
    this.assertUsable();
    const o = this.options;
    const wantGrad = options.grad === true;
    const host = (this.#host ??= this.#createHostBuffers());
    const device = this.device;
    const voxels = o.batch * o.spatial;
    const targetType = { dense: Float32Array, u8: Uint8Array, u16: Uint16Array, u32: Uint32Array }[o.target];
    const predArg = stageInput(device, 'pred', pred, host.pred, [Float32Array], o.elements, o.dims);
    const targetArg = stageInput(device, 'target', target, host.target, [targetType], o.target === 'dense' ? o.elements : voxels, o.dims);
    // A mask for a loss without one is not uploaded (its staging buffer is a 16-byte stub):
    // encode() then rejects it with a typed error before any GPU work.
    const maskArg =
      options.mask === undefined || o.mask === 'none'
        ? (options.mask as BufferArg | undefined)
        : stageInput(device, 'mask', options.mask, host.mask, [Float32Array], this.maskBytes / 4, o.dims);

    const statsBytes = this.groupCount * 32;
    const gradBytes = o.elements * 4;
    const pairBytes = o.focal ? o.batch * o.classes * 32 : 0;
    const pairAt = 32 + statsBytes + (wantGrad ? gradBytes : 0);
    const bytes = await submitAndRead({
      engine: this.engine,
      label: `${o.label} compute`,
      record: (encoder) => {
        this.encode(encoder, { pred: predArg, target: targetArg, loss: host.loss, grad: wantGrad ? host.grad : undefined, mask: maskArg });
        encoder.copyBufferToBuffer(this.statusBuffer, 0, host.readback, 0, 32);
        encoder.copyBufferToBuffer(this.statsBuffer, 0, host.readback, 32, statsBytes);
        if (wantGrad) encoder.copyBufferToBuffer(host.grad, 0, host.readback, 32 + statsBytes, gradBytes);
        if (pairBytes) encoder.copyBufferToBuffer(this.#scratch.pairSums, 0, host.readback, pairAt, pairBytes);
      },
      readback: host.readback,
      callerBuffers: { pred, target, mask: options.mask },
      assertUsable: () => this.assertUsable(),
    });
    const words = new Uint32Array(bytes, 0, 8);
    const parts = new Float32Array(bytes, 16, 4);
    const stats = new Float32Array(bytes, 32, statsBytes / 4);
    const grad = wantGrad ? new Float32Array(bytes.slice(32 + statsBytes, 32 + statsBytes + gradBytes)) : undefined;
    const pairSums = pairBytes ? new Float32Array(bytes, pairAt, pairBytes / 4) : undefined;
    rejectBadInput(decodeStatus(words), o.classes, 'fix the labels, or set ignoreIndex for a void label.');
    const column = (k: number) => Float32Array.from({ length: this.groupCount }, (_, g) => stats[g * 8 + k]);
    const result: LossResult = {
      loss: parts[0],
      diceLoss: parts[1],
      crossEntropy: parts[2],
      focal: parts[3],
      groups: { score: column(0), tp: column(1), predSum: column(2), targetSum: column(3), value: column(4), weight: column(7) },
    };
    if (grad) result.grad = grad;
    // Per pair, the second vec4 of pair_sums ends with the weighted focal sum.
    if (pairSums) result.pairFocal = Float32Array.from({ length: o.batch * o.classes }, (_, k) => pairSums[k * 8 + 7]);
    return result;
  }

  #createHostBuffers() {
    const r = this.resources;
    const u = GPUBufferUsage;
    const o = this.options;
    return {
      pred: r.buffer('host pred', o.elements * 4, u.STORAGE | u.COPY_DST),
      target: r.buffer('host target', this.targetBytes, u.STORAGE | u.COPY_DST),
      mask: r.buffer('host mask', o.mask === 'none' ? 16 : this.maskBytes, u.STORAGE | u.COPY_DST),
      loss: r.buffer('host loss', 16, u.STORAGE | u.COPY_SRC),
      grad: r.buffer('host grad', o.elements * 4, u.STORAGE | u.COPY_SRC),
      readback: r.buffer('readback', 32 + this.groupCount * 32 + o.elements * 4 + (o.focal ? o.batch * o.classes * 32 : 0), u.MAP_READ | u.COPY_DST),
    };
  }

}

