// The built `wgsl-dice` CLI (node dist/cli.js) as a user runs it: help texts, `doctor` on this
// machine's adapter, `eval` on .npy files written here (checked against the float64 reference),
// the gradient file, and clear errors with non-zero exit codes for bad input.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseNpy } from '../src/cli/npy.js';
import { diceReference, peerReference, type DiceReferenceOptions } from '../src/reference/index.js';
import { ensureBuilt, REPO_ROOT } from './browser/dist.js';
import { expectClose, mulberry32 } from './helpers/gpu.js';
import {
  expectReportMatchesReference,
  FIXTURE_SPACING,
  fixtureLabelMaps,
  NIFTI_FIXTURES,
} from './helpers/segmentation-report.js';
import { gradTolerance, LOSS_TOL, SUM_TOL } from './tolerance.js';

let cli: string;
let dir: string;

beforeAll(async () => {
  [cli] = await ensureBuilt(['dist/cli.js']);
  dir = mkdtempSync(join(tmpdir(), 'wgsl-dice-cli-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function run(...args: string[]) {
  const result = spawnSync(process.execPath, [cli, ...args], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** An .npy file with any header (float16, float64, Fortran order...), written by the test itself. */
function writeRawNpy(name: string, descr: string, shape: number[], data: ArrayBufferView, fortran = false): string {
  const dims = `${shape.join(', ')}${shape.length === 1 ? ',' : ''}`;
  const dict = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': (${dims}), }`;
  const headerLength = Math.ceil((10 + dict.length + 1) / 64) * 64 - 10;
  const header = Buffer.alloc(10 + headerLength, ' ');
  header.write('\x93NUMPY', 0, 'latin1');
  header.writeUInt8(1, 6);
  header.writeUInt8(0, 7);
  header.writeUInt16LE(headerLength, 8);
  header.write(dict, 10, 'latin1');
  header.write('\n', 10 + headerLength - 1, 'latin1');
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat([header, Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
  return path;
}

function writeNpy(name: string, data: Float32Array | Uint8Array, shape: number[]): string {
  return writeRawNpy(name, data instanceof Float32Array ? '<f4' : '|u1', shape, data);
}

/** A .npy file read back by the CLI's reader (itself checked against NumPy's files in test/unit/npy.test.ts). */
const readNpyFile = (path: string) => parseNpy(readFileSync(path));

// [B, H, W, C] = [2, 9, 7, 3]: an odd spatial size; labels as a uint8 map and as one-hot f32.
const shape = [2, 9, 7, 3];
const random = mulberry32(11);
const pred = Float32Array.from({ length: 2 * 9 * 7 * 3 }, () => random());
const labels = Uint8Array.from({ length: 2 * 9 * 7 }, () => Math.floor(random() * 3));
const oneHot = new Float32Array(pred.length);
labels.forEach((label, voxel) => (oneHot[voxel * 3 + label] = 1));

describe('help', () => {
  it('wgsl-dice --help lists the commands', () => {
    const { status, stdout } = run('--help');
    expect(status).toBe(0);
    expect(stdout).toMatch(/^Usage: wgsl-dice <command>/);
    for (const command of ['doctor', 'eval', 'bench']) expect(stdout).toContain(`  ${command} `);
  });

  it.each(['doctor', 'eval', 'bench'])('wgsl-dice %s --help', (command) => {
    const { status, stdout } = run(command, '--help');
    expect(status).toBe(0);
    expect(stdout).toMatch(/usage/i);
  });

  it('eval --help says label maps are expanded on the CPU for now', () => {
    expect(run('eval', '--help').stdout).toMatch(/label map[\s\S]*one-hot on the CPU/);
  });

  it('the built file starts with a node shebang, so npm can link it as a bin', () => {
    expect(readFileSync(cli, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });
});

describe('bench', () => {
  it('without dist/bench.js next to the CLI: a clear error (exit 1), bench --help still works, the help does not list it', () => {
    // A copy of the CLI and the library bundles it imports, without bench.js, in a folder under
    // node_modules so that its packages still resolve.
    const alone = join(REPO_ROOT, 'node_modules/.cache/wgsl-dice-cli-alone');
    mkdirSync(alone, { recursive: true });
    for (const file of ['cli.js', 'index.js', 'node.js', 'reference.js']) {
      copyFileSync(join(dirname(cli), file), join(alone, file));
    }
    try {
      const missing = spawnSync(process.execPath, [join(alone, 'cli.js'), 'bench', '--quick'], { encoding: 'utf8' });
      expect(missing.status).toBe(1);
      expect(missing.stderr).toContain('the benchmark is not built');
      const help = spawnSync(process.execPath, [join(alone, 'cli.js'), 'bench', '--help'], { encoding: 'utf8' });
      expect(help.status).toBe(0);
      expect(help.stdout).toContain('Usage: wgsl-dice bench');
      // What the published package has: the main help lists no bench (issue 21).
      const main = spawnSync(process.execPath, [join(alone, 'cli.js'), '--help'], { encoding: 'utf8' });
      expect(main.status).toBe(0);
      expect(main.stdout).toMatch(/^ {2}doctor /m);
      expect(main.stdout).not.toMatch(/^ {2}bench /m);
      expect(main.stdout).toContain('LP_NATIVE_VECTOR_WIDTH=128');
    } finally {
      rmSync(alone, { recursive: true, force: true });
    }
  });
});

describe('doctor', () => {
  it('reports the adapter and every check agrees with the reference (exit 0)', () => {
    const { status, stdout, stderr } = run('doctor', '--json');
    expect(status, stderr).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.ok).toBe(true);
    expect(report.adapter.vendor).toBeTypeOf('string');
    expect(report.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
    const names = new Set(report.checks.map((c: { loss: string }) => c.loss));
    for (const seed of ['global', 'weighted per-class', 'per-class mean']) expect(names).toContain(seed);
    for (const family of [
      'softmax + u8 labels, ignore',
      'generalized Dice',
      'Dice + cross-entropy',
      'Dice + focal (sigmoid)',
    ]) {
      expect(names).toContain(family);
    }
    const classes = report.checks.map((c: { shape: number[] }) => c.shape[c.shape.length - 1]);
    expect(classes).toContain(1);
    expect(classes).toContain(64);
    expect(report.checks.every((c: { ok: boolean }) => c.ok)).toBe(true);
  });

  it('prints a table in text mode, line by line as the checks finish, with a note on a software adapter', async () => {
    // Each chunk of stdout as it arrives: the adapter comes first, long before the summary
    // (before issue 21 the whole report came in one write at the end, after ~2 minutes cold).
    const child = spawn(process.execPath, [cli, 'doctor'], { cwd: dir });
    const chunks: string[] = [];
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => chunks.push(chunk));
    const status = await new Promise<number | null>((resolve) => child.once('close', resolve));
    const stdout = chunks.join('');
    expect(status).toBe(0);
    expect(stdout).toMatch(/worst err\/tol/);
    const summary = /All (\d+) checks agree with the float64 reference/.exec(stdout);
    expect(summary).not.toBeNull();
    expect(chunks[0]).toMatch(/^adapter /);
    expect(chunks[0]).not.toContain('checks agree');
    // The header, the rows and the summary are written as they come. A pipe may join writes that
    // land close together (fast checks), so count a few separate arrivals, not one per check.
    expect(chunks.length).toBeGreaterThan(2);
    if (/software/.test(chunks[0])) expect(stdout).toMatch(/note {6}This is a software adapter.*compiles/);
  });
});

describe('eval', () => {
  const cases: [string, DiceReferenceOptions, string[]][] = [
    ['global', { shape, reduce: 'global' }, []],
    [
      'weighted per-class',
      { shape, reduce: 'per-class', weights: [0.5, 2, 1] },
      ['--reduce', 'per-class', '--weights', '0.5,2,1'],
    ],
    [
      'per-class mean, epsilon 1e-3',
      { shape, reduce: 'per-class', epsilon: 1e-3 },
      ['--reduce', 'per-class', '--epsilon', '1e-3'],
    ],
  ];

  it.each(cases)('%s: --json values and --grad-out match the reference', (name, options, flags) => {
    const predPath = writeNpy('pred.npy', pred, shape);
    const targetPath = writeNpy('target.npy', oneHot, shape);
    const gradPath = join(dir, `grad-${name.replace(/\W+/g, '-')}.npy`);
    const { status, stdout, stderr } = run(
      'eval',
      '--pred',
      predPath,
      '--target',
      targetPath,
      ...flags,
      '--grad-out',
      gradPath,
      '--json',
    );
    expect(status, stderr).toBe(0);
    const report = JSON.parse(stdout);
    const want = diceReference(pred, oneHot, options);
    expectClose([report.loss], [want.loss], LOSS_TOL, 'loss');
    expectClose(
      report.groups.map((g: { dice: number }) => g.dice),
      want.dice,
      SUM_TOL,
      'dice',
    );
    expectClose(
      report.groups.map((g: { targetSum: number }) => g.targetSum),
      want.targetSum,
      SUM_TOL,
      'target sums',
    );
    // One vocabulary with engine.loss() and engine.dice()'s groups: score and tp, as dice and intersection.
    for (const g of report.groups) expect([g.score, g.tp]).toEqual([g.dice, g.intersection]);
    expect(report.target.conversion).toBe('none');
    expect(report.gradOut).toBe(gradPath);

    const grad = readNpyFile(gradPath);
    expect(grad.dtype).toBe('f4');
    expect(grad.shape).toEqual(shape);
    expectClose(grad.data as Float32Array, want.grad, gradTolerance(want.grad), 'gradient file');
  });

  it('a uint8 label map gives the same result as its one-hot float32 target', () => {
    const predPath = writeNpy('pred.npy', pred, shape);
    const labelPath = writeNpy('labels.npy', labels, [2, 9, 7]);
    const { status, stdout, stderr } = run(
      'eval',
      '--pred',
      predPath,
      '--target',
      labelPath,
      '--reduce',
      'per-class',
      '--json',
    );
    expect(status, stderr).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.target.conversion).toBe('label map to one-hot (CPU)');
    const want = diceReference(pred, oneHot, { shape, reduce: 'per-class' });
    expectClose([report.loss], [want.loss], LOSS_TOL, 'loss');
    expect(report.groups.map((g: { sample: number; class: number }) => [g.sample, g.class])).toEqual(
      [0, 1].flatMap((b) => [0, 1, 2].map((c) => [b, c])),
    );
  });

  it('reads float16 predictions (widened to float32)', () => {
    // 0.5 and 0.25 are exact in float16: 0x3800 and 0x3400.
    const half = Uint16Array.from({ length: pred.length }, (_, i) => (i % 2 ? 0x3800 : 0x3400));
    const widened = Float32Array.from(half, (h) => (h === 0x3800 ? 0.5 : 0.25));
    const predPath = writeRawNpy('pred16.npy', '<f2', shape, half);
    const targetPath = writeNpy('target.npy', oneHot, shape);
    const { status, stdout, stderr } = run('eval', '--pred', predPath, '--target', targetPath, '--json');
    expect(status, stderr).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.pred.dtype).toBe('f2');
    expectClose([report.loss], [diceReference(widened, oneHot, { shape }).loss], LOSS_TOL, 'loss');
  });

  it('converts float64 pred and target to float32 with a note on stderr, and refuses values beyond float32', () => {
    const pred64 = Float64Array.from(pred, (p, i) => p + (i % 3) * 1e-12); // not all float32 numbers
    const predPath = writeRawNpy('pred64.npy', '<f8', shape, pred64);
    const targetPath = writeRawNpy('target64.npy', '<f8', shape, Float64Array.from(oneHot));
    const { status, stdout, stderr } = run('eval', '--pred', predPath, '--target', targetPath, '--json');
    expect(status, stderr).toBe(0);
    expect(stderr).toMatch(/note: pred file .*pred64\.npy holds float64; .*converted \(\d+ of 378 values rounded/);
    expect(stderr).toMatch(/note: target file .*target64\.npy holds float64; .*every value is exact in float32/);
    const report = JSON.parse(stdout);
    expect(report.pred.dtype).toBe('f8');
    expectClose([report.loss], [diceReference(Float32Array.from(pred64), oneHot, { shape }).loss], LOSS_TOL, 'loss');

    const huge = Float64Array.from(pred);
    huge[7] = 1e39;
    const hugePath = writeRawNpy('huge64.npy', '<f8', shape, huge);
    const overflow = run('eval', '--pred', hugePath, '--target', targetPath);
    expect(overflow.status).toBe(1);
    expect(overflow.stderr).toMatch(
      /pred file .*huge64\.npy holds float64 1e\+39 at flat index 7, beyond float32's range/,
    );
  });

  it('prints a readable report without --json', () => {
    const predPath = writeNpy('pred.npy', pred, shape);
    const labelPath = writeNpy('labels.npy', labels, [2, 9, 7]);
    const { status, stdout } = run('eval', '--pred', predPath, '--target', labelPath, '--reduce', 'per-class');
    expect(status).toBe(0);
    expect(stdout).toMatch(/^loss +\d\.\d+ +\(mean per-class Dice/m);
    expect(stdout).toContain('label map to one-hot (CPU)');
  });
});

describe('eval errors exit non-zero with a clear message', () => {
  const predPath = () => writeNpy('pred.npy', pred, shape);

  it('a missing file (exit 1)', () => {
    const { status, stderr } = run('eval', '--pred', join(dir, 'nope.npy'), '--target', predPath());
    expect(status).toBe(1);
    expect(stderr).toContain('cannot read the pred file');
    expect(stderr).toContain('no such file');
  });

  it('a target whose shape does not match pred (exit 1)', () => {
    const target = writeNpy('small.npy', new Float32Array(2 * 9 * 6 * 3), [2, 9, 6, 3]);
    const { status, stderr } = run('eval', '--pred', predPath(), '--target', target);
    expect(status).toBe(1);
    expect(stderr).toMatch(/shape \[2, 9, 6, 3\].*does not match pred's shape \[2, 9, 7, 3\]/);
  });

  it('a label outside [0, C) (exit 1)', () => {
    const bad = Uint8Array.from(labels);
    bad[5] = 3;
    const target = writeNpy('bad-labels.npy', bad, [2, 9, 7]);
    const { status, stderr } = run('eval', '--pred', predPath(), '--target', target);
    expect(status).toBe(1);
    expect(stderr).toContain('label 3 at flat index 5 is outside [0, 2]');
  });

  it('a file that is not .npy, and a Fortran-ordered one (exit 1)', () => {
    const text = join(dir, 'text.npy');
    writeFileSync(text, 'not numpy');
    expect(run('eval', '--pred', text, '--target', predPath()).stderr).toContain('is not a readable .npy file');
    const fortran = writeRawNpy('fortran.npy', '<f4', shape, pred, true);
    const { status, stderr } = run('eval', '--pred', fortran, '--target', predPath());
    expect(status).toBe(1);
    expect(stderr).toContain('Fortran order');
  });

  it('weights of the wrong length (exit 1, the engine names the problem)', () => {
    const pred = predPath();
    const { status, stderr } = run(
      'eval',
      '--pred',
      pred,
      '--target',
      pred,
      '--reduce',
      'per-class',
      '--weights',
      '1,2',
    );
    expect(status).toBe(1);
    expect(stderr).toContain('weights has 2 entries but the shape has C = 3 classes');
  });

  it('eval --preset runs a peer preset on the GPU: value as the float64 peer reference, gradient as its central differences', () => {
    // MONAI DiceLoss(softmax=True, to_onehot_y=True) takes NCHW logits and a B1HW label map.
    const nchw = [2, 3, 4, 5];
    const logits = Float32Array.from({ length: 120 }, (_, i) => Math.sin(i * 1.7) * 2);
    const labelMap = Uint8Array.from({ length: 40 }, (_, i) => (i * 7) % 3);
    const options = { softmax: true, to_onehot_y: true };
    const predFile = writeNpy('logits.npy', logits, nchw);
    const labelFile = writeNpy('labelmap.npy', labelMap, [2, 1, 4, 5]);
    const gradFile = join(dir, 'preset-grad.npy');
    const { status, stdout, stderr } = run(
      'eval',
      '--pred',
      predFile,
      '--target',
      labelFile,
      '--preset',
      'monai.DiceLoss',
      '--options',
      JSON.stringify(options),
      '--grad-out',
      gradFile,
      '--json',
    );
    expect(status, stderr).toBe(0);
    const report = JSON.parse(stdout);
    const extras = { inputShape: nchw, targetShape: [2, 1, 4, 5] };
    const reference = (x: ArrayLike<number>) =>
      peerReference['monai.losses.DiceLoss'](options, Array.from(x), Array.from(labelMap), extras) as number;
    expectClose([report.value], [reference(logits)], LOSS_TOL, 'preset value');
    const grad = readNpyFile(gradFile).data as Float32Array;
    const fd = Array.from(logits, (_, i) => {
      const up = Float64Array.from(logits);
      const down = Float64Array.from(logits);
      up[i] += 1e-6;
      down[i] -= 1e-6;
      return (reference(up) - reference(down)) / 2e-6;
    });
    expectClose(grad, fd, { atol: 1e-4 * Math.max(...fd.map(Math.abs)), rtol: 1e-4 }, 'preset gradient');
  });

  it('an unknown preset or option names the valid ones (exit 1)', () => {
    const pred = predPath();
    const unknownApi = run('eval', '--pred', pred, '--target', pred, '--preset', 'monai.DiceLos');
    expect(unknownApi.status).toBe(1);
    expect(unknownApi.stderr).toContain('monai has no "DiceLos"');
    const unknownOption = run(
      'eval',
      '--pred',
      pred,
      '--target',
      pred,
      '--preset',
      'monai.DiceLoss',
      '--options',
      '{"smoth_nr": 1}',
    );
    expect(unknownOption.status).toBe(1);
    expect(unknownOption.stderr).toContain("unknown option 'smoth_nr'");
  });

  it('command-line mistakes are usage errors (exit 2)', () => {
    expect(run('eval', '--pred', predPath()).status).toBe(2);
    expect(run('eval', '--pred', predPath(), '--target', predPath(), '--frobnicate').status).toBe(2);
    expect(run('eval', '--pred', predPath(), '--target', predPath(), '--reduce', 'sum').stderr).toContain(
      '--reduce must be global or per-class',
    );
    const { status, stderr } = run('no-such-command');
    expect(status).toBe(2);
    expect(stderr).toContain('unknown command "no-such-command"');
  });
});

describe('eval on label maps: Dice, HD95, ASD and NSD per class (NIfTI and .npy)', () => {
  const fixture = (name: string) => join(NIFTI_FIXTURES, name);
  const maps = fixtureLabelMaps();
  const evalJson = (...args: string[]) => {
    const result = run('eval', ...args, '--json');
    expect(result.status, result.stderr).toBe(0);
    return { report: JSON.parse(result.stdout), stderr: result.stderr };
  };

  it('two NIfTI files: spacing from the header, every class in either map, the float64 reference per class', () => {
    const { report, stderr } = evalJson('--pred', fixture('pred.nii.gz'), '--target', fixture('target.nii.gz'));
    expect(report.pred).toMatchObject({ format: 'NIfTI-1', dtype: 'uint8', dims: [23, 19, 11], unit: 'mm' });
    expect(report.target).toMatchObject({ format: 'NIfTI-1', dtype: 'int16', dims: [23, 19, 11], unit: 'mm' });
    expect(report.spacing).toMatchObject({ unit: 'mm', source: 'target header pixdim' });
    expectClose(report.spacing.values, [0.9, 1.1, 2], { atol: 1e-6, rtol: 0 }, 'spacing (i, j, k)');
    // Label 3 is in neither map (not reported); 5 only in pred.
    expectReportMatchesReference(report, maps, {
      labels: [1, 2, 4, 5],
      spacing: FIXTURE_SPACING,
      percentile: 95,
      tolerance: [1, 1, 1, 1],
      symmetric: true,
    });
    // Progress on stderr, a line per phase when stderr is not a terminal.
    expect(stderr).toMatch(/^wgsl-dice eval: reading pred .*pred\.nii\.gz/m);
    expect(stderr).toMatch(/^wgsl-dice eval: class 5 \(4 of 4\)/m);

    // The same target uncompressed, and as big-endian float32, give the same report.
    for (const other of ['target.nii', 'target-be-f32.nii.gz']) {
      const again = evalJson('--pred', fixture('pred.nii.gz'), '--target', fixture(other), '--quiet');
      expect(again.report.classes, other).toEqual(report.classes);
      expect(again.stderr.includes('wgsl-dice eval:'), other).toBe(false);
    }
  });

  it('.npy label maps: --spacing (array axis order), --percentile 0 (the maximum), per-class --tolerance, --classes, --asd pred-to-target', () => {
    const { report } = evalJson(
      '--pred',
      fixture('pred.npy'),
      '--target',
      fixture('target.npy'),
      '--spacing',
      FIXTURE_SPACING.join(','),
      '--percentile',
      '0',
      '--tolerance',
      '0.5,1,2,3,1.5',
      '--classes',
      '1-5',
      '--asd',
      'pred-to-target',
    );
    expect(report.spacing.source).toBe('--spacing');
    expect(report.percentile).toBeNull();
    expectReportMatchesReference(report, maps, {
      labels: [1, 2, 3, 4, 5],
      spacing: FIXTURE_SPACING,
      percentile: null,
      tolerance: [0.5, 1, 2, 3, 1.5],
      symmetric: false,
    });
    expect(report.classes[2]).toMatchObject({ label: 3, dice: 'nan', hausdorff: 'nan', asd: 'nan', nsd: 'nan' });
  });

  it('an integer .npy pred selects the metrics without options; --include-background reports label 0; a readable table', () => {
    const { report } = evalJson(
      '--pred',
      fixture('pred.npy'),
      '--target',
      fixture('target.npy'),
      '--include-background',
    );
    expect(report.spacing).toMatchObject({ values: [1, 1, 1], unit: 'voxels' });
    expectReportMatchesReference(report, maps, {
      labels: [0, 1, 2, 4, 5],
      spacing: [1, 1, 1],
      percentile: 95,
      tolerance: [1, 1, 1, 1, 1],
      symmetric: true,
    });
    const text = run('eval', '--pred', fixture('pred.nii.gz'), '--target', fixture('target.nii.gz'), '--quiet');
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^class +dice +hd95 +asd +nsd +tolerance +pred voxels +target voxels$/m);
    expect(text.stdout).toMatch(/^5 +0 +nan +inf +0 +1 +1 +0$/m);
    expect(text.stdout).toMatch(/^spacing 0\.9 x 1\.1 x 2 mm \(target header pixdim\)$/m);
  });

  it('bad label maps and option mixes are clear errors (exit 1) or usage errors (exit 2)', () => {
    const onFixtures = (...args: string[]) =>
      run('eval', '--pred', fixture('pred.npy'), '--target', fixture('target.npy'), ...args);
    const transposed = writeNpy('transposed.npy', new Uint8Array(23 * 19 * 11), [23, 19, 11]);
    const shapes = run('eval', '--pred', fixture('pred.npy'), '--target', transposed, '--quiet');
    expect(shapes.status).toBe(1);
    expect(shapes.stderr).toMatch(/shape \[11, 19, 23\] and target .* \[23, 19, 11\]: label maps must be on the same/);
    const fractional = writeNpy(
      'fractional.npy',
      Float32Array.from({ length: 11 * 19 * 23 }, (_, i) => (i % 3) / 2),
      [11, 19, 23],
    );
    const notLabels = run('eval', '--pred', fractional, '--target', fixture('target.npy'), '--tolerance', '1');
    expect(notLabels.status).toBe(1);
    expect(notLabels.stderr).toContain('voxel 1 holds 0.5, which is not a label');
    const mixed = run(
      'eval',
      '--pred',
      fixture('pred.nii.gz'),
      '--target',
      fixture('target.nii.gz'),
      '--reduce',
      'global',
    );
    expect(mixed.status).toBe(2);
    expect(mixed.stderr).toContain('--reduce is a loss option');
    const usage: [string[], string][] = [
      [['--tolerance', '1', '--weights', '1'], 'use one mode'],
      [['--tolerance', '1,2'], '--tolerance has 2 values for 4 classes'],
      [['--classes', '2-1'], '--classes takes labels and ranges'],
      [['--percentile', '101'], '--percentile must be from 0 to 100'],
      [['--asd', 'both'], '--asd must be symmetric or pred-to-target'],
    ];
    for (const [args, message] of usage) {
      const { status, stderr } = onFixtures(...args);
      expect(status, args.join(' ')).toBe(2);
      expect(stderr, args.join(' ')).toContain(message);
    }
  });
});
