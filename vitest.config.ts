import { readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

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
    globalSetup: ['test/setup/ensure-webgpu.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    include: ['test/**/*.test.ts'],
  },
});
