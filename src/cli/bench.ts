import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CliError } from './errors.js';

export const BENCH_HELP = `Usage: wgsl-dice bench [benchmark options]

Runs the wgsl-dice benchmark (dist/bench.js, built from bench/main.ts in a source checkout) and
passes every argument on to it; \`wgsl-dice bench --help\` shows its own options when it is there.
`;

/** dist/bench.js next to this file (dist/cli.js) once built. */
const BENCH_SCRIPT = fileURLToPath(new URL('./bench.js', import.meta.url));

/** True where dist/bench.js exists (a source checkout that built it; the published package has none). */
export function benchIsBuilt(): boolean {
  return existsSync(BENCH_SCRIPT);
}

export async function runBench(argv: string[]): Promise<number> {
  if (!benchIsBuilt()) {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(`${BENCH_HELP}\n(${BENCH_SCRIPT} is not built here.)\n`);
      return 0;
    }
    throw new CliError(
      `the benchmark is not built: ${BENCH_SCRIPT} is missing. It ships with a source checkout of ` +
        'wgsl-dice: run `npm run build` there (it builds bench/main.ts when present), or `npm run bench`.',
    );
  }
  const child = spawn(process.execPath, [BENCH_SCRIPT, ...argv], { stdio: 'inherit' });
  // The child owns the terminal; Ctrl-C reaches it directly, so the parent only waits.
  const onSignal = () => undefined;
  process.on('SIGINT', onSignal);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.once('error', (error) => reject(new CliError(`cannot start ${BENCH_SCRIPT}: ${error.message}`)));
      child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 + signalNumber(signal) : 1)));
    });
  } finally {
    process.off('SIGINT', onSignal);
  }
}

function signalNumber(signal: NodeJS.Signals): number {
  return ({ SIGINT: 2, SIGTERM: 15, SIGKILL: 9 } as Record<string, number>)[signal] ?? 1;
}
