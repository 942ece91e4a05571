import { WgslDiceError } from '../core/errors.js';

/** The `DEVICE_LOST` error for a device lost with `info`; `when` completes the sentence. */
export function deviceLostError(info: GPUDeviceLostInfo, when = ''): WgslDiceError {
  return new WgslDiceError(
    'DEVICE_LOST',
    `The GPU device was lost (${info.reason}: ${info.message})${when}; ` +
      'create a new device and a new DiceEngine on it.',
  );
}

/**
 * Watches one device for loss, shared by every engine on it (see {@link deviceLossGuard}).
 *
 * Why not `Promise.race([work, device.lost])`: each race leaves a reaction on `device.lost`,
 * which never settles while the device is healthy, so every call's promises stay reachable
 * for the life of the device (measured: about 480 bytes of heap per `compute()`, i.e. half a
 * gigabyte per million training steps). Here only the calls still waiting are held, in a set.
 */
export class DeviceLossGuard {
  #info: GPUDeviceLostInfo | undefined;
  readonly #waiting = new Set<(info: GPUDeviceLostInfo) => void>();

  constructor(device: GPUDevice) {
    // The reaction closes over this guard only, never over an engine, so engines that were
    // dropped can be collected while the device lives.
    void device.lost.then((info) => {
      this.#info = info;
      for (const onLost of [...this.#waiting]) onLost(info);
      this.#waiting.clear();
    });
  }

  /** Set once the device's `lost` promise has settled. */
  get lostInfo(): GPUDeviceLostInfo | undefined {
    return this.#info;
  }

  /**
   * Settles like `work`, except that it rejects with `DEVICE_LOST` as soon as the device is
   * lost, so no caller waits forever on a dead device.
   */
  whileAlive<T>(work: Promise<T>): Promise<T> {
    if (this.#info) return Promise.reject(deviceLostError(this.#info, ' before wgsl-dice could wait on it'));
    return new Promise<T>((resolve, reject) => {
      const onLost = (info: GPUDeviceLostInfo) => reject(deviceLostError(info, ' while wgsl-dice was waiting on it'));
      this.#waiting.add(onLost);
      work.then(
        (value) => {
          this.#waiting.delete(onLost);
          resolve(value);
        },
        (error: unknown) => {
          // Losing the device also rejects a pending mapAsync, possibly just before `lost`
          // settles: give `lost` one macrotask to win, so the caller sees DEVICE_LOST.
          setTimeout(() => {
            this.#waiting.delete(onLost);
            reject(this.#info ? deviceLostError(this.#info, ' while wgsl-dice was waiting on it') : error);
          }, 0);
        },
      );
    });
  }
}

const guards = new WeakMap<GPUDevice, DeviceLossGuard>();

/** The one {@link DeviceLossGuard} of `device` (created on first use, collected with it). */
export function deviceLossGuard(device: GPUDevice): DeviceLossGuard {
  let guard = guards.get(device);
  if (!guard) {
    guard = new DeviceLossGuard(device);
    guards.set(device, guard);
  }
  return guard;
}
