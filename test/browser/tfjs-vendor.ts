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
} as const;

const SOURCES: Record<string, string> = {
  '@tensorflow/tfjs-core': `export * from '@tensorflow/tfjs-core'; import '${GRADIENTS}';`,
  [GRADIENTS]: 'export {};',
  '@tensorflow/tfjs-layers': "export * from '@tensorflow/tfjs-layers';",
  '@tensorflow/tfjs-backend-webgpu': "export * from '@tensorflow/tfjs-backend-webgpu';",
};

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
        external: name === '@tensorflow/tfjs-core' ? [] : ['@tensorflow/tfjs-core'],
        logLevel: 'silent',
      });
      return [url, result.outputFiles[0].text] as const;
    }),
  );
  return Object.fromEntries(bundles);
}
