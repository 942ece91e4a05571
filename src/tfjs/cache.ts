/**
 * One DiceEngine per GPUDevice (the backend's), and per loss function a bounded set of
 * compiled losses per device and shape: the least recently used one is destroyed when a new
 * shape would exceed the bound, so a model fed many shapes does not grow without limit.
 */
import { DiceEngine } from '../index.js';

/** What every wgsl-dice loss offers that the cache needs. */
export interface Destroyable {
  destroy(): void;
}

const engines = new WeakMap<GPUDevice, Promise<DiceEngine>>();

/** The engine of `device`, created on first use and kept for the device's life. */
export function engineFor(device: GPUDevice): Promise<DiceEngine> {
  let engine = engines.get(device);
  if (!engine) {
    engine = DiceEngine.create(device, { label: 'wgsl-dice/tfjs' });
    engines.set(device, engine);
  }
  return engine;
}

/** Shapes kept compiled per loss function and device (a training run needs one or two). */
export const MAX_SHAPES_PER_DEVICE = 8;

interface Entry<L> {
  /** Settles once compiled; rejects with the engine's error for bad options. */
  readonly ready: Promise<L>;
  loss?: L;
  error?: unknown;
}

/** Compiled losses of one loss function, by device and shape key, least recently used first. */
export class LossCache<L extends Destroyable> {
  readonly #byDevice = new WeakMap<GPUDevice, Map<string, Entry<L>>>();
  readonly #devices = new Set<WeakRef<GPUDevice>>();
  readonly #create: (engine: DiceEngine, key: string) => Promise<L>;

  constructor(create: (engine: DiceEngine, key: string) => Promise<L>) {
    this.#create = create;
  }

  /**
   * The compiled loss for `key`, or undefined while it compiles (compiling starts on the first
   * request). A compile error is thrown here, at every request, until the entry is evicted.
   */
  get(device: GPUDevice, key: string): L | undefined {
    const entry = this.#entry(device, key);
    if (entry.error !== undefined) throw entry.error;
    return entry.loss;
  }

  /** Resolves once `key` is compiled on `device`. */
  async prepare(device: GPUDevice, key: string): Promise<L> {
    return this.#entry(device, key).ready;
  }

  /** Destroys every compiled loss on every device. */
  clear(): void {
    for (const ref of this.#devices) {
      const device = ref.deref();
      const entries = device && this.#byDevice.get(device);
      if (entries) for (const entry of entries.values()) destroyWhenReady(entry);
      if (device) this.#byDevice.delete(device);
    }
    this.#devices.clear();
  }

  #entry(device: GPUDevice, key: string): Entry<L> {
    let entries = this.#byDevice.get(device);
    if (!entries) {
      entries = new Map();
      this.#byDevice.set(device, entries);
      this.#devices.add(new WeakRef(device));
    }
    const entry = entries.get(key);
    if (entry) {
      // Map order is insertion order: re-inserting marks the entry most recently used.
      entries.delete(key);
      entries.set(key, entry);
      return entry;
    }
    const created: Entry<L> = {
      ready: engineFor(device).then((engine) => this.#create(engine, key)),
    };
    created.ready.then(
      (loss) => (created.loss = loss),
      (error: unknown) => (created.error = error),
    );
    entries.set(key, created);
    if (entries.size > MAX_SHAPES_PER_DEVICE) {
      const [oldestKey, oldest] = entries.entries().next().value as [string, Entry<L>];
      entries.delete(oldestKey);
      destroyWhenReady(oldest);
    }
    return created;
  }
}

/**
 * Work already submitted with the loss's buffers still completes after destroy() (WebGPU frees
 * them once the queue is done with them); nothing is recorded with them afterwards.
 */
function destroyWhenReady<L extends Destroyable>(entry: Entry<L>): void {
  entry.ready.then(
    (loss) => loss.destroy(),
    () => undefined,
  );
}
