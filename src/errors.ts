/**
 * Every error wgsl-dice throws on purpose is a {@link WgslDiceError} with a stable `code`, so
 * callers can branch on the code and tests can assert it without matching message text.
 */
export type WgslDiceErrorCode =
  | 'INVALID_SHAPE'
  | 'SHAPE_MISMATCH'
  | 'INVALID_OPTION'
  | 'UNKNOWN_OPTION'
  | 'INVALID_WEIGHTS'
  | 'INVALID_INPUT'
  | 'BUFFER_TOO_SMALL'
  | 'BUFFER_USAGE'
  | 'BUFFER_DESTROYED'
  | 'MISALIGNED_OFFSET'
  | 'BINDING_TOO_LARGE'
  | 'GRID_TOO_LARGE'
  | 'ENGINE_DESTROYED'
  | 'DEVICE_LOST'
  | 'GPU_ERROR';

export class WgslDiceError extends Error {
  readonly code: WgslDiceErrorCode;

  constructor(code: WgslDiceErrorCode, message: string) {
    super(message);
    this.name = 'WgslDiceError';
    this.code = code;
  }
}

/** Throws `INVALID_OPTION` unless `value` is a finite number >= 0. */
export function requireNonNegative(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new WgslDiceError(
      'INVALID_OPTION',
      `${name} must be a finite number >= 0, got ${String(value)}.`,
    );
  }
  return value;
}

/** Rejects option names the caller misspelt instead of silently ignoring them. */
export function rejectUnknownKeys(what: string, value: object, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new WgslDiceError(
        'UNKNOWN_OPTION',
        `Unknown ${what} "${key}". Valid names: ${known.join(', ')}.`,
      );
    }
  }
}
