// What `npm pack` would publish: the built entries with their types, the shaders, the docs;
// no tests, no benchmark, no demo.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ensureBuilt, REPO_ROOT } from './browser/dist.js';

describe('npm pack contents', () => {
  it('ships the three entries with types and nothing from test/, bench/ or demo/', async () => {
    await ensureBuilt(['dist/index.js', 'dist/node.js', 'dist/reference.js', 'dist/cli.js']);
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const [report] = JSON.parse(
      execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO_ROOT, encoding: 'utf8' }),
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
    const unwanted = files.filter((f) => /^(test|bench|demo|scripts|node_modules)\//.test(f) || /^dist\/(bench|demo)/.test(f));
    expect(unwanted).toEqual([]);
  });
});
