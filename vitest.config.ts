import { readFileSync } from 'node:fs';
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
          alias: [{ find: /^webgpu$/, replacement: fileURLToPath(new URL('./test/setup/no-webgpu.ts', import.meta.url)) }],
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
        },
      },
    ],
  },
});
