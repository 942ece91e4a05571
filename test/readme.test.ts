// The README cannot drift: every ```ts block is a complete program (or says it continues the one
// before), and this test runs them as a user would. It packs the package (`npm pack`), installs
// the tarball into an empty ESM app together with every package the README's install lines name
// (linked from this checkout's node_modules, offline), writes the README's own tsconfig.json and
// every program, type-checks them all with TypeScript (0 errors; `WGSL_DICE_README_TSC=/path/to/tsc`
// adds a second compiler, e.g. TypeScript 7), and runs every Node program on this machine's
// adapter (lavapipe in CI): each must exit 0. Two programs' printed numbers are checked against
// the float64 reference. Browser programs are type-checked here; test/browser.test.ts runs the
// core browser quick start in Chromium.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { familyReference, familyReferenceGradient, labelMapSurfaceMetrics } from '../src/reference/index.js';
import { ensureBuilt, REPO_ROOT } from './browser/dist.js';
import { localPackage, npmInstall, packIntoNewApp } from './helpers/packed-app.js';
import { readmeBlocks, readmePrograms, readmeTsconfig, type ReadmeProgram } from './helpers/readme-blocks.js';
import { expectMetricClose } from './helpers/surface-cases.js';

const README = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
const BLOCKS = readmeBlocks(README);
const PROGRAMS = readmePrograms(BLOCKS);
const NODE_PROGRAMS = PROGRAMS.filter((p) => p.where === 'node');

/**
 * What the README's programs import and its install lines name (the app gets all of them).
 * `@tensorflow/tfjs-core` is not on an install line: npm hoists it as a dependency of
 * `@tensorflow/tfjs`, which a `file:` link does not, so the test links it itself.
 */
const PACKAGES = [
  'webgpu',
  'typescript',
  '@types/node',
  '@webgpu/types',
  '@tensorflow/tfjs',
  '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-backend-webgpu',
];
/** The CLI's dependency (with its own), installed with the package as npm would. */
const DEPENDENCIES = ['nifti-reader-js', 'fflate'];
/** How long one program may take cold on lavapipe (pipelines compile at the first dispatch). */
const PROGRAM_TIMEOUT_MS = 90_000;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

let app: string;
const runs = new Map<string, Promise<Run>>();

/** Dawn's one-line notices on lavapipe (README: docs/api.md) are the only stderr a program may print. */
const unexpectedStderr = (stderr: string) =>
  stderr
    .split('\n')
    .filter((line) => line.trim() !== '' && !/artificially reduced/.test(line))
    .join('\n');

function runProgram(program: ReadmeProgram): Promise<Run> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [`${program.name}.js`], { cwd: app, timeout: PROGRAM_TIMEOUT_MS });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr, ms: performance.now() - started }));
  });
}

function tsc(compiler: string, flags: string[]): { status: number | null; output: string } {
  const run = spawnSync(process.execPath, [compiler, '-p', '.', ...flags], {
    cwd: app,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

beforeAll(async () => {
  await ensureBuilt(['dist/index.js', 'dist/node.js', 'dist/reference.js', 'dist/tfjs.js', 'dist/cli.js']);
  let tarball: string;
  ({ dir: app, tarball } = packIntoNewApp('wgsl-dice-readme-'));
  const installed = npmInstall(app, [...[...DEPENDENCIES, ...PACKAGES].map(localPackage), tarball]);
  if (installed.status !== 0) throw new Error(`installing the README's packages failed:\n${installed.output}`);
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(readmeTsconfig(BLOCKS), null, 2));
  for (const program of PROGRAMS) writeFileSync(join(app, `${program.name}.ts`), program.code);
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(runs.values());
  if (app) rmSync(app, { recursive: true, force: true });
});

describe('README', () => {
  it('has TypeScript programs for Node and the browser, and install lines naming every package they import', () => {
    expect(NODE_PROGRAMS.length).toBeGreaterThanOrEqual(5);
    expect(PROGRAMS.filter((p) => p.where === 'browser').length).toBeGreaterThanOrEqual(2);
    // Blocks in other languages are commands, configuration or output, never code to paste.
    const languages = new Set(BLOCKS.map((b) => b.lang));
    expect([...languages].filter((lang) => !['ts', 'json', 'sh'].includes(lang))).toEqual([]);
    const installLines = README.split('\n').filter((line) => /npm (install|i) /.test(line));
    for (const program of PROGRAMS) {
      const imports = [...program.code.matchAll(/from '([^'.][^']*)'|^import '([^']+)'/gm)].map((m) => m[1] ?? m[2]);
      for (const name of imports.filter((n) => !n.startsWith('node:'))) {
        const bare = name.startsWith('@') ? name.split('/').slice(0, 2).join('/') : name.split('/')[0];
        expect(
          installLines.some((line) => line.includes(` ${bare}`)),
          `${program.name} imports ${name}`,
        ).toBe(true);
      }
      const needsNodeGpu = /from 'wgsl-dice\/node'/.test(program.code);
      if (needsNodeGpu) expect(installLines.some((l) => /wgsl-dice .*webgpu/.test(l))).toBe(true);
    }
    expect(README).toMatch(/ESM only/);
  });

  it("type-checks every TypeScript block under the README's tsconfig.json with 0 errors", () => {
    // tsc emits each program's .js (the README's tsconfig emits, as a user's would) ...
    const result = tsc(join(app, 'node_modules/typescript/bin/tsc'), []);
    // ... and the Node programs start at once, two at a time, while the rest of the file runs.
    let next = 0;
    const startNext = (): void => {
      const program = NODE_PROGRAMS[next++];
      if (!program) return;
      const run = runProgram(program);
      runs.set(program.name, run);
      void run.then(startNext);
    };
    startNext();
    startNext();
    expect(result.output).toBe('');
    expect(result.status).toBe(0);
    const second = process.env.WGSL_DICE_README_TSC;
    if (second) {
      const again = tsc(second, ['--noEmit']);
      expect(again.output, second).toBe('');
      expect(again.status, second).toBe(0);
    }
  }, 120_000);

  it.each(NODE_PROGRAMS.map((p) => [p.name, p] as const))(
    'runs the Node program under "%s" with exit status 0',
    async (name, program) => {
      await expect.poll(() => runs.has(name), { timeout: PROGRAM_TIMEOUT_MS * NODE_PROGRAMS.length }).toBe(true);
      const run = await runs.get(name)!;
      const where = `README line ${program.line} (${run.ms.toFixed(0)} ms)`;
      expect(unexpectedStderr(run.stderr), where).toBe('');
      expect(run.status, where).toBe(0);
    },
    PROGRAM_TIMEOUT_MS * NODE_PROGRAMS.length,
  );

  it('the encode example prints the float64 reference loss and gradient norm', async () => {
    const run = await runOf('the-encode-path-step-by-step');
    const printed = /loss (\S+), \|grad\| (\S+)/.exec(run.stdout);
    expect(printed, run.stdout).not.toBeNull();
    // The example's own inputs, through the float64 reference.
    const [B, H, W, C] = [1, 5, 5, 3];
    const logits = Float32Array.from({ length: B * H * W * C }, (_, i) => Math.sin(i));
    const labels = Float64Array.from({ length: B * H * W }, (_, i) => i % C);
    const options = { shape: [B, H, W, C], activation: 'softmax', target: 'u8' } as const;
    const want = familyReference(logits, labels, options).loss;
    const wantGradNorm = Math.hypot(...familyReferenceGradient(logits, labels, options));
    expect(Math.abs(Number(printed![1]) - want)).toBeLessThanOrEqual(1e-6 + 1e-5 * Math.abs(want));
    expect(Math.abs(Number(printed![2]) - wantGradNorm)).toBeLessThanOrEqual(1e-4 * wantGradNorm);
  });

  it('the surface-metrics example prints what the float64 reference computes', async () => {
    const run = await runOf('surface-metrics-and-distance-transforms');
    const [engineLine, presetLine] = run.stdout.trim().split('\n').slice(-2);
    const engine = JSON.parse(engineLine) as { hausdorff: number[]; asd: number[]; nsd: number[] };
    // The example's label maps, made again here.
    const [D, H, W] = [40, 48, 48];
    const labelAt = (z: number, y: number, x: number, shift: number): number =>
      (z - 20) ** 2 + (y - 24) ** 2 + (x - 20 - shift) ** 2 < 100
        ? 1
        : z > 4 && z < 14 && y > 30 + shift && y < 42 && x > 32 && x < 44
          ? 2
          : 0;
    const pred: number[] = [];
    const target: number[] = [];
    for (let z = 0; z < D; z++)
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) {
          pred.push(labelAt(z, y, x, 1));
          target.push(labelAt(z, y, x, 0));
        }
    const want = labelMapSurfaceMetrics(pred, target, [D, H, W], {
      labels: 3,
      percentile: 95,
      tolerance: 2,
      spacing: [2.5, 0.8, 0.8],
    });
    expectMetricClose(
      [...engine.hausdorff, ...engine.asd, ...engine.nsd],
      [
        ...want.map((r) => r.hausdorff),
        ...want.map((r) => r.averageSurfaceDistance),
        ...want.map((r) => r.surfaceDice),
      ],
      'engine.surfaceMetrics',
    );
    expectMetricClose((JSON.parse(presetLine) as number[][])[0], engine.hausdorff, 'compute_hausdorff_distance preset');
  });
});

async function runOf(name: string): Promise<Run> {
  expect(NODE_PROGRAMS.map((p) => p.name)).toContain(name);
  await expect.poll(() => runs.has(name), { timeout: PROGRAM_TIMEOUT_MS * NODE_PROGRAMS.length }).toBe(true);
  const run = await runs.get(name)!;
  expect(run.status, run.stderr).toBe(0);
  return run;
}
