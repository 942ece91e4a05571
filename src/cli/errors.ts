/**
 * A failure the CLI reports as one line (no stack) with an exit status: 2 for a command line it
 * cannot parse, 1 for everything else (unreadable or inconsistent inputs, GPU errors, a failed
 * self-check).
 */
export class CliError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A command line the CLI cannot use; the message ends with where to find the usage. */
export function usageError(command: string, message: string): CliError {
  return new CliError(`${message}\nRun \`wgsl-dice ${command} --help\` for usage.`, EXIT_USAGE);
}
