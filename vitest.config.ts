import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

// Two tiers (vitest projects):
// - unit: test/unit/**, pure logic (options, planning, packers against the WGSL, reflection,
//   the float64 reference); no WebGPU adapter needed, so no adapter set-up, and `webgpu` cannot
//   even be imported there. `npm run test:unit`.
// - gpu: every other test/**/*.test.ts, on a real device; its global set-up makes sure dawn.node
//   finds an adapter (installing lavapipe where it can) and fails the run otherwise.
//   `npm run test:gpu`.
// `npm test` runs unit, then gpu; a bare `vitest run` runs both, unit first (groupOrder).
export default defineConfig({
  plugins: [
    {
      // Mirrors esbuild's `text` loader in build.mjs so tests run the same shader sources.
      name: 'wgsl-as-text',
      transform(_code: string, id: string) {
        if (!id.endsWith('.wgsl')) return null;
        return { code: `export default ${JSON.stringify(readFileSync(id, 'utf8'))};`, map: null };
      },
    },
  ],
  test: {
    // dawn.node is a native addon: one process per worker, never worker threads.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 300_000,
    projects: [
      {
        extends: true,
        resolve: {
          alias: [
            { find: /^webgpu$/, replacement: fileURLToPath(new URL('./test/setup/no-webgpu.ts', import.meta.url)) },
          ],
        },
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'gpu',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/unit/**'],
          globalSetup: ['test/setup/ensure-webgpu.ts'],
          sequence: { groupOrder: 1 },
          // GPU test files spend most of their time in lavapipe compiling pipelines, one
          // single-threaded LLVM compile at a time, while the runner itself idles: one worker per
          // core (vitest's default leaves one core free, so a 2-core machine ran files one by one).
          maxWorkers: availableParallelism(),
          env: {
            // lavapipe compiles every shader for its native SIMD width (8 lanes with AVX2); at 4
            // lanes LLVM takes 2-3x less time per pipeline, and the tests' tensors are small.
            // Still a conformant Vulkan device, with 4-wide subgroups (WebGPU allows 4 to 128).
            // Set LP_NATIVE_VECTOR_WIDTH=256 to test the native width.
            LP_NATIVE_VECTOR_WIDTH: process.env.LP_NATIVE_VECTOR_WIDTH ?? '128',
          },
        },
      },
    ],
  },
});
