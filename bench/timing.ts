/**
 * Timing of GPU work recorded into a command encoder, and of host work.
 *
 * GPU work is timed with timestamp queries when the device has `timestamp-query`. WebGPU only
 * writes timestamps at the beginning and end of a pass (`timestampWrites`); there is no
 * `encoder.writeTimestamp`, and wgsl-dice records its own pass, which the caller cannot
 * annotate. So each measured run is bracketed inside one command encoder:
 *
 *   [empty pass: beginning-of-pass timestamp]  <the measured passes>  [empty pass: end-of-pass timestamp]
 *
 * Dawn's Vulkan backend writes a beginning-of-pass timestamp at TOP_OF_PIPE (it may be taken
 * before earlier commands finish) and an end-of-pass timestamp at BOTTOM_OF_PIPE (taken only
 * after every earlier command has completed). So the start is the first bracket's beginning
 * (the first command of a submission made after the previous run finished: nothing earlier
 * can still be running) and the end is the second bracket's end (after all measured work).
 * The interval holds all of the measured work plus at most two empty passes: it can over-count
 * by that overhead, never under-count. The tighter pair (end of the first bracket, beginning of
 * the second) would be wrong: a TOP_OF_PIPE timestamp after a pass with no barrier between them
 * can be written while the measured dispatches still run.
 *
 * Without `timestamp-query` the fallback is the wall clock around submit +
 * `onSubmittedWorkDone`, which also counts submission and the wake-up of the awaiting promise;
 * every row says which method produced it (`timing`).
 *
 * Runs are submitted and awaited one at a time, so each starts on an idle queue, as a training
 * step would. The wall time of each run is recorded too (`wall_ms_median` in the JSON).
 */

export type GpuTimingMethod = 'timestamp-query' | 'wall-clock(submit+onSubmittedWorkDone)';

export interface Samples {
  /** One duration per measured run, in milliseconds. */
  ms: number[];
  /** Wall clock of the same runs: submit to onSubmittedWorkDone. */
  wallMs: number[];
  method: GpuTimingMethod;
}

export interface Summary {
  median: number;
  min: number;
}

export function summarize(ms: readonly number[]): Summary {
  const sorted = [...ms].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0] };
}

export class GpuTimer {
  readonly device: GPUDevice;
  readonly method: GpuTimingMethod;

  constructor(device: GPUDevice, options: { forceWallClock?: boolean } = {}) {
    this.device = device;
    this.method =
      device.features.has('timestamp-query') && !options.forceWallClock
        ? 'timestamp-query'
        : 'wall-clock(submit+onSubmittedWorkDone)';
  }

  /**
   * Runs `record` `warmup` times untimed (first use of pipelines and buffers is slower), then
   * `reps` times timed, each in its own command buffer and submission.
   */
  async time(record: (encoder: GPUCommandEncoder) => void, reps: number, warmup: number, label: string): Promise<Samples> {
    const device = this.device;
    for (let i = 0; i < warmup; i++) {
      const encoder = device.createCommandEncoder({ label: `${label} warm-up` });
      record(encoder);
      device.queue.submit([encoder.finish()]);
    }
    await device.queue.onSubmittedWorkDone();

    const useTimestamps = this.method === 'timestamp-query';
    const querySet = useTimestamps
      ? device.createQuerySet({ label: `${label} timestamps`, type: 'timestamp', count: 2 * reps })
      : undefined;
    const wallMs: number[] = [];
    try {
      for (let r = 0; r < reps; r++) {
        const encoder = device.createCommandEncoder({ label: `${label} run ${r}` });
        if (querySet) {
          encoder
            .beginComputePass({ label: `${label} start`, timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * r } })
            .end();
        }
        record(encoder);
        if (querySet) {
          encoder
            .beginComputePass({ label: `${label} end`, timestampWrites: { querySet, endOfPassWriteIndex: 2 * r + 1 } })
            .end();
        }
        const commands = encoder.finish();
        const start = performance.now();
        device.queue.submit([commands]);
        await device.queue.onSubmittedWorkDone();
        wallMs.push(performance.now() - start);
      }
      if (!querySet) return { ms: wallMs, wallMs, method: this.method };
      return { ms: await this.#readIntervals(querySet, reps, label), wallMs, method: this.method };
    } finally {
      querySet?.destroy();
    }
  }

  async #readIntervals(querySet: GPUQuerySet, reps: number, label: string): Promise<number[]> {
    const device = this.device;
    const bytes = 2 * reps * 8;
    const resolved = device.createBuffer({
      label: `${label} resolved timestamps`,
      size: bytes,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
    const readback = device.createBuffer({
      label: `${label} timestamp readback`,
      size: bytes,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    try {
      const encoder = device.createCommandEncoder({ label: `${label} resolve timestamps` });
      encoder.resolveQuerySet(querySet, 0, 2 * reps, resolved, 0);
      encoder.copyBufferToBuffer(resolved, 0, readback, 0, bytes);
      device.queue.submit([encoder.finish()]);
      await readback.mapAsync(GPUMapMode.READ);
      const ticks = new BigUint64Array(readback.getMappedRange().slice(0));
      readback.unmap();
      const ms: number[] = [];
      for (let r = 0; r < reps; r++) {
        const ns = ticks[2 * r + 1] - ticks[2 * r];
        // A zero or backwards interval means the implementation did not write real timestamps.
        if (ticks[2 * r] === 0n || ns <= 0n) {
          throw new Error(
            `${label}: timestamp query gave an invalid interval (${ticks[2 * r]} -> ${ticks[2 * r + 1]}); ` +
              'rerun with --wall-clock.',
          );
        }
        ms.push(Number(ns) / 1e6);
      }
      return ms;
    } finally {
      resolved.destroy();
      readback.destroy();
    }
  }
}

/** Wall clock of an async host operation, `reps` times after `warmup` untimed runs. */
export async function timeHost(run: () => unknown, reps: number, warmup: number): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await run();
  const ms: number[] = [];
  for (let r = 0; r < reps; r++) {
    const start = performance.now();
    await run();
    ms.push(performance.now() - start);
  }
  return ms;
}
