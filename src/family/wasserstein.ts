import { bindStorage, encodeBuffers, rejectOverlaps, requireEncoder, type Binding, type BufferArg } from '../buffers.js';
import type { DiceEngine } from '../engine.js';
import { optionalLabel, ownOptions, requireNonNegative, WgslDiceError } from '../errors.js';
import {
  packWassersteinBackwardParams,
  packWassersteinFinalizeParams,
  packWassersteinReduceParams,
} from '../kernels/family-kernels.js';
import { planColumns, planElementwise, type ColumnGrid } from '../plan.js';
import { LossBase } from '../loss-base.js';
import { whole } from '../resources.js';
import { decodeStatus, rejectBadInput, stageInput, submitAndRead, type InputStatus } from '../host-io.js';
import { parseLayoutShape } from './options.js';

/**
 * Options of {@link DiceEngine.wassersteinDice}: MONAI's GeneralizedWassersteinDiceLoss
 * (Fidon et al. 2017) on logits (always softmax over classes) and an integer label map, with
 * the per-sample class weights of the fixed batch > 1 behaviour (MONAI PR #8744).
 */
export interface WassersteinDiceOptions {
  /** Shape of pred: `[B, ...spatial, C]` (channels-last) or `[B, C, ...spatial]` (channels-first). */
  shape: readonly number[];
  /** Default 'channels-last'. */
  layout?: 'channels-last' | 'channels-first';
  /** The label map `[B, ...spatial]`: u8, u16 or u32 (default). */
  target?: 'u8' | 'u16' | 'u32';
  /** C x C distances between classes (row: the label), >= 0; normalised to a maximum of 1 as MONAI does. */
  distanceMatrix: readonly (readonly number[])[];
  /** 'default' (alpha 0 for class 0, 1 else) or 'GDL' (alpha_c = 1 / (volume_c + 1) per sample). */
  weighting?: 'default' | 'GDL';
  /** Over the per-sample losses: 'mean' (default), 'sum', or 'none' (scalar and gradient are the sum). */
  reduction?: 'mean' | 'sum' | 'none';
  smoothNumerator?: number;
  smoothDenominator?: number;
  label?: string;
}

export interface NormalizedWassersteinOptions {
  readonly dims: readonly number[];
  readonly batch: number;
  readonly classes: number;
  readonly spatial: number;
  readonly elements: number;
  readonly channelsFirst: boolean;
  readonly target: 'u8' | 'u16' | 'u32';
  /** Row-major C x C, normalised to a maximum of 1. */
  readonly distances: Float32Array<ArrayBuffer>;
  readonly weighting: 'default' | 'GDL';
  readonly reduction: 'mean' | 'sum' | 'none';
  readonly smoothNumerator: number;
  readonly smoothDenominator: number;
  readonly label: string;
}

const knownOptions = [
  'shape', 'layout', 'target', 'distanceMatrix', 'weighting', 'reduction', 'smoothNumerator', 'smoothDenominator', 'label',
] as const;

function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) {
    throw new WgslDiceError('INVALID_OPTION', `${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(value)}.`);
  }
  return value as T;
}

export function normalizeWassersteinOptions(options: unknown): NormalizedWassersteinOptions {
  if (typeof options !== 'object' || options === null) {
    throw new WgslDiceError('INVALID_OPTION', 'wassersteinDice() needs an options object with { shape, distanceMatrix }.');
  }
  const o = ownOptions<WassersteinDiceOptions>('wassersteinDice option', options, knownOptions);
  const channelsFirst = oneOf('layout', o.layout, ['channels-last', 'channels-first'] as const, 'channels-last') === 'channels-first';
  const shape = parseLayoutShape(o.shape, channelsFirst);
  const C = shape.classes;
  const matrix = o.distanceMatrix;
  if (!Array.isArray(matrix) || matrix.length !== C || matrix.some((row) => !Array.isArray(row) || row.length !== C)) {
    throw new WgslDiceError('INVALID_OPTION', `distanceMatrix must be a ${C} x ${C} array of arrays (C = ${C} classes).`);
  }
  const flat = (matrix as number[][]).flat();
  flat.forEach((d, i) => {
    if (typeof d !== 'number' || !Number.isFinite(d) || d < 0) {
      throw new WgslDiceError('INVALID_OPTION', `distanceMatrix[${Math.floor(i / C)}][${i % C}] must be a finite number >= 0, got ${String(d)}.`);
    }
  });
  const max = Math.max(...flat);
  if (!(max > 0)) throw new WgslDiceError('INVALID_OPTION', 'distanceMatrix is all zeros; it needs a positive distance to normalise by.');
  return {
    ...shape,
    channelsFirst,
    target: oneOf('target', o.target, ['u8', 'u16', 'u32'] as const, 'u32'),
    distances: Float32Array.from(flat, (d) => d / max),
    weighting: oneOf('weighting', o.weighting, ['default', 'GDL'] as const, 'default'),
    reduction: oneOf('reduction', o.reduction, ['mean', 'sum', 'none'] as const, 'mean'),
    smoothNumerator: o.smoothNumerator === undefined ? 1e-5 : requireNonNegative('smoothNumerator', o.smoothNumerator),
    smoothDenominator: o.smoothDenominator === undefined ? 1e-5 : requireNonNegative('smoothDenominator', o.smoothDenominator),
    label: optionalLabel(o.label, 'wgsl-dice wasserstein dice'),
  };
}

export interface WassersteinEncodeBuffers {
  /** f32 logits in the declared shape and layout. */
  pred: BufferArg;
  /** The packed integer label map `[B, ...spatial]`. */
  target: BufferArg;
  /** Receives the scalar loss (one f32). */
  loss: BufferArg;
  /** Receives dL/d(logits). */
  grad?: BufferArg;
}

export interface WassersteinResult {
  loss: number;
  /** Per sample: 1 - (2 TP + smooth_nr) / (den + smooth_dr). */
  perSample: Float32Array;
  grad?: Float32Array;
}

interface WassersteinPipelines {
  reduce: GPUComputePipeline;
  finalize: GPUComputePipeline;
  backward: GPUComputePipeline;
}


/**
 * MONAI's Generalized Wasserstein Dice loss of fixed shape and options (see
 * {@link WassersteinDiceOptions}), created by {@link DiceEngine.wassersteinDice}: one
 * voxel-major reduction with the softmax fused in, a one-workgroup finalize and one
 * elementwise backward pass, all in fixed order (no atomics).
 */
export class WassersteinDiceLoss extends LossBase {
  readonly options: NormalizedWassersteinOptions;
  /** Per sample, one vec4<f32>: (loss, TP, denominator, sum of Wasserstein distances). */
  readonly statsBuffer: GPUBuffer;
  /** 8 u32: bad labels, non-finite logits, first bad voxel, first non-finite element, the f32 bits of the loss, 0, 0, 0. */
  readonly statusBuffer: GPUBuffer;

  readonly #pipelines: WassersteinPipelines;
  readonly #grid: ColumnGrid;
  readonly #backwardChunks: number;
  readonly #params: { reduce: GPUBuffer; finalize: GPUBuffer; backward: GPUBuffer };
  readonly #scratch: { distances: GPUBuffer; partials: GPUBuffer; classSums: GPUBuffer };
  #host: Record<'pred' | 'target' | 'loss' | 'grad' | 'readback', GPUBuffer> | undefined;

  /** @internal Use {@link DiceEngine.wassersteinDice}. */
  constructor(engine: DiceEngine, options: NormalizedWassersteinOptions, pipelines: WassersteinPipelines) {
    super(engine, options.label, { what: 'loss', createdBy: 'engine.wassersteinDice()' }, 3);
    this.options = options;
    this.#pipelines = pipelines;
    const o = options;
    const profile = engine.gridProfile;
    this.#grid = planColumns(o.batch, o.spatial, o.classes, profile);
    const voxelPlan = planElementwise(1, o.batch * o.spatial, profile);
    this.#backwardChunks = voxelPlan.chunks;
    const r = this.resources;
    const u = GPUBufferUsage;
    this.#params = {
      reduce: r.uniform('reduce params', packWassersteinReduceParams(o, this.#grid)),
      finalize: r.uniform('finalize params', packWassersteinFinalizeParams(o, this.#grid.chunks)),
      backward: r.uniform('backward params', packWassersteinBackwardParams(o, voxelPlan.unitsPerChunk)),
    };
    this.#scratch = {
      distances: r.storage('distance matrix', o.distances),
      partials: r.buffer('partials', o.batch * this.#grid.chunks * o.classes * 32, u.STORAGE),
      classSums: r.buffer('class sums', o.batch * o.classes * 16, u.STORAGE),
    };
    this.statsBuffer = r.buffer('stats', o.batch * 16, u.STORAGE | u.COPY_SRC);
    this.statusBuffer = r.buffer('status', 32, u.STORAGE | u.COPY_SRC);
  }

  /** Bytes the packed label map must hold. */
  get targetBytes(): number {
    const voxels = this.options.batch * this.options.spatial;
    switch (this.options.target) {
      case 'u8': return Math.ceil(voxels / 4) * 4;
      case 'u16': return Math.ceil(voxels / 2) * 4;
      default: return voxels * 4;
    }
  }

  /** Records the passes into the caller's encoder (no submit, no readback). */
  encode(encoder: GPUCommandEncoder, given: WassersteinEncodeBuffers): void {
    this.assertUsable();
    requireEncoder(encoder);
    const owned = { statusBuffer: this.statusBuffer, statsBuffer: this.statsBuffer };
    const buffers = encodeBuffers<WassersteinEncodeBuffers>(given, ['pred', 'target', 'loss', 'grad'], owned);
    const o = this.options;
    const device = this.device;
    const pred = bindStorage(device, 'pred', buffers.pred, o.elements * 4);
    const target = bindStorage(device, 'target', buffers.target, this.targetBytes);
    const loss = bindStorage(device, 'loss', buffers.loss, 4);
    const grad: Binding | undefined = buffers.grad === undefined ? undefined : bindStorage(device, 'grad', buffers.grad, o.elements * 4);
    rejectOverlaps({ pred, target }, { loss, grad }, { sameDispatch: [['pred', 'grad'], ['target', 'grad']] });

    const r = this.resources;
    const p = this.#pipelines;
    const s = this.#scratch;
    const pass = encoder.beginComputePass({ label: `${o.label} passes` });
    pass.setPipeline(p.reduce);
    pass.setBindGroup(0, r.bindGroup('reduce', p.reduce, this.#params.reduce, [pred, target, whole(s.distances), whole(s.partials)]));
    pass.dispatchWorkgroups(this.#grid.chunks, this.#grid.colBlocks, o.batch);
    pass.setPipeline(p.finalize);
    pass.setBindGroup(
      0,
      r.bindGroup('finalize', p.finalize, this.#params.finalize, [
        whole(s.partials), whole(s.classSums), whole(this.statsBuffer), loss, whole(this.statusBuffer),
      ]),
    );
    pass.dispatchWorkgroups(1);
    if (grad) {
      pass.setPipeline(p.backward);
      pass.setBindGroup(0, r.bindGroup('backward', p.backward, this.#params.backward, [pred, target, whole(s.distances), whole(s.classSums), grad]));
      pass.dispatchWorkgroups(this.#backwardChunks);
    }
    pass.end();
  }

  /**
   * Runs the loss once on host arrays or GPU buffers and reads everything back; throws
   * LABEL_OUT_OF_RANGE or NON_FINITE_INPUT rather than returning a silently wrong number.
   */
  compute(
    pred: Float32Array | BufferArg,
    target: Uint8Array | Uint16Array | Uint32Array | BufferArg,
    options: { grad?: boolean } = {},
  ): Promise<WassersteinResult> {
    return this.serializedCompute(pred, target, options, ['grad'], (p, t, o) => this.#computeNow(p, t, o));
  }

  /** Reads the status written by the last submitted pass (for the encode path). */
  readStatus(): Promise<InputStatus> {
    return this.readStatusFrom(this.statusBuffer, this.options.label);
  }

  async #computeNow(
    pred: Float32Array | BufferArg,
    target: Uint8Array | Uint16Array | Uint32Array | BufferArg,
    options: { grad?: boolean },
  ): Promise<WassersteinResult> {
    this.assertUsable();
    const o = this.options;
    const wantGrad = options.grad === true;
    const host = (this.#host ??= this.#createHostBuffers());
    const device = this.device;
    const targetType = { u8: Uint8Array, u16: Uint16Array, u32: Uint32Array }[o.target];
    const predArg = stageInput(device, 'pred', pred, host.pred, [Float32Array], o.elements, o.dims);
    const targetArg = stageInput(device, 'target', target, host.target, [targetType], o.batch * o.spatial, o.dims);

    const statsBytes = o.batch * 16;
    const gradBytes = o.elements * 4;
    const bytes = await submitAndRead({
      engine: this.engine,
      label: `${o.label} compute`,
      record: (encoder) => {
        this.encode(encoder, { pred: predArg, target: targetArg, loss: host.loss, grad: wantGrad ? host.grad : undefined });
        encoder.copyBufferToBuffer(this.statusBuffer, 0, host.readback, 0, 32);
        encoder.copyBufferToBuffer(this.statsBuffer, 0, host.readback, 32, statsBytes);
        if (wantGrad) encoder.copyBufferToBuffer(host.grad, 0, host.readback, 32 + statsBytes, gradBytes);
      },
      readback: host.readback,
      callerBuffers: { pred, target },
      assertUsable: () => this.assertUsable(),
    });
    const words = new Uint32Array(bytes, 0, 8);
    const stats = new Float32Array(bytes, 32, statsBytes / 4);
    const grad = wantGrad ? new Float32Array(bytes.slice(32 + statsBytes, 32 + statsBytes + gradBytes)) : undefined;
    rejectBadInput(decodeStatus(words), o.classes, 'the distance matrix has no row for them.');
    const result: WassersteinResult = {
      loss: new Float32Array(words.buffer, 16, 1)[0],
      perSample: Float32Array.from({ length: o.batch }, (_, b) => stats[b * 4]),
    };
    if (grad) result.grad = grad;
    return result;
  }

  #createHostBuffers() {
    const r = this.resources;
    const u = GPUBufferUsage;
    const o = this.options;
    return {
      pred: r.buffer('host pred', o.elements * 4, u.STORAGE | u.COPY_DST),
      target: r.buffer('host target', this.targetBytes, u.STORAGE | u.COPY_DST),
      loss: r.buffer('host loss', 16, u.STORAGE | u.COPY_SRC),
      grad: r.buffer('host grad', o.elements * 4, u.STORAGE | u.COPY_SRC),
      readback: r.buffer('readback', 32 + o.batch * 16 + o.elements * 4, u.MAP_READ | u.COPY_DST),
    };
  }



}

