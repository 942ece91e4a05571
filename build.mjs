// Builds the library for browsers and Node with esbuild (WGSL imported as text) and emits type
// declarations with tsc. The core and reference entries are platform-neutral; only the Node entry
// may import `webgpu` (dawn.node), which stays external so its native addon loads from
// node_modules.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const outdir = 'dist';
rmSync(outdir, { recursive: true, force: true });

// No source maps by default: the bundles are readable ESM (not minified), and maps were more than
// half of the published package. `node build.mjs --sourcemap` writes linked ones for debugging.
const sourcemap = process.argv.includes('--sourcemap');

const shared = {
  bundle: true,
  format: 'esm',
  target: 'es2022',
  sourcemap,
  loader: { '.wgsl': 'text' },
  logLevel: 'warning',
};

// The package's dependencies are the CLI's (nifti-reader-js): never bundled into the library
// entries (no library module imports them either: test/unit/layers.test.ts).
const { dependencies = {} } = JSON.parse(readFileSync('package.json', 'utf8'));
await build({
  ...shared,
  platform: 'neutral',
  entryPoints: { index: 'src/index.ts', reference: 'src/reference/index.ts' },
  external: Object.keys(dependencies),
  outdir,
});
// Node-only programs built on the library: the CLI, the benchmark and the demo. Each is built
// when its source exists; their npm dependencies stay external and load from node_modules.
// The library's own entries stay external too: a program that imports src/index.ts (or the node
// or reference entry) imports dist/index.js at run time instead of carrying a second copy of the
// library (and of its error classes, so `instanceof WgslDiceError` holds across them).
const libraryEntries = new Map([
  [path.resolve('src/index.ts'), './index.js'],
  [path.resolve('src/node/index.ts'), './node.js'],
  [path.resolve('src/reference/index.ts'), './reference.js'],
  [path.resolve('src/tfjs/index.ts'), './tfjs.js'],
]);
const libraryAsExternal = {
  name: 'library-as-external',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^\.{1,2}\// }, (args) => {
      const resolved = path.resolve(args.resolveDir, args.path.replace(/\.js$/, '.ts'));
      const bundle = libraryEntries.get(resolved);
      // The node entry itself is built here too; only imports from other files are redirected.
      if (!bundle || args.kind === 'entry-point') return undefined;
      return { path: bundle, external: true };
    });
  },
};
const nodePrograms = {
  node: 'src/node/index.ts',
  cli: 'src/cli/main.ts',
  bench: 'bench/main.ts',
  'bench-cldice': 'bench/cldice.ts',
  'bench-kernel-stats': 'bench/kernel-stats.ts',
  demo: 'demo/main.ts',
  'demo-tubes': 'demo/tubes.ts',
  'demo-web': 'demo/web-server.ts',
};
// The benchmarks also run on a lent GPU machine that has no node_modules but the `webgpu` addon:
// they carry their other npm dependencies (TensorFlow.js is imported only when asked for).
const benchPrograms = new Set(['bench', 'bench-cldice']);
const existing = Object.entries(nodePrograms).filter(([, file]) => existsSync(file));
for (const selfContained of [false, true]) {
  await build({
    ...shared,
    platform: 'node',
    entryPoints: Object.fromEntries(existing.filter(([name]) => benchPrograms.has(name) === selfContained)),
    ...(selfContained
      ? {
          external: ['webgpu', '@tensorflow/*'],
          // The CommonJS dependencies call require() for Node's own modules.
          banner: {
            js: "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);",
          },
        }
      : { packages: 'external' }),
    plugins: [libraryAsExternal],
    outdir,
  });
}

// wgsl-dice/tfjs: platform-neutral like the core, with TensorFlow.js left to the application
// (optional peer dependencies, one instance shared with the user's tfjs) and the core imported
// from the sibling dist/index.js, so both entries share one WgslDiceError class.
const coreAsSibling = {
  name: 'core-as-sibling',
  setup(builder) {
    builder.onResolve({ filter: /^\.\.\/index\.js$/ }, () => ({ path: './index.js', external: true }));
  },
};
await build({
  ...shared,
  platform: 'neutral',
  entryPoints: { tfjs: 'src/tfjs/index.ts' },
  external: ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-webgpu'],
  plugins: [coreAsSibling],
  outdir,
});

execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
  stdio: 'inherit',
});
// stderr, so that `npm run bench -- --json` prints nothing but JSON lines on stdout.
console.error(`built ${outdir}/`);
