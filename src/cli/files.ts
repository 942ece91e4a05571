import { readFileSync } from 'node:fs';
import { CliError } from './errors.js';

/** The bytes of an input file; `role` ('pred', 'target') names it in the one-line error. */
export function readInputFile(path: string, role: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new CliError(`cannot read the ${role} file ${path}: ${reason}.`);
  }
}
