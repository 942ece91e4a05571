import { usageError } from './errors.js';

/**
 * Runs a node:util parseArgs call (strict mode) and turns its errors (unknown option, missing
 * value, stray argument) into usage errors that name the command.
 *
 * @example
 * const { values } = parseOrUsage('doctor', () =>
 *   parseArgs({ args: argv, options: { json: { type: 'boolean' }, ...HELP_OPTION }, strict: true }),
 * );
 */
export function parseOrUsage<T>(command: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw usageError(command, (error as Error).message);
  }
}

/** Every command takes -h/--help. */
export const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const;

/** A finite number from an option value, or a usage error naming the option. */
export function parseNumber(command: string, option: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) {
    throw usageError(command, `--${option} must be a number, got ${JSON.stringify(text)}.`);
  }
  return value;
}

/** Comma-separated numbers, e.g. `--weights 1,2,0.5`. */
export function parseNumberList(command: string, option: string, text: string): number[] {
  return text.split(',').map((part) => parseNumber(command, option, part));
}
