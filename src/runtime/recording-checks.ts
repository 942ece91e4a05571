import { WgslDiceError } from '../core/errors.js';

/** Turns the WebGPU error of one checked recording step into the error the caller sees. */
export type ExplainError = (error: GPUError) => WgslDiceError;

/**
 * What WebGPU says about a loss's recording, as typed errors. Some mistakes in an encode() call
 * are invisible to JavaScript: WebGPU objects expose no device, and an encoder no state. The
 * device does judge them, though: a command recorded into a finished encoder, or a bind group
 * over a buffer of another device, is a validation error raised on the spot. Each such step runs in a
 * validation error scope of its own (so the error is attributed to it and to nothing else), and
 * the first error is kept until {@link take} hands it to the next call of the loss. A scope costs
 * one pushErrorScope and one popErrorScope promise: no GPU object.
 */
export class RecordingChecks {
  readonly #device: GPUDevice;
  #first: WgslDiceError | undefined;
  #settled: Promise<void> = Promise.resolve();
  #stopWatching: (() => void) | undefined;

  constructor(device: GPUDevice) {
    this.#device = device;
  }

  /**
   * Mistakes WebGPU reports only at the caller's `encoder.finish()`: commands recorded into an
   * encoder locked by a compute pass the caller still has open, or into a pass already ended.
   * The encoder keeps them until finish(), so no error scope of encode() sees them; WebGPU
   * then raises them on the encoder's device, naming the command that failed. The loss records
   * its commands inside a debug group called `marker` (unique to the loss), which that message
   * quotes: an uncaptured error that names it becomes `explain(error)` here. It is not
   * prevented: the caller's own handlers see WebGPU's error as before. Errors the caller
   * captures in an error scope around finish() are theirs, and an encoder of another device
   * reports to that device.
   */
  watchFinishErrors(marker: string, explain: ExplainError): void {
    this.#stopWatching = watchUncaptured(this.#device, (error) => {
      if (error.message?.includes(marker)) this.#first ??= explain(error);
    });
  }

  /** Stops {@link watchFinishErrors} (the loss is destroyed). */
  dispose(): void {
    this.#stopWatching?.();
    this.#stopWatching = undefined;
  }

  /**
   * Settles once WebGPU has judged every step checked so far and delivered the errors raised
   * before now (an empty error scope's round trip: browsers deliver uncaptured errors as events,
   * after the call that raised them).
   */
  async settle(): Promise<void> {
    await this.#settled;
    this.#device.pushErrorScope('validation');
    await this.#device.popErrorScope().catch(() => undefined);
  }

  /** Runs `step` in a validation error scope: an error raised by it becomes `explain(error)`. */
  check<T>(step: () => T, explain: ExplainError, onError?: () => void): T {
    this.#device.pushErrorScope('validation');
    try {
      return step();
    } finally {
      // A device's scopes settle in the order they were popped, so awaiting the last one
      // awaits them all.
      this.#settled = this.#device.popErrorScope().then(
        (error) => {
          if (!error) return;
          onError?.();
          this.#first ??= explain(error);
        },
        // A lost device rejects the pop on some implementations: DEVICE_LOST is reported elsewhere.
        () => undefined,
      );
    }
  }

  /** Settles once WebGPU has judged every step checked so far. */
  get settled(): Promise<void> {
    return this.#settled;
  }

  /** The first error found and not yet reported, now cleared (each error is thrown once). */
  take(): WgslDiceError | undefined {
    const error = this.#first;
    this.#first = undefined;
    return error;
  }
}

/** Per device, the losses' handlers of uncaptured errors and the one listener that calls them. */
const uncapturedWatchers = new WeakMap<
  GPUDevice,
  { handlers: Set<(error: GPUError) => void>; listener: EventListener }
>();

/**
 * Calls `handler` with each uncaptured error of `device` until the returned function is called.
 * One listener per device serves every loss on it: an EventTarget warns past 10 listeners of one
 * event (dawn.node's does), and a training script may hold more losses than that.
 */
function watchUncaptured(device: GPUDevice, handler: (error: GPUError) => void): (() => void) | undefined {
  const target = device as GPUDevice & Partial<EventTarget>;
  if (typeof target.addEventListener !== 'function' || typeof target.removeEventListener !== 'function') return;
  let watcher = uncapturedWatchers.get(device);
  if (!watcher) {
    const handlers = new Set<(error: GPUError) => void>();
    const listener = (event: Event) => {
      const error = (event as GPUUncapturedErrorEvent).error;
      if (error) for (const h of handlers) h(error);
    };
    target.addEventListener('uncapturederror', listener);
    watcher = { handlers, listener };
    uncapturedWatchers.set(device, watcher);
  }
  const { handlers, listener } = watcher;
  handlers.add(handler);
  return () => {
    handlers.delete(handler);
    if (handlers.size > 0 || uncapturedWatchers.get(device)?.listener !== listener) return;
    uncapturedWatchers.delete(device);
    target.removeEventListener!('uncapturederror', listener);
  };
}

/** Commands recorded on the caller's encoder (or pass) failed validation. */
export function recordingError(label: string): ExplainError {
  return (error) =>
    new WgslDiceError(
      'INVALID_INPUT',
      `WebGPU rejected the commands ${label}'s encode() recorded into your encoder, so its passes did not run ` +
        'and its loss buffer kept its old value. Most likely the command encoder (or the one of the compute pass ' +
        'you passed) was already finished: create a new encoder with device.createCommandEncoder() for each ' +
        `step; or timestampWrites names a query set WebGPU refused. WebGPU said: ${error.message}`,
    );
}

/**
 * The loss's commands failed at the caller's encoder.finish() (see
 * {@link RecordingChecks.watchFinishErrors}): a pass still open on the encoder, or a pass ended.
 */
export function finishError(label: string): ExplainError {
  return (error) => {
    const ended = /already been ended|has ended|ended pass/i.test(error.message);
    const cause = ended
      ? 'the compute pass passed to encode() had already been ended (pass.end()): pass an open pass, or the ' +
        'command encoder itself'
      : 'a compute pass (or render pass) you began on that encoder was still open when encode() recorded: an ' +
        'encoder is locked while a pass is open. End your pass first (pass.end()) and then call encode(encoder, ...), ' +
        'or record into your open pass: loss.encode(pass, buffers)';
    return new WgslDiceError(
      'INVALID_INPUT',
      `WebGPU rejected the commands ${label}'s encode() recorded, at your encoder.finish(): ${cause}. ` +
        `Nothing the loss recorded there ran, and its loss buffer kept its old value. WebGPU said: ${error.message}`,
    );
  };
}

/** createBindGroup over the caller's buffers failed validation. */
export function bindError(label: string): ExplainError {
  return (error) =>
    new WgslDiceError(
      'INVALID_INPUT',
      `WebGPU rejected the buffers given to ${label}: most likely one was created on another GPUDevice than ` +
        "the loss's engine (a loss binds only buffers of engine.device: create them there, or make the loss " +
        `with an engine on the buffers' device). Nothing that used them ran. WebGPU said: ${error.message}`,
    );
}
