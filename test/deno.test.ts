// The second WebGPU implementation: a float64-checked conformance subset of the built library
// (seed losses, every family case of test/helpers/family-cases.ts, all public peer vectors
// through the presets, determinism) run by Deno, whose navigator.gpu is wgpu with the naga WGSL
// compiler (Firefox's stack), where the rest of the suite runs on Dawn/Tint (Chrome's). Deno comes
// from the `deno` devDependency (its platform package carries the binary: no download step).
// No Deno binary, no adapter, a failing check or any uncaptured WebGPU error fails this test.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureBuilt, REPO_ROOT } from './browser/dist.js';

interface CheckLine {
  check: string;
  ok: boolean;
  detail: string | null;
}
interface Summary {
  adapter: string | null;
  passed: number;
  failed: number;
  vectors: number;
  uncaptured: string[];
  error?: string;
}

const DENO = join(REPO_ROOT, 'node_modules', '.bin', process.platform === 'win32' ? 'deno.cmd' : 'deno');

describe('Deno (wgpu / naga)', () => {
  it('runs the conformance subset with no failure and no uncaptured WebGPU error', async () => {
    await ensureBuilt(['dist/index.js', 'dist/reference.js']);
    expect(existsSync(DENO), `no Deno at ${DENO}: run npm install (deno is a devDependency)`).toBe(true);
    const run = spawnSync(
      DENO,
      ['run', '--unstable-webgpu', '--allow-read', '--allow-env', 'test/deno/conformance.mjs'],
      {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        timeout: 280_000,
        env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? tmpdir(), NO_COLOR: '1' },
      },
    );
    const lines = run.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as CheckLine | { summary: Summary });
    const summary = lines.find((l): l is { summary: Summary } => 'summary' in l)?.summary;
    expect(
      summary,
      `Deno printed no summary (exit ${run.status}, signal ${run.signal}):\n${run.stderr.slice(-4000)}`,
    ).toBeDefined();
    const failures = lines.filter((l): l is CheckLine => 'check' in l && !l.ok).map((l) => `${l.check}: ${l.detail}`);
    expect(summary!.adapter, summary!.error).not.toBeNull();
    expect(failures).toEqual([]);
    expect(summary!.uncaptured).toEqual([]);
    // 9 seed cases, the family cases, the 92 public vectors and the determinism check all ran.
    expect(summary!.vectors).toBe(92);
    expect(summary!.passed).toBeGreaterThanOrEqual(9 + 32 + 92 + 1);
    expect(run.status).toBe(0);
  }, 300_000);
});
