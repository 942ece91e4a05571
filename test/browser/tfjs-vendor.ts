// TensorFlow.js for the browser test of wgsl-dice/tfjs: each package bundled as one ES module
// with tfjs-core left external, so the page's import map gives tfjs-core, tfjs-layers,
// tfjs-backend-webgpu and dist/tfjs.js one shared tfjs-core instance (the packages are the
// devDependencies in node_modules; nothing is fetched).
import { build } from 'esbuild';
import { REPO_ROOT } from './dist.js';

// tfjs-layers imports '@tensorflow/tfjs-core/dist/register_all_gradients' for its side effect;
// the core bundle registers the gradients itself (as the '@tensorflow/tfjs' package does), so
// that path maps to an empty module instead of a second copy of tfjs-core's internals.
const GRADIENTS = '@tensorflow/tfjs-core/dist/register_all_gradients';

/** Import-map names and the URLs the page loads them from. */
export const TFJS_IMPORT_MAP = {
  '@tensorflow/tfjs-core': '/vendor/tfjs-core.js',
  [GRADIENTS]: '/vendor/tfjs-core-gradients.js',
  '@tensorflow/tfjs-layers': '/vendor/tfjs-layers.js',
  '@tensorflow/tfjs-backend-webgpu': '/vendor/tfjs-backend-webgpu.js',
  // What the README's browser program imports: the union package's core and layers (its
  // converter, data and CPU/WebGL backends are not needed on the webgpu backend).
  '@tensorflow/tfjs': '/vendor/tfjs.js',
} as const;

const SOURCES: Record<string, string> = {
  '@tensorflow/tfjs-core': `export * from '@tensorflow/tfjs-core'; import '${GRADIENTS}';`,
  [GRADIENTS]: 'export {};',
  '@tensorflow/tfjs-layers': "export * from '@tensorflow/tfjs-layers';",
  '@tensorflow/tfjs-backend-webgpu': "export * from '@tensorflow/tfjs-backend-webgpu';",
  '@tensorflow/tfjs': "export * from '@tensorflow/tfjs-core'; export * from '@tensorflow/tfjs-layers';",
};

/** The packages other bundles take from the import map rather than bundling again (every one tfjs-core). */
const SHARED = ['@tensorflow/tfjs-core', '@tensorflow/tfjs-layers'];

/** URL path -> ES module text, for every entry of TFJS_IMPORT_MAP. */
export async function bundleTfjsVendor(): Promise<Record<string, string>> {
  const bundles = await Promise.all(
    Object.entries(TFJS_IMPORT_MAP).map(async ([name, url]) => {
      const result = await build({
        stdin: { contents: SOURCES[name], resolveDir: REPO_ROOT, loader: 'js' },
        bundle: true,
        format: 'esm',
        platform: 'browser',
        target: 'es2022',
        write: false,
        external: name === '@tensorflow/tfjs-core' ? [] : name === '@tensorflow/tfjs' ? SHARED : SHARED.slice(0, 1),
        logLevel: 'silent',
      });
      return [url, result.outputFiles[0].text] as const;
    }),
  );
  return Object.fromEntries(bundles);
}
