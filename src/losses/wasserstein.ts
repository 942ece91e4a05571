import type { LossProgram } from '../program/program.js';
import { halfInput, widenGradient } from './family.js';
import type { VoxelGrids } from '../program/voxel.js';
import { encodeBuffers, type BufferArg } from '../runtime/caller-buffers.js';
import type { LossHost } from '../runtime/host.js';
import type { NestedNumbers } from '../runtime/nested-input.js';
import { ProgramLoss, type CompiledPass, type EncodeOptions } from '../runtime/program-loss.js';
import { snapshotCompute } from '../runtime/submit.js';
import type { NormalizedWassersteinOptions } from '../spec/wasserstein.js';

export interface WassersteinEncodeBuffers {
  /** Logits, f32 or f16 (`predType`), in the declared shape and layout. */
  pred: BufferArg;
  /** The packed integer label map `[B, ...spatial]`. */
  target: BufferArg;
  /** Receives the scalar loss (one f32). */
  loss: BufferArg;
  /** Receives dL/d(logits), f32 or f16 (`gradType`). */
  grad?: BufferArg;
}

export interface WassersteinResult {
  loss: number;
  /** Per sample: 1 - (2 TP + smooth_nr) / (den + smooth_dr). */
  perSample: Float32Array;
  grad?: Float32Array;
}

/**
 * MONAI's Generalized Wasserstein Dice loss of fixed shape and options (see
 * {@link WassersteinDiceOptions}), created by {@link DiceEngine.wassersteinDice}: a spec of the
 * one pipeline (src/program), with a voxel-major reduction with the softmax fused in, a
 * one-workgroup finalize and one elementwise backward pass, all in fixed order and in binding
 * windows for tensors of any size.
 */
export class WassersteinDiceLoss extends ProgramLoss {
  readonly options: NormalizedWassersteinOptions;
  /** The grids and binding windows of the passes. */
  readonly plan: VoxelGrids;

  /** @internal Use {@link DiceEngine.wassersteinDice}. */
  constructor(
    host: LossHost,
    options: NormalizedWassersteinOptions,
    program: LossProgram<VoxelGrids>,
    passes: readonly CompiledPass[],
  ) {
    super(host, program, passes, { what: 'loss', createdBy: 'engine.wassersteinDice()' });
    this.options = options;
    this.plan = program.grids;
  }

  /** Per sample, one vec4<f32>: (loss, TP, denominator, sum of Wasserstein distances). */
  get statsBuffer(): GPUBuffer {
    return this.scratchBuffer('stats');
  }

  /** Bytes the packed label map must hold. */
  get targetBytes(): number {
    return this.program.tensors.find((t) => t.name === 'target')!.bytes;
  }

  protected get classCount(): number {
    return this.options.classes;
  }

  /** Records the passes into the caller's encoder or an open compute pass (no submit, no readback). */
  encode(
    encoder: GPUCommandEncoder | GPUComputePassEncoder,
    given: WassersteinEncodeBuffers,
    options?: EncodeOptions,
  ): void {
    this.assertUsable();
    const owned = { statusBuffer: this.statusBuffer, statsBuffer: this.statsBuffer };
    this.record(
      encoder,
      encodeBuffers<WassersteinEncodeBuffers>(given, ['pred', 'target', 'loss', 'grad'], owned),
      options,
    );
  }

  /**
   * Runs the loss once on host arrays (copied at the call) or GPU buffers and reads everything
   * back; throws LABEL_OUT_OF_RANGE or NON_FINITE_INPUT rather than returning a silently wrong
   * number. f16 pred and grad as for {@link FamilyLoss.compute}.
   */
  async compute(
    pred: Float32Array | Uint16Array | NestedNumbers | BufferArg,
    target: Uint8Array | Uint16Array | Uint32Array | NestedNumbers | BufferArg,
    given: { grad?: boolean } = {},
  ): Promise<WassersteinResult> {
    this.assertUsable();
    // The caller's arrays are copied by the runtime at this call; only the options are read here.
    const { options } = snapshotCompute(null, null, given, ['grad']);
    const o = this.options;
    const out = await this.runOnce(
      { pred: halfInput(pred, o.predType), target },
      options.grad === true,
      'the distance matrix has no row for them.',
    );
    const stats = out.sections.get('stats')!;
    const result: WassersteinResult = {
      loss: out.parts[0],
      perSample: Float32Array.from({ length: o.batch }, (_, b) => stats[b * 4]),
    };
    if (out.grad) result.grad = widenGradient(out.grad, o.elements, o.gradType);
    return result;
  }
}
