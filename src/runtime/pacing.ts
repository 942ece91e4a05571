/**
 * How long compute() lets the host sleep after a submit before it awaits the results.
 *
 * While a dawn.node promise is pending (mapAsync, onSubmittedWorkDone), the Node thread polls
 * the device in a setImmediate loop and keeps one CPU core busy. On a software adapter
 * (lavapipe) the "GPU" runs on the same cores, so a run awaited at once runs slower: a 128^3
 * surface-metrics program took 1.5-2x its GPU time from submit to results on two cores. Sleeping
 * through most of the run first (a timer, no dawn promise pending) leaves the cores to the
 * device; on a GPU it frees the core the poller would spin on.
 *
 * A loss's runs take about as long each time, so the length of the next run is estimated from
 * the last one, in the two cases a call can see:
 * - it was still running when the sleep ended (the await took a while): it took the sleep plus
 *   part of the await (the rest of the run ran slower, under the poller: counted as half);
 * - it had finished (the await returned at once): it took at most the sleep; the estimate
 *   halves, so a sleep that overshoots is short-lived.
 * The next call sleeps {@link PACING_SHARE} of the estimate. The first run of a loss is not
 * counted: some adapters compile the pipelines then (lavapipe: seconds). Runs estimated at
 * {@link PACING_MIN_MS} or less are awaited at once (a timer's granularity is about 1 ms).
 * Only under Node: a browser waits for mapAsync without spinning the page's thread, and
 * throttles the timers of background tabs (to a second or more).
 */

/** Whether compute() paces its waits: under Node (dawn.node) only. */
export const PACING_ENABLED =
  typeof (globalThis as { process?: { versions?: { node?: unknown } } }).process?.versions?.node === 'string';

/** Estimated runs this short or shorter are awaited at once. */
export const PACING_MIN_MS = 8;

/** The share of the estimated run the host sleeps through before awaiting. */
export const PACING_SHARE = 0.8;

/** An await that returns within this many milliseconds found the run finished already. */
export const PACING_DONE_MS = 2;

export class RunPacing {
  #runs = 0;
  #estimateMs = 0;

  /** Milliseconds to sleep after the next submit (0: await at once). */
  get sleepMs(): number {
    return PACING_ENABLED && this.#estimateMs > PACING_MIN_MS ? Math.floor(PACING_SHARE * this.#estimateMs) : 0;
  }

  /** Records a call: milliseconds from submit to the await (the sleep), and of the await. */
  record(sleptMs: number, awaitedMs: number): void {
    if (!(sleptMs >= 0 && awaitedMs >= 0 && Number.isFinite(sleptMs + awaitedMs))) return;
    if (this.#runs++ === 0) return;
    this.#estimateMs = awaitedMs <= PACING_DONE_MS ? sleptMs / 2 : sleptMs + awaitedMs / 2;
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
