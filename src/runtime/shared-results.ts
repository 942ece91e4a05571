import { sameBytes } from '../core/bytes.js';
import type { TensorName } from '../program/program.js';

/**
 * Scratch that the losses of one engine share by key ({@link LossProgram.reusable}), and what
 * the buffers now hold. The MONAI presets' three metric calls on one pair of masks (Hausdorff,
 * average surface distance, surface Dice, each its own program) compute the surfaces and
 * distance fields once: the first call's passes write them, the next calls read them.
 *
 * What makes a skip safe:
 * - every recording of a key's 'from-inputs' passes (a compute(), a warm-up) counts one more
 *   generation, whatever its inputs;
 * - an encode() into the caller's encoder ends reuse for the key: the caller submits it when
 *   it likes, maybe after later compute() calls, so no record of what the buffers hold can be
 *   trusted again;
 * - a compute() that ran them on host arrays and passed its input checks records its inputs
 *   (the copies compute() takes anyway) with its generation, only if no other recording came
 *   after it;
 * - a later compute() skips them only when that record is of the current generation and its
 *   host inputs are equal byte for byte. GPU-buffer inputs are never matched: their contents
 *   are not known on the host.
 * The queue runs submissions in order, so a skipping run reads what the recorded run wrote.
 */
export class SharedResults {
  readonly #entries = new Map<string, Entry>();

  /** One more loss holds `key`'s buffers (see {@link release}). */
  hold(key: string): void {
    this.#entry(key).holders++;
  }

  /** A loss that held `key` is destroyed: the last one destroys the buffers. */
  release(key: string): void {
    const entry = this.#entries.get(key);
    if (!entry || --entry.holders > 0) return;
    for (const buffer of entry.buffers.values()) buffer.destroy();
    this.#entries.delete(key);
  }

  /** `key`'s buffer `name`, made by `create` for its first holder. */
  buffer(key: string, name: string, bytes: number, create: () => GPUBuffer): GPUBuffer {
    const entry = this.#entry(key);
    let buffer = entry.buffers.get(name);
    if (!buffer) {
      buffer = create();
      entry.buffers.set(name, buffer);
    } else if (buffer.size < bytes) {
      throw new Error(`internal error: programs of reusable key share '${name}' at different sizes`);
    }
    return buffer;
  }

  /**
   * A recording of `key`'s 'from-inputs' passes: its generation. `byCaller`: into the caller's
   * encoder (encode()), submitted whenever the caller likes, which ends reuse for the key.
   */
  recorded(key: string, byCaller: boolean): number {
    const entry = this.#entry(key);
    entry.last = null;
    if (byCaller) entry.callerEncodes = true;
    return ++entry.generation;
  }

  /** The run of `generation` completed on host `inputs` and passed its checks. */
  completed(key: string, generation: number, inputs: ReadonlyMap<TensorName, Uint8Array>): void {
    const entry = this.#entries.get(key);
    if (entry && entry.generation === generation) entry.last = { generation, inputs };
  }

  /** Whether the buffers of `key` hold what the 'from-inputs' passes make of host `inputs`. */
  matches(key: string, inputs: ReadonlyMap<TensorName, Uint8Array>): boolean {
    const entry = this.#entries.get(key);
    const last = entry?.last;
    if (!last || entry.callerEncodes || last.inputs.size !== inputs.size) return false;
    for (const [name, bytes] of inputs) {
      const before = last.inputs.get(name);
      if (!before || !sameBytes(before, bytes)) return false;
    }
    return true;
  }

  #entry(key: string): Entry {
    let entry = this.#entries.get(key);
    if (!entry) {
      entry = { holders: 0, buffers: new Map(), generation: 0, last: null, callerEncodes: false };
      this.#entries.set(key, entry);
    }
    return entry;
  }
}

interface Entry {
  holders: number;
  readonly buffers: Map<string, GPUBuffer>;
  generation: number;
  /** The inputs of the last completed run, when no recording came after it. */
  last: { readonly generation: number; readonly inputs: ReadonlyMap<TensorName, Uint8Array> } | null;
  /** A holder encode()d into a caller's encoder: nothing is reused any more. */
  callerEncodes: boolean;
}
