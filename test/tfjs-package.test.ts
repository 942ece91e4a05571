// The published wgsl-dice/tfjs entry as a user imports it: through package.json's exports
// (`import { diceLoss } from 'wgsl-dice/tfjs'`, Node resolving the package by its own name),
// with TensorFlow.js as an external peer and the core entry still free of it; and a child
// process that trains a model with `model.compile({ loss: diceLoss() })` + `model.fit` on the
// webgpu backend set up by `useTfjsWebGPU` from 'wgsl-dice/node'.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureBuilt, REPO_ROOT } from './browser/dist.js';

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));

describe('the wgsl-dice/tfjs entry', () => {
  it('is exported with types; TensorFlow.js is an optional peer dependency, not bundled', async () => {
    const [tfjs, core] = await ensureBuilt(['dist/tfjs.js', 'dist/index.js', 'dist/types/tfjs/index.d.ts']);
    expect(pkg.exports['./tfjs']).toEqual({ types: './dist/types/tfjs/index.d.ts', import: './dist/tfjs.js' });
    for (const name of ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-webgpu']) {
      expect(pkg.peerDependencies[name], name).toBeDefined();
      expect(pkg.peerDependenciesMeta[name], name).toEqual({ optional: true });
      expect(pkg.dependencies?.[name], name).toBeUndefined();
    }
    const imports = (file: string) =>
      [...readFileSync(file, 'utf8').matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]);
    const dynamicImports = (file: string) =>
      [...readFileSync(file, 'utf8').matchAll(/\bimport\("([^"]+)"\)/g)].map((m) => m[1]);
    // The core entry imports nothing; the tfjs entry only the core (one WgslDiceError class) and,
    // dynamically (a missing TensorFlow.js is a TfjsUnavailableError), tfjs-core.
    expect(imports(core)).toEqual([]);
    expect(new Set(imports(tfjs))).toEqual(new Set(['./index.js']));
    expect(dynamicImports(tfjs)).toEqual(['@tensorflow/tfjs-core']);
  });

  it("trains with model.compile({ loss: diceLoss() }) + model.fit, imported as 'wgsl-dice/tfjs'", async () => {
    await ensureBuilt(['dist/tfjs.js', 'dist/node.js', 'dist/index.js']);
    const script = `
      import * as tf from '@tensorflow/tfjs';
      import { useTfjsWebGPU } from 'wgsl-dice/node';
      import { diceLoss } from 'wgsl-dice/tfjs';
      await useTfjsWebGPU(tf);
      const x = tf.randomUniform([8, 8, 8, 1], 0, 1, 'float32', 1);
      // A cast of a bool tensor: on webgpu its buffer keeps int32 bytes (the cast trap).
      const y = tf.cast(tf.greater(x, 0.5), 'float32');
      const model = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 1, kernelSize: 1, activation: 'sigmoid', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) })] });
      const loss = diceLoss();
      model.compile({ optimizer: tf.train.adam(0.1), loss });
      const history = await model.fit(x, y, { epochs: 8, batchSize: 4, verbose: 0 });
      console.log(JSON.stringify({ backend: tf.getBackend(), losses: history.history.loss, calls: loss.calls }));
      process.exit(0);`;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 240_000,
    });
    const result = JSON.parse(output.trim().split('\n').at(-1)!) as {
      backend: string;
      losses: number[];
      calls: { gpu: number; tfjsOps: number };
    };
    expect(result.backend).toBe('webgpu');
    expect(result.losses).toHaveLength(8);
    expect(result.losses.at(-1)!).toBeLessThan(result.losses[0]);
    expect(result.calls.gpu).toBeGreaterThan(0);
    expect(result.calls.gpu + result.calls.tfjsOps).toBe(16);
  });
});
