// Bundles a TypeScript entry for the browser with esbuild (a devDependency: the web demo and the
// browser tests run from a source checkout). WGSL files load as text, as in build.mjs. wgsl-dice
// itself is not bundled again: imports of src/index.js and src/reference/index.js become imports of
// the built bundles /dist/index.js and /dist/reference.js, so the page runs the published code.
import { resolve } from 'node:path';
import { build, type Plugin } from 'esbuild';

const BUILT_ENTRIES: Record<string, string> = {
  '/src/index.js': '/dist/index.js',
  '/src/reference/index.js': '/dist/reference.js',
  '/src/tfjs/index.js': '/dist/tfjs.js',
};

const useBuiltLibrary: Plugin = {
  name: 'wgsl-dice-from-dist',
  setup(on) {
    on.onResolve({ filter: /\/src\// }, (args) => {
      const target = resolve(args.resolveDir, args.path).replaceAll('\\', '/');
      const suffix = Object.keys(BUILT_ENTRIES).find((entry) => target.endsWith(entry));
      if (suffix) return { path: BUILT_ENTRIES[suffix], external: true };
      return {
        errors: [
          {
            text: `${args.path}: browser code imports wgsl-dice only through src/index.js, src/reference/index.js or src/tfjs/index.js`,
          },
        ],
      };
    });
  },
};

/** The browser-ready ES module for `entry`, as text. */
export async function bundleForBrowser(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    sourcemap: 'inline',
    loader: { '.wgsl': 'text' },
    plugins: [useBuiltLibrary],
    // TensorFlow.js stays one shared instance, loaded by the page's import map (as dist/tfjs.js does).
    external: ['@tensorflow/*'],
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}
