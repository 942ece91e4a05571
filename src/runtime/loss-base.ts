import { WgslDiceError } from '../core/errors.js';
import { STATUS_BYTES } from '../core/limits.js';
import type { LossHost } from './host.js';
import { OwnedResources } from './owned-resources.js';
import { bindError, finishError, recordingError, RecordingChecks } from './recording-checks.js';
import { readStatusBuffer, type InputStatus } from './status.js';

/** Numbers the losses of this module's lifetime: each one's recordings carry a marker of its own. */
let lossSerial = 0;

/**
 * What every loss shares: the engine and device it runs on, the GPU objects it owns (freed in
 * destroy()), and the rule that compute() calls of one loss run one after another, since they
 * share its upload and readback buffers.
 */
export abstract class LossBase {
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

  /**
   * @param what and createdBy name this kind of loss and the engine method that makes it, for
   *   error messages ('Dice loss', 'engine.dice()').
   * @param bindGroupsPerCall bind groups one encode() uses (see OwnedResources).
   */
  protected constructor(
    host: LossHost,
    label: string,
    naming: { what: string; createdBy: string },
    bindGroupsPerCall: number,
  ) {
    this.host = host;
    this.device = host.device;
    this.#what = naming.what;
    this.#createdBy = naming.createdBy;
    this.#checks = new RecordingChecks(host.device);
    this.#explainRecordingError = recordingError(label);
    this.#marker = `${label} encode #${++lossSerial}`;
    this.#checks.watchFinishErrors(this.#marker, finishError(label));
    this.resources = new OwnedResources(host.device, label, bindGroupsPerCall, this.#checks, bindError(label));
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
      await this.#checks.settled;
      throw this.#checks.take() ?? error;
    }
  }

  /** Frees this loss's uniforms and scratch buffers. The caller's buffers are untouched. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#checks.dispose();
    this.resources.destroy();
    this.host._forget(this);
  }

  /**
   * @internal Destroys this loss once every call already queued on it has settled (for caches
   * that evict a loss another caller may still be computing with).
   */
  destroyWhenIdle(): void {
    void this.serialized(async () => this.destroy());
  }

  /** Reads a status buffer written by this loss's last submitted passes (the encode path). */
  protected readStatusFrom(statusBuffer: GPUBuffer, label: string): Promise<InputStatus> {
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
      return readStatusBuffer(this.host, `${label} status`, statusBuffer, this.#statusReadback, () =>
        this.assertUsable(),
      );
    });
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
}
