import type { SharedResults } from './shared-results.js';

/**
 * What a loss needs of the engine that made it: the device, the engine's state, and the
 * device-loss guard. `DiceEngine` implements it; the runtime and the loss classes depend
 * on this interface only, so they never import the engine.
 */
export interface LossHost {
  readonly device: GPUDevice;
  /** @internal Throws ENGINE_DESTROYED once the engine was destroyed, DEVICE_LOST once its device was lost. */
  _assertUsable(): void;
  /** @internal A loss that destroyed itself: the engine no longer destroys it with itself. */
  _forget(loss: HostedLoss): void;
  /** @internal Settles like `work`, or rejects with DEVICE_LOST as soon as the device is lost. */
  _whileDeviceAlive<T>(work: Promise<T>): Promise<T>;
  /** @internal The scratch its losses share by key (LossProgram.reusable). */
  readonly _sharedResults: SharedResults;
}

/** What a host keeps of each loss it made: a way to destroy it with the engine. */
export interface HostedLoss {
  destroy(): void;
}
