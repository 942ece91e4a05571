import { WgslDiceError } from '../core/errors.js';
import { WORKGROUP_BYTES_PER_THREAD } from '../core/limits.js';
import { describeValue } from '../core/validate.js';
import { canonicalChoice, type DeviceCaps } from './candidates.js';
import { PLAN_KNOBS, type PlanChoice } from './profile.js';

// The tuned plan choices of an engine, as JSON an app can ship: what engine.exportTuning()
// returns and DiceEngine.create(device, { tuning }) takes back. Pure: checked without a GPU.

export const TUNING_FORMAT = 'wgsl-dice-tuning';
export const TUNING_VERSION = 1;

/** One tuned choice: for losses of `shapeClass` on the adapter `adapter`. */
export interface TuningEntry {
  /** The adapter and the device class its plans are made for (see adapterKey). */
  readonly adapter: string;
  /** See shapeClassOf in src/program/candidates.ts. */
  readonly shapeClass: string;
  /** The fastest choice tune() found ({} when the device class's plan was fastest). */
  readonly choice: PlanChoice;
  /** Its median GPU time in milliseconds, and the default plan's, in the run that chose it. */
  readonly ms: number;
  readonly defaultMs: number;
}

/** The JSON form: `JSON.stringify(engine.exportTuning())`. */
export interface TuningTable {
  readonly format: typeof TUNING_FORMAT;
  readonly version: typeof TUNING_VERSION;
  readonly entries: readonly TuningEntry[];
}

/**
 * Which adapter a choice was timed on: its vendor, architecture, device and description (the
 * driver is part of the description on most platforms), and the device class whose defaults the
 * choice modifies.
 */
export function adapterKey(info: Partial<GPUAdapterInfo> | undefined, deviceClass: 'gpu' | 'software'): string {
  const parts = [info?.vendor, info?.architecture, info?.device, info?.description].map((p) => p ?? '');
  return `${parts.join(' | ')} (${deviceClass} plans)`;
}

/** A table of `entries` in a stable order (adapter, then shape class). */
export function tuningTable(entries: Iterable<TuningEntry>): TuningTable {
  const sorted = [...entries].sort((a, b) =>
    a.adapter === b.adapter ? compare(a.shapeClass, b.shapeClass) : compare(a.adapter, b.adapter),
  );
  return { format: TUNING_FORMAT, version: TUNING_VERSION, entries: sorted };
}

/**
 * Reads a tuning table (the object or its JSON text). Every entry's structure is checked; the
 * choices of entries for this adapter (`adapter`) are also checked against this device
 * (`caps`), since those are the ones its losses will be planned with. Throws INVALID_OPTION.
 */
export function parseTuningTable(given: unknown, adapter: string, caps: DeviceCaps): TuningEntry[] {
  let table = given;
  if (typeof given === 'string') {
    try {
      table = JSON.parse(given);
    } catch (error) {
      throw invalid(`tuning is not JSON (${(error as Error).message}).`);
    }
  }
  if (typeof table !== 'object' || table === null)
    throw invalid(`tuning must be a table, got ${describeValue(table)}.`);
  const t = table as Record<string, unknown>;
  if (t.format !== TUNING_FORMAT || t.version !== TUNING_VERSION) {
    throw invalid(
      `tuning must be a table from engine.exportTuning() (format '${TUNING_FORMAT}', version ${TUNING_VERSION}), ` +
        `got format ${describeValue(t.format)}, version ${describeValue(t.version)}.`,
    );
  }
  if (!Array.isArray(t.entries)) throw invalid(`tuning.entries must be an array, got ${describeValue(t.entries)}.`);
  return t.entries.map((entry: unknown, i) => {
    const where = `tuning.entries[${i}]`;
    if (typeof entry !== 'object' || entry === null) throw invalid(`${where} must be an object.`);
    const e = entry as Record<string, unknown>;
    for (const key of ['adapter', 'shapeClass'] as const) {
      if (typeof e[key] !== 'string') throw invalid(`${where}.${key} must be a string, got ${describeValue(e[key])}.`);
    }
    for (const key of ['ms', 'defaultMs'] as const) {
      const ms = e[key];
      if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
        throw invalid(`${where}.${key} must be a non-negative number of milliseconds, got ${describeValue(ms)}.`);
      }
    }
    const choice = checkChoice(e.choice, `${where}.choice`, e.adapter === adapter ? caps : undefined);
    return {
      adapter: e.adapter as string,
      shapeClass: e.shapeClass as string,
      choice,
      ms: e.ms as number,
      defaultMs: e.defaultMs as number,
    };
  });
}

/**
 * A plan choice's knobs checked: known names, the right types, and (with `caps`) values this
 * device can run. Returns it with its knobs in the canonical order. Throws INVALID_OPTION.
 */
export function checkChoice(given: unknown, where: string, caps: DeviceCaps | undefined): PlanChoice {
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw invalid(`${where} must be an object of plan knobs (${PLAN_KNOBS.join(', ')}), got ${describeValue(given)}.`);
  }
  const c = given as Record<string, unknown>;
  for (const key of Object.keys(c)) {
    if (!(PLAN_KNOBS as readonly string[]).includes(key)) {
      throw new WgslDiceError('UNKNOWN_OPTION', `${where} has no knob '${key}'; the knobs: ${PLAN_KNOBS.join(', ')}.`);
    }
  }
  const positive = (key: 'workgroupSize' | 'targetWorkgroups' | 'elementwiseWorkgroups' | 'classBlock') => {
    const v = c[key];
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 2 ** 31)) {
      throw invalid(`${where}.${key} must be a positive integer, got ${describeValue(v)}.`);
    }
  };
  (['workgroupSize', 'targetWorkgroups', 'elementwiseWorkgroups', 'classBlock'] as const).forEach(positive);
  for (const key of ['interleave', 'subgroups'] as const) {
    if (c[key] !== undefined && typeof c[key] !== 'boolean') {
      throw invalid(`${where}.${key} must be true or false, got ${describeValue(c[key])}.`);
    }
  }
  const size = c.workgroupSize as number | undefined;
  // Below 64 threads the kernels' fixed folds (fault records, eight status words) would not fit.
  if (size !== undefined && ((size & (size - 1)) !== 0 || size < 64)) {
    throw invalid(`${where}.workgroupSize must be a power of two of at least 64, got ${size}.`);
  }
  if (caps && size !== undefined && size > caps.maxWorkgroupSize) {
    throw invalid(
      `${where}.workgroupSize ${size} exceeds this device's ${caps.maxWorkgroupSize} threads per workgroup.`,
    );
  }
  if (caps && c.subgroups === true && caps.subgroupSize === undefined) {
    throw invalid(
      `${where}.subgroups is true, but this device has no 'subgroups' feature (or the engine was created with subgroups: false).`,
    );
  }
  return canonicalChoice(c as PlanChoice);
}

/** The largest workgroup this device runs every kernel with (threads and workgroup memory). */
export function maxWorkgroupSize(limits: GPUSupportedLimits): number {
  return Math.min(
    limits.maxComputeInvocationsPerWorkgroup,
    2 ** Math.floor(Math.log2(limits.maxComputeWorkgroupStorageSize / WORKGROUP_BYTES_PER_THREAD)),
  );
}

function invalid(message: string): WgslDiceError {
  return new WgslDiceError('INVALID_OPTION', message);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
