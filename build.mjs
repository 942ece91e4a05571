// Builds the library for browsers and Node with esbuild (WGSL imported as text) and emits type
// declarations with tsc. The core and reference entries are platform-neutral; only the Node entry
// may import `webgpu` (dawn.node), which stays external so its native addon loads from
// node_modules.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const outdir = 'dist';
rmSync(outdir, { recursive: true, force: true });

const shared = {
  bundle: true,
  format: 'esm',
  target: 'es2022',
  sourcemap: true,
  loader: { '.wgsl': 'text' },
  logLevel: 'warning',
};

await build({
  ...shared,
  platform: 'neutral',
  entryPoints: { index: 'src/index.ts', reference: 'src/reference/index.ts' },
  outdir,
});
await build({
  ...shared,
  platform: 'node',
  entryPoints: { node: 'src/node/index.ts' },
  external: ['webgpu'],
  outdir,
});

execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
  stdio: 'inherit',
});
console.log(`built ${outdir}/`);
