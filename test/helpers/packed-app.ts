// An app made the way a user makes one: the package packed as npm publishes it (`npm pack`),
// installed into an empty folder. Other packages come from this checkout's node_modules as
// `file:` links with --offline, so no test needs the network. Used by test/package.test.ts and
// test/readme.test.ts.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../browser/dist.js';

export const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** What `npm pack --json` reports of the tarball. */
export interface PackedTarball {
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string }[];
}

/** A `file:` install spec for a package of this checkout's node_modules. */
export function localPackage(name: string): string {
  return `file:${realpathSync(join(REPO_ROOT, 'node_modules', name))}`;
}

/**
 * An empty ESM app (`"type": "module"`) in a new temporary folder, with the tarball packed into
 * it. `--ignore-scripts`: dist/ is built already (npm pack would run prepack, the build, again).
 */
export function packIntoNewApp(prefix: string): { dir: string; tarball: string; packed: PackedTarball } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const [packed] = JSON.parse(
    execFileSync(NPM, ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    }),
  ) as [PackedTarball];
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
  return { dir, tarball: join(dir, packed.filename), packed };
}

/**
 * `npm install --offline` of `specs` into `dir`. With `scripts: true` install scripts run, as a
 * user runs it (npm then warns about any the packages have); the result is returned, not thrown.
 */
export function npmInstall(
  dir: string,
  specs: readonly string[],
  { scripts = false }: { scripts?: boolean } = {},
): { status: number | null; output: string } {
  const flags = ['install', '--offline', '--no-audit', '--no-fund', ...(scripts ? [] : ['--ignore-scripts'])];
  const run = spawnSync(NPM, [...flags, ...specs], { cwd: dir, encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}
