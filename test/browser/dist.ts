// The built package for tests that run what users run (dist/*.js in a browser, `node dist/cli.js`,
// `node dist/demo.js`). `npm test` builds dist first (`pretest`); when an output is missing or a
// source is newer than it (an edit since the last build) the tests build it, once: test files run in parallel
// processes and build.mjs starts by deleting dist, so builds take a lock and re-check after it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

const SOURCES = ['src', 'shaders', 'demo', 'bench', 'build.mjs', 'package.json', 'tsconfig.build.json'];
const LOCK = join(REPO_ROOT, 'node_modules/.cache/wgsl-dice-build.lock');
const STALE_LOCK_MS = 5 * 60_000;

/** Absolute paths of `outputs` (relative to the repository), built first when missing or stale. */
export async function ensureBuilt(outputs: readonly string[]): Promise<string[]> {
  const paths = outputs.map((output) => join(REPO_ROOT, output));
  // A build by anything else (an editor's watcher, another checkout's script) also empties dist
  // for a moment, so a build that leaves an output missing is retried once.
  for (let attempt = 0; attempt < 2 && !isFresh(paths); attempt++) {
    await withBuildLock(() => {
      if (isFresh(paths)) return;
      try {
        execFileSync(process.execPath, ['build.mjs'], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
      } catch (error) {
        // build.mjs bundles first and emits type declarations last: a type error elsewhere in
        // src fails the build after the bundles these tests run are already written.
        if (!isFresh(paths)) throw error;
        console.warn(
          `[wgsl-dice] npm run build failed after writing ${outputs.join(', ')}:\n${(error as Error).message}`,
        );
      }
    });
  }
  const missing = paths.filter((path) => !existsSync(path));
  if (missing.length > 0) throw new Error(`npm run build did not produce ${missing.join(', ')}`);
  return paths;
}

function isFresh(paths: readonly string[]): boolean {
  if (!paths.every((path) => existsSync(path))) return false;
  const built = Math.min(...paths.map((path) => statSync(path).mtimeMs));
  return SOURCES.every((source) => newestMtime(join(REPO_ROOT, source)) <= built);
}

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

async function withBuildLock(fn: () => void): Promise<void> {
  mkdirSync(join(LOCK, '..'), { recursive: true });
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // A build killed mid-way leaves its lock behind; no build takes minutes.
      const lock = statSync(LOCK, { throwIfNoEntry: false });
      if (lock && Date.now() - lock.mtimeMs > STALE_LOCK_MS) rmSync(LOCK, { recursive: true, force: true });
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    fn();
  } finally {
    rmdirSync(LOCK);
  }
}
