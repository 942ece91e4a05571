import { WgslDiceError } from '../core/errors.js';
import { bindingKey, type Binding } from './caller-buffers.js';
import type { ExplainError, RecordingChecks } from './recording-checks.js';

/** Bind groups kept per loss when its passes use one window each: a few sets of buffers. */
const DEFAULT_BIND_GROUP_CACHE = 8;

/**
 * The GPU objects one loss owns: uniform and scratch buffers (destroyed with it) and a small
 * LRU cache of bind groups keyed by the buffers they bind, so a training loop that reuses its
 * buffers creates no GPU object after the first step.
 */
export class OwnedResources {
  readonly #device: GPUDevice;
  readonly #label: string;
  readonly #buffers: GPUBuffer[] = [];
  readonly #bindGroups = new Map<string, GPUBindGroup>();
  readonly #cacheSize: number;
  readonly #checks: RecordingChecks;
  readonly #explainBindError: ExplainError;

  /**
   * `bindGroupsPerCall` is how many bind groups one encode() uses (one per pass and binding
   * window): the cache keeps those for a few sets of caller buffers, so even a windowed loss
   * creates none in a steady loop. Each new bind group is made under `checks` (a buffer of
   * another device fails there), and one WebGPU rejected leaves the cache again.
   */
  constructor(
    device: GPUDevice,
    label: string,
    bindGroupsPerCall: number,
    checks: RecordingChecks,
    explainBindError: ExplainError,
  ) {
    this.#device = device;
    this.#label = label;
    this.#cacheSize = Math.max(DEFAULT_BIND_GROUP_CACHE, 2 * bindGroupsPerCall);
    this.#checks = checks;
    this.#explainBindError = explainBindError;
  }

  /**
   * A buffer of at least `size` bytes (rounded up to 16) that lives as long as the owner. One
   * larger than the device's maxBufferSize (256 MiB by default in browsers) is LIMIT_EXCEEDED
   * before anything is created: WebGPU would hand back an invalid buffer, and every later
   * submit would fail far from the cause.
   */
  buffer(name: string, size: number, usage: GPUBufferUsageFlags): GPUBuffer {
    const buffer = this.unowned(name, size, usage);
    this.#buffers.push(buffer);
    return buffer;
  }

  /** A buffer as {@link buffer} makes it, which the caller destroys (scratch shared between losses). */
  unowned(name: string, size: number, usage: GPUBufferUsageFlags): GPUBuffer {
    const bytes = Math.max(16, Math.ceil(size / 16) * 16);
    const limit = this.#device.limits.maxBufferSize;
    if (bytes > limit) {
      throw new WgslDiceError(
        'LIMIT_EXCEEDED',
        `${this.#label} needs a ${name} buffer of ${bytes} bytes, more than this device's maxBufferSize ` +
          `(${limit}); request a device with a higher maxBufferSize (the adapter allows up to its own limit; ` +
          'requestNodeDevice asks for it), or use a smaller shape.',
      );
    }
    return this.#device.createBuffer({ label: `${this.#label} ${name}`, size: bytes, usage });
  }

  uniform(name: string, data: ArrayBuffer): GPUBuffer {
    const buffer = this.buffer(name, data.byteLength, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    this.#device.queue.writeBuffer(buffer, 0, data);
    return buffer;
  }

  storage(name: string, data: Float32Array<ArrayBuffer>, extraUsage = 0): GPUBuffer {
    const buffer = this.buffer(name, data.byteLength, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | extraUsage);
    this.#device.queue.writeBuffer(buffer, 0, data);
    return buffer;
  }

  /** Binding 0 is the pass's uniform block, then `bindings` in order from binding 1. */
  bindGroup(
    pass: string,
    layout: GPUBindGroupLayout,
    params: GPUBuffer | Binding,
    bindings: readonly Binding[],
  ): GPUBindGroup {
    const uniform = 'buffer' in params ? params : whole(params);
    const key = `${pass}|${uniform.offset}|${bindingKey(bindings)}`;
    let group = this.#bindGroups.get(key);
    if (group) {
      // Map iteration follows insertion, so re-inserting marks this entry most recent.
      this.#bindGroups.delete(key);
      this.#bindGroups.set(key, group);
      return group;
    }
    const created = this.#checks.check(
      () =>
        this.#device.createBindGroup({
          label: `${this.#label} ${pass}`,
          layout,
          entries: [
            { binding: 0, resource: { buffer: uniform.buffer, offset: uniform.offset, size: uniform.size } },
            ...bindings.map((b, i) => ({
              binding: i + 1,
              resource: { buffer: b.buffer, offset: b.offset, size: b.size },
            })),
          ],
        }),
      this.#explainBindError,
      // An invalid bind group must not be handed out again from the cache.
      () => {
        if (this.#bindGroups.get(key) === created) this.#bindGroups.delete(key);
      },
    );
    group = created;
    this.#bindGroups.set(key, group);
    if (this.#bindGroups.size > this.#cacheSize) {
      this.#bindGroups.delete(this.#bindGroups.keys().next().value as string);
    }
    return group;
  }

  /**
   * Destroys one buffer made by {@link buffer} before the owner is destroyed, and forgets it.
   * Cached bind groups over it are never handed out again (a new buffer has a new key) and
   * leave the cache as it turns over.
   */
  release(buffer: GPUBuffer): void {
    const at = this.#buffers.indexOf(buffer);
    if (at < 0) return;
    this.#buffers.splice(at, 1);
    buffer.destroy();
  }

  destroy(): void {
    this.#bindGroups.clear();
    for (const buffer of this.#buffers) buffer.destroy();
    this.#buffers.length = 0;
  }
}

export function whole(buffer: GPUBuffer): Binding {
  return { buffer, offset: 0, size: buffer.size };
}
