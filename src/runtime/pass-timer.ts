import { WgslDiceError } from '../core/errors.js';
import type { LossHost } from './host.js';

/** Throws FEATURE_MISSING unless `device` has the `timestamp-query` feature. */
export function requireTimestamps(device: GPUDevice): void {
  if (!device.features.has('timestamp-query')) {
    throw new WgslDiceError(
      'FEATURE_MISSING',
      "tune() times plans with timestamp queries, and this device was created without the 'timestamp-query' feature; " +
        "request it in requestDevice({ requiredFeatures: ['timestamp-query'] }) where the adapter offers it " +
        '(wgsl-dice/node requests it wherever the adapter has it).',
    );
  }
}

/** Records one run of a candidate into `encoder`, its compute pass writing `timestampWrites`. */
export type TimedRecording = (encoder: GPUCommandEncoder, timestampWrites: GPUComputePassTimestampWrites) => void;

/**
 * GPU milliseconds of each recording, `repeats` times, timed by the timestamps its compute pass
 * writes at its beginning and end (the device's `timestamp-query` feature). Runs are submitted
 * one at a time on an idle queue, round-robin over the recordings, so a clock that drifts
 * during the measurement drifts for all of them alike. `warmup` untimed runs of each come first
 * (first use of a pipeline and of a bind group costs extra).
 */
export async function timeRecordings(
  host: LossHost,
  recordings: readonly TimedRecording[],
  repeats: number,
  warmup: number,
): Promise<number[][]> {
  const device = host.device;
  requireTimestamps(device);
  const slots = 2 * recordings.length * Math.max(1, repeats);
  const querySet = device.createQuerySet({ label: 'wgsl-dice tune timestamps', type: 'timestamp', count: slots });
  const resolved = device.createBuffer({
    label: 'wgsl-dice tune resolved timestamps',
    size: slots * 8,
    usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
  });
  const readback = device.createBuffer({
    label: 'wgsl-dice tune timestamp readback',
    size: slots * 8,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  // The warm-up writes the slots the first timed round overwrites.
  const run = async (index: number, slot: number) => {
    const encoder = device.createCommandEncoder({ label: 'wgsl-dice tune run' });
    recordings[index](encoder, { querySet, beginningOfPassWriteIndex: slot, endOfPassWriteIndex: slot + 1 });
    device.queue.submit([encoder.finish()]);
    await host._whileDeviceAlive(device.queue.onSubmittedWorkDone());
  };
  try {
    for (let w = 0; w < warmup; w++) for (let i = 0; i < recordings.length; i++) await run(i, 2 * i);
    for (let r = 0; r < repeats; r++) {
      for (let i = 0; i < recordings.length; i++) await run(i, 2 * (r * recordings.length + i));
    }
    const encoder = device.createCommandEncoder({ label: 'wgsl-dice tune resolve' });
    encoder.resolveQuerySet(querySet, 0, slots, resolved, 0);
    encoder.copyBufferToBuffer(resolved, 0, readback, 0, slots * 8);
    device.queue.submit([encoder.finish()]);
    await host._whileDeviceAlive(readback.mapAsync(GPUMapMode.READ));
    const ticks = new BigUint64Array(readback.getMappedRange().slice(0));
    readback.unmap();
    return recordings.map((_, i) =>
      Array.from({ length: repeats }, (_, r) => {
        const slot = 2 * (r * recordings.length + i);
        const ns = ticks[slot + 1] - ticks[slot];
        if (ticks[slot] === 0n || ns < 0n) {
          throw new WgslDiceError(
            'GPU_ERROR',
            `tune(): the device wrote no usable timestamps (${ticks[slot]} -> ${ticks[slot + 1]}), so plans cannot be compared here.`,
          );
        }
        return Number(ns) / 1e6;
      }),
    );
  } finally {
    querySet.destroy();
    resolved.destroy();
    readback.destroy();
  }
}

/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
