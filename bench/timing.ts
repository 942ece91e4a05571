/**
 * Timing of GPU work recorded into a command encoder, and of host work.
 *
 * GPU work is timed with timestamp queries when the device has `timestamp-query`. WebGPU only
 * writes timestamps at the beginning and end of a pass (`timestampWrites`); there is no
 * `encoder.writeTimestamp`. wgsl-dice's encode() takes `timestampWrites` for its own pass, but
 * the bench times every implementation (tfjs's many passes, the copy baseline) alike, so each
 * measured run is bracketed inside one command encoder:
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
 * Runs are submitted one at a time, each on an idle queue, as a training step would be. While a
 * dawn.node promise is pending (onSubmittedWorkDone, mapAsync) the Node thread polls and keeps
 * one CPU core busy. On lavapipe the "GPU" is the same two CPU cores, so the poller steals up to
 * half of the kernels' cores: a 32 MiB copy measured 3.9-7.2 ms (median of 30) while awaited,
 * 2.1-2.2 ms when the host slept through it. So each timed run lets the host sleep (setTimeout,
 * with no dawn promise pending) for longer than the run takes, and only then awaits it. On a
 * real GPU this changes nothing but the wall time of the benchmark.
 *
 * The same number of runs is also timed by the wall clock, submit to onSubmittedWorkDone,
 * awaited at once (`wall_ms_median`): what a caller that awaits each result sees, poller
 * included, and the figure comparable with a wall-clock-timed library such as tfjs.
 */

export type GpuTimingMethod = 'timestamp-query' | 'wall-clock(submit+onSubmittedWorkDone)';

export interface Samples {
  /** One duration per measured run, in milliseconds. */
  ms: number[];
  /** Wall clock of as many runs, each submitted and awaited at once: submit to onSubmittedWorkDone. */
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

/** The timing fields of a bench row (JSON lines) from a GPU timer's samples of `reps` runs. */
export function timingFields(samples: Samples, reps: number) {
  const { median, min } = summarize(samples.ms);
  return {
    ms_median: median,
    ms_min: min,
    wall_ms_median: summarize(samples.wallMs).median,
    timing: samples.method,
    reps,
  };
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
  async time(
    record: (encoder: GPUCommandEncoder) => void,
    reps: number,
    warmup: number,
    label: string,
  ): Promise<Samples> {
    const device = this.device;
    for (let i = 0; i < warmup; i++) {
      const encoder = device.createCommandEncoder({ label: `${label} warm-up` });
      record(encoder);
      device.queue.submit([encoder.finish()]);
    }
    await device.queue.onSubmittedWorkDone();

    const wallMs: number[] = [];
    for (let r = 0; r < reps; r++) {
      const encoder = device.createCommandEncoder({ label: `${label} wall-clock run ${r}` });
      record(encoder);
      const commands = encoder.finish();
      const start = performance.now();
      device.queue.submit([commands]);
      await device.queue.onSubmittedWorkDone();
      wallMs.push(performance.now() - start);
    }
    if (this.method !== 'timestamp-query') return { ms: wallMs, wallMs, method: this.method };

    // Longer than a run takes (the awaited wall clock includes the poller's slowdown).
    const idleMs = Math.ceil(1.25 * summarize(wallMs).median + 0.5);
    const querySet = device.createQuerySet({ label: `${label} timestamps`, type: 'timestamp', count: 2 * reps });
    try {
      for (let r = 0; r < reps; r++) {
        const encoder = device.createCommandEncoder({ label: `${label} timed run ${r}` });
        encoder
          .beginComputePass({
            label: `${label} start`,
            timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * r },
          })
          .end();
        record(encoder);
        encoder
          .beginComputePass({ label: `${label} end`, timestampWrites: { querySet, endOfPassWriteIndex: 2 * r + 1 } })
          .end();
        device.queue.submit([encoder.finish()]);
        await sleep(idleMs);
        await device.queue.onSubmittedWorkDone();
      }
      return { ms: await this.#readIntervals(querySet, reps, label), wallMs, method: this.method };
    } finally {
      querySet.destroy();
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

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
