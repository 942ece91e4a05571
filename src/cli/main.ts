#!/usr/bin/env node
// `wgsl-dice`: the command-line face of the library. Each command lives in its own module with
// its own --help; this file dispatches and turns failures into one-line messages and exit codes.
import { readFileSync } from 'node:fs';
import { WgslDiceError } from '../index.js';
import { BENCH_HELP, benchIsBuilt, runBench } from './bench.js';
import { DOCTOR_HELP, runDoctor } from './doctor.js';
import { CliError, EXIT_FAILURE, EXIT_USAGE } from './errors.js';
import { EVAL_HELP, runEval } from './eval.js';

interface Command {
  summary: string;
  help: string;
  run(argv: string[]): Promise<number>;
  /** False where this install lacks the command (help does not list it; running it says why). */
  available?: () => boolean;
}

const COMMANDS: Record<string, Command> = {
  doctor: {
    summary: 'check the WebGPU adapter and every loss against the float64 reference',
    help: DOCTOR_HELP,
    run: runDoctor,
  },
  eval: { summary: 'loss, per-class Dice and gradient from .npy files', help: EVAL_HELP, run: runEval },
  // The benchmark ships with a source checkout, not with the published package.
  bench: { summary: 'run the benchmark (dist/bench.js)', help: BENCH_HELP, run: runBench, available: benchIsBuilt },
};

/** The commands this install has, in help order. */
const availableCommands = () => Object.keys(COMMANDS).filter((name) => COMMANDS[name].available?.() ?? true);

const help = () => `Usage: wgsl-dice <command> [options]

Dice losses (forward and backward) in WGSL on WebGPU, from the command line (Node, dawn.node).

Commands:
${availableCommands()
  .map((name) => `  ${name.padEnd(8)} ${COMMANDS[name].summary}`)
  .join('\n')}
  help     show the help of a command: wgsl-dice help eval

Options:
  -h, --help     Show this help; \`wgsl-dice <command> --help\` shows a command's.
  -v, --version  Print the version.

Without a GPU, dawn.node needs Mesa's lavapipe (Vulkan on the CPU); \`wgsl-dice doctor\` says
what to install when no adapter is found. On lavapipe each GPU pipeline compiles for seconds on
first use: LP_NATIVE_VECTOR_WIDTH=128 in the environment makes that 2-4x faster.
`;

async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h') {
    process.stdout.write(help());
    return first === undefined ? EXIT_USAGE : 0;
  }
  if (first === '--version' || first === '-v') {
    process.stdout.write(`${readVersion()}\n`);
    return 0;
  }
  if (first === 'help') {
    const topic = rest[0];
    if (topic === undefined) process.stdout.write(help());
    else if (Object.hasOwn(COMMANDS, topic)) process.stdout.write(COMMANDS[topic].help);
    else throw new CliError(`unknown command "${topic}". Commands: ${availableCommands().join(', ')}.`, EXIT_USAGE);
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, first) ? COMMANDS[first] : undefined;
  if (!command) {
    throw new CliError(
      `unknown command "${first}". Commands: ${availableCommands().join(', ')}. Run \`wgsl-dice --help\`.`,
      EXIT_USAGE,
    );
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof CliError) throw new CliError(`wgsl-dice ${first}: ${error.message}`, error.exitCode);
    if (error instanceof WgslDiceError) throw new CliError(`wgsl-dice ${first}: ${error.message} (${error.code})`);
    throw error;
  }
}

/** From the package.json next to dist/ (one source for the version). */
function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof CliError) {
    process.stderr.write(`${error.message}\n`);
    process.exitCode = error.exitCode;
  } else {
    process.stderr.write(`wgsl-dice: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = EXIT_FAILURE;
  }
}
