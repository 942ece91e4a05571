/**
 * One DiceEngine per GPUDevice (the backend's), and per loss function its compiled losses per
 * device and shape.
 *
 * Shapes given to `prepare()` stay compiled until `dispose()`: the caller asked for them, and
 * dropping one would only make a later call at that shape fail as "still compiling". Shapes a
 * call met without `prepare()` are kept up to {@link MAX_SHAPES_PER_DEVICE}; past that the least
 * recently used of them is dropped (never the one in use, never a prepared one), counted in
 * `evictions`, and a later call at that shape says it was dropped and how to keep it.
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

/**
 * Shapes kept compiled per loss function and device among those met without `prepare()` (a
 * training run needs one or two: the batch, and a smaller last batch). Prepared shapes are not
 * counted against it.
 */
export const MAX_SHAPES_PER_DEVICE = 8;

interface Entry<L> {
  /** Settles once compiled; rejects with the engine's error for bad options. */
  readonly ready: Promise<L>;
  loss?: L;
  error?: unknown;
  /** Asked for by prepare(): never evicted. */
  prepared: boolean;
}

/** What a loss function's cache holds, for `loss.cache` (totals over devices). */
export interface CacheStats {
  /** Shapes compiled or compiling. */
  readonly shapes: number;
  /** Of those, the shapes given to `prepare()` (kept until `dispose()`). */
  readonly prepared: number;
  /** Compiled shapes dropped to stay within {@link MAX_SHAPES_PER_DEVICE} unprepared shapes. */
  readonly evictions: number;
}

/** Compiled losses of one loss function, by device and shape key, least recently used first. */
export class LossCache<L extends Destroyable> {
  readonly #byDevice = new WeakMap<GPUDevice, Map<string, Entry<L>>>();
  readonly #evicted = new WeakMap<GPUDevice, Set<string>>();
  readonly #devices = new Set<WeakRef<GPUDevice>>();
  readonly #create: (engine: DiceEngine, key: string) => Promise<L>;
  #evictions = 0;

  constructor(create: (engine: DiceEngine, key: string) => Promise<L>) {
    this.#create = create;
  }

  /**
   * The compiled loss for `key`, or undefined while it compiles (compiling starts on the first
   * request). A compile error is thrown here, at every request, until the entry is evicted.
   */
  get(device: GPUDevice, key: string): L | undefined {
    const entry = this.#entry(device, key, false);
    if (entry.error !== undefined) throw entry.error;
    return entry.loss;
  }

  /** Resolves once `key` is compiled on `device`, and keeps it compiled until {@link clear}. */
  async prepare(device: GPUDevice, key: string): Promise<L> {
    return this.#entry(device, key, true).ready;
  }

  /** True when `key` was compiled on `device` once and dropped by the bound since. */
  wasEvicted(device: GPUDevice, key: string): boolean {
    return this.#evicted.get(device)?.has(key) ?? false;
  }

  /** The prepared shape keys on `device`, least recently used first. */
  preparedKeys(device: GPUDevice): string[] {
    return [...(this.#byDevice.get(device) ?? new Map<string, Entry<L>>())]
      .filter(([, e]) => e.prepared)
      .map(([key]) => key);
  }

  get stats(): CacheStats {
    let shapes = 0;
    let prepared = 0;
    for (const ref of this.#devices) {
      const device = ref.deref();
      for (const entry of (device && this.#byDevice.get(device)?.values()) || []) {
        shapes++;
        if (entry.prepared) prepared++;
      }
    }
    return { shapes, prepared, evictions: this.#evictions };
  }

  /** Destroys every compiled loss on every device. */
  clear(): void {
    for (const ref of this.#devices) {
      const device = ref.deref();
      const entries = device && this.#byDevice.get(device);
      if (entries) for (const entry of entries.values()) destroyWhenReady(entry);
      if (device) {
        this.#byDevice.delete(device);
        this.#evicted.delete(device);
      }
    }
    this.#devices.clear();
  }

  #entry(device: GPUDevice, key: string, prepare: boolean): Entry<L> {
    let entries = this.#byDevice.get(device);
    if (!entries) {
      entries = new Map();
      this.#byDevice.set(device, entries);
      this.#evicted.set(device, new Set());
      this.#devices.add(new WeakRef(device));
    }
    const found = entries.get(key);
    if (found) {
      // Map order is insertion order: re-inserting marks the entry most recently used.
      entries.delete(key);
      entries.set(key, found);
      found.prepared ||= prepare;
      return found;
    }
    const entry: Entry<L> = { ready: engineFor(device).then((engine) => this.#create(engine, key)), prepared: prepare };
    const created = entry;
    created.ready.then(
      (loss) => (created.loss = loss),
      (error: unknown) => (created.error = error),
    );
    entries.set(key, created);
    this.#evicted.get(device)!.delete(key);
    this.#evictUnprepared(device, entries, key);
    return created;
  }

  /** Drops the least recently used unprepared shapes (never `inUse`) past the bound. */
  #evictUnprepared(device: GPUDevice, entries: Map<string, Entry<L>>, inUse: string): void {
    const unprepared = [...entries].filter(([key, e]) => !e.prepared && key !== inUse);
    let excess = unprepared.length + (entries.get(inUse)!.prepared ? 0 : 1) - MAX_SHAPES_PER_DEVICE;
    for (const [key, entry] of unprepared) {
      if (excess-- <= 0) break;
      entries.delete(key);
      this.#evicted.get(device)!.add(key);
      this.#evictions++;
      destroyWhenReady(entry);
    }
  }
}

/**
 * Destroys the entry's loss once compiled, a task later: a tape recorded in this task (the
 * forward of a tf.grad or model.fit step, whose gradient runs synchronously after it) may
 * still record the loss's backward pass. Work already submitted with the loss's buffers still
 * completes (WebGPU frees them once the queue is done with them).
 */
function destroyWhenReady<L extends Destroyable>(entry: Entry<L>): void {
  entry.ready.then(
    (loss) => setTimeout(() => loss.destroy(), 0),
    () => undefined,
  );
}
