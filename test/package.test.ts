// What `npm pack` would publish: the built entries with their types, the shaders, the docs;
// no tests, no benchmark, no demo.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, REPO_ROOT } from './browser/dist.js';
import {
  localPackage,
  NPM,
  npmInstall as installInto,
  packIntoNewApp,
  type PackedTarball,
} from './helpers/packed-app.js';
import {
  expectReportMatchesReference,
  FIXTURE_SPACING,
  fixtureLabelMaps,
  NIFTI_FIXTURES,
} from './helpers/segmentation-report.js';

describe('npm pack contents', () => {
  it('ships the three entries with types and nothing from test/, bench/ or demo/', async () => {
    await ensureBuilt(['dist/index.js', 'dist/node.js', 'dist/reference.js', 'dist/cli.js']);
    const [report] = JSON.parse(
      execFileSync(NPM, ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO_ROOT, encoding: 'utf8' }),
    ) as [{ files: { path: string }[] }];
    const files = report.files.map((f) => f.path);
    for (const required of [
      'package.json',
      'README.md',
      'LICENSE',
      'CHANGELOG.md',
      'dist/index.js',
      'dist/node.js',
      'dist/reference.js',
      'dist/cli.js',
      'dist/types/index.d.ts',
      'dist/types/node/index.d.ts',
      'dist/types/reference/index.d.ts',
      'shaders/dice_reduce_vec4.wgsl',
    ]) {
      expect(files, required).toContain(required);
    }
    // README images: absolute URLs into this version's published package, so that they render
    // on the npm registry page (which has no repository checkout to resolve relative paths).
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const images = [...readme.matchAll(/!\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1]);
    expect(images.length).toBeGreaterThan(0);
    const prefix = `https://cdn.jsdelivr.net/npm/${pkg.name}@${pkg.version}/`;
    for (const image of images) {
      expect(image.startsWith(prefix), `${image} should start with ${prefix}`).toBe(true);
      expect(files, image).toContain(image.slice(prefix.length));
    }
    const unwanted = files.filter(
      (f) => /^(test|bench|demo|scripts|node_modules)\//.test(f) || /^dist\/(bench|demo)/.test(f),
    );
    expect(unwanted).toEqual([]);
  });
});

// What a user gets from `npm install wgsl-dice`: the packed tarball installed into an empty app
// with a plain `npm install <tarball>` (install scripts allowed, as a user runs it), first without
// the optional peers (the CLI's --help, the core and the reference must load; wgsl-dice/node and
// the GPU commands must say `npm install webgpu`, wgsl-dice/tfjs what installs TensorFlow.js),
// then with them (a loss computed through the installed package, checked against the float64
// reference of the same package; `wgsl-dice eval` on two NIfTI files). Peers, and the CLI's one
// dependency (nifti-reader-js, with fflate), come from this checkout's node_modules as file: links
// with --offline, so the test needs no network.
describe('installed from the packed tarball', () => {
  let scratch: string;
  let packed: PackedTarball;
  let install: { status: number | null; output: string };

  const npmInstall = (...specs: string[]) => {
    const run = installInto(scratch, specs);
    if (run.status !== 0) throw new Error(`npm install ${specs.join(' ')} failed:\n${run.output}`);
  };
  const runNode = (args: string[]) =>
    spawnSync(process.execPath, args, { cwd: scratch, encoding: 'utf8', timeout: 120_000 });
  const cli = (args: string[]) => runNode([join(scratch, 'node_modules/wgsl-dice/dist/cli.js'), ...args]);
  const installWithScripts = (specs: string[]) => installInto(scratch, specs, { scripts: true });

  beforeAll(async () => {
    await ensureBuilt(['dist/index.js', 'dist/node.js', 'dist/reference.js', 'dist/cli.js', 'dist/tfjs.js']);
    let tarball: string;
    ({ dir: scratch, tarball, packed } = packIntoNewApp('wgsl-dice-install-'));
    // As a user installs it: scripts allowed, so npm says so if the package has install scripts.
    // Its dependencies are linked from this checkout (npm takes a linked package that satisfies the
    // range instead of asking the registry).
    const dependencies = ['nifti-reader-js', 'fflate'].map(localPackage);
    install = installWithScripts([...dependencies, tarball]);
  }, 120_000);

  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('installs without any npm warning, with the CLI its only dependent, no install script and no source maps, within its size budget', () => {
    expect(install.status, install.output).toBe(0);
    expect(install.output).not.toMatch(/npm warn/i);
    expect(install.output).toMatch(/added 3 packages/);
    const manifest = JSON.parse(readFileSync(join(scratch, 'node_modules/wgsl-dice/package.json'), 'utf8'));
    // One dependency, the CLI's NIfTI reader: the library entries never import it.
    expect(Object.keys(manifest.dependencies ?? {})).toEqual(['nifti-reader-js']);
    const dist = join(scratch, 'node_modules/wgsl-dice/dist');
    for (const entry of ['index.js', 'reference.js', 'node.js', 'tfjs.js']) {
      expect(readFileSync(join(dist, entry), 'utf8'), entry).not.toContain('nifti-reader-js');
    }
    expect(readFileSync(join(dist, 'cli.js'), 'utf8')).toMatch(/from ["']nifti-reader-js["']/);
    for (const script of ['preinstall', 'install', 'postinstall', 'prepare'])
      expect(manifest.scripts?.[script], script).toBeUndefined();
    expect(packed.files.filter((f) => f.path.endsWith('.map'))).toEqual([]);
    // Budget. 0.1.0 without maps: about 270 kB packed, 870 kB unpacked (532 kB with maps). Since:
    // clDice on the runtime about +44 kB, the GPU-shaped family and Wasserstein kernels with their
    // f16 and subgroup variants about +52 kB, the surface metrics, distance transforms and
    // distance-field losses (15 kernels and their float64 reference) about +50 kB, the MONAI
    // surface presets and the CLI's NIfTI reader about +10 kB, tune() and the seed's GPU passes the
    // rest: 448 kB / 1.52 MB. The WGSL ships twice on purpose: bundled, and as shaders/ for
    // readers of describe(), which names each kernel's file.
    expect(packed.size).toBeLessThan(480_000);
    expect(packed.unpackedSize).toBeLessThan(1_650_000);
  });

  it('without webgpu: --help lists only the commands the package has, each with its help; GPU commands say to install webgpu', () => {
    expect(existsSync(join(scratch, 'node_modules/webgpu'))).toBe(false);
    const help = cli(['--help']);
    expect(help.stderr).toBe('');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: wgsl-dice <command>/);
    const commands = [...help.stdout.matchAll(/^ {2}([a-z]+) {2,}/gm)].map((m) => m[1]);
    expect(commands).toEqual(['doctor', 'eval', 'help']);
    for (const command of commands.slice(0, -1)) {
      const own = cli([command, '--help']);
      expect(own.status, command).toBe(0);
      expect(own.stdout, command).toContain(`Usage: wgsl-dice ${command}`);
    }

    const doctor = cli(['doctor']);
    expect(doctor.status).not.toBe(0);
    expect(doctor.stderr).toContain('npm install webgpu');
    expect(doctor.stderr).not.toContain('ERR_MODULE_NOT_FOUND');
  });

  it('without webgpu: wgsl-dice and wgsl-dice/reference load, wgsl-dice/node throws WebGpuUnavailableError', () => {
    const script = `
      const core = await import('wgsl-dice');
      const reference = await import('wgsl-dice/reference');
      const node = await import('wgsl-dice/node');
      try {
        await node.requestNodeDevice();
        console.log(JSON.stringify({ threw: false }));
      } catch (error) {
        console.log(JSON.stringify({
          core: typeof core.DiceEngine, reference: typeof reference.diceReference,
          threw: true, isTyped: error instanceof node.WebGpuUnavailableError, code: error.code, message: error.message,
        }));
      }`;
    const run = runNode(['--input-type=module', '-e', script]);
    expect(run.stderr).toBe('');
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({
      core: 'function',
      reference: 'function',
      threw: true,
      isTyped: true,
      code: 'WEBGPU_UNAVAILABLE',
    });
    expect(result.message).toContain('npm install webgpu');
  });

  it('without TensorFlow.js: importing wgsl-dice/tfjs throws TfjsUnavailableError with the npm command', () => {
    const script = `
      try {
        await import('wgsl-dice/tfjs');
        console.log(JSON.stringify({ threw: false }));
      } catch (error) {
        console.log(JSON.stringify({ threw: true, name: error.name, code: error.code, message: error.message }));
      }`;
    const run = runNode(['--input-type=module', '-e', script]);
    expect(run.stderr).toBe('');
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ threw: true, name: 'TfjsUnavailableError', code: 'TFJS_UNAVAILABLE' });
    expect(result.message).toContain('npm install @tensorflow/tfjs @tensorflow/tfjs-backend-webgpu');
  });

  it('with webgpu: a loss computed through the installed package matches its float64 reference', () => {
    npmInstall(localPackage('webgpu'));
    // Seed example 3 (per-class Dice) on a 2 x 3 x 3 x 2 softmax-like input; the tolerance
    // |gpu - ref| <= 1e-6 + 1e-5 * |ref| covers f32 sums of 18 terms.
    const script = `
      import { DiceEngine } from 'wgsl-dice';
      import { requestNodeDevice, takeUncapturedErrors } from 'wgsl-dice/node';
      import { diceReference, mulberry32 } from 'wgsl-dice/reference';
      const shape = [2, 3, 3, 2];
      const random = mulberry32(13);
      const pred = Float32Array.from({ length: 36 }, () => random());
      const target = Float32Array.from({ length: 36 }, () => (random() < 0.5 ? 0 : 1));
      const device = await requestNodeDevice();
      const engine = await DiceEngine.create(device);
      const dice = await engine.dice({ shape, reduce: 'per-class' });
      const { loss } = await dice.compute(pred, target);
      const expected = diceReference(pred, target, { shape, reduce: 'per-class' }).loss;
      engine.destroy();
      await device.queue.onSubmittedWorkDone();
      const errors = takeUncapturedErrors(device).map((e) => e.message);
      device.destroy();
      console.log(JSON.stringify({ loss, expected, errors }));`;
    const run = runNode(['--input-type=module', '-e', script]);
    expect(run.status, run.stderr).toBe(0);
    const { loss, expected, errors } = JSON.parse(run.stdout.trim().split('\n').pop()!);
    expect(errors).toEqual([]);
    expect(Math.abs(loss - expected)).toBeLessThanOrEqual(1e-6 + 1e-5 * Math.abs(expected));
  }, 120_000);

  it('with webgpu: `wgsl-dice eval` on two NIfTI files agrees with the float64 reference', () => {
    if (!existsSync(join(scratch, 'node_modules/webgpu'))) npmInstall(localPackage('webgpu'));
    for (const name of ['pred.nii.gz', 'target.nii.gz']) copyFileSync(join(NIFTI_FIXTURES, name), join(scratch, name));
    const run = cli(['eval', '--pred', 'pred.nii.gz', '--target', 'target.nii.gz', '--json', '--quiet']);
    expect(run.status, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.spacing.source).toBe('target header pixdim');
    expectReportMatchesReference(report, fixtureLabelMaps(), {
      labels: [1, 2, 4, 5],
      spacing: FIXTURE_SPACING,
      percentile: 95,
      tolerance: [1, 1, 1, 1],
      symmetric: true,
    });
  }, 120_000);

  it('with tfjs-core and webgpu but without tfjs-backend-webgpu: wgsl-dice/tfjs imports, useTfjsWebGPU names the npm command', () => {
    npmInstall(localPackage('@tensorflow/tfjs-core'));
    if (!existsSync(join(scratch, 'node_modules/webgpu'))) npmInstall(localPackage('webgpu'));
    const script = `
      import * as tf from '@tensorflow/tfjs-core';
      import { useTfjsWebGPU, WebGpuUnavailableError } from 'wgsl-dice/node';
      const tfjs = await import('wgsl-dice/tfjs');
      try {
        await useTfjsWebGPU(tf);
        console.log(JSON.stringify({ threw: false }));
      } catch (error) {
        console.log(JSON.stringify({
          losses: typeof tfjs.diceLoss, threw: true, isTyped: error instanceof WebGpuUnavailableError, code: error.code, message: error.message,
        }));
      }
      process.exit(0);`;
    const run = runNode(['--input-type=module', '-e', script]);
    const result = JSON.parse(run.stdout.trim().split('\n').pop()!);
    expect(result).toMatchObject({ losses: 'function', threw: true, isTyped: true, code: 'WEBGPU_UNAVAILABLE' });
    expect(result.message).toContain('npm install @tensorflow/tfjs-backend-webgpu');
  });
});
