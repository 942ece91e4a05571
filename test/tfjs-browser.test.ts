// wgsl-dice/tfjs in real Chromium: TensorFlow.js (tfjs-core, tfjs-layers, tfjs-backend-webgpu,
// bundled from node_modules and shared through an import map) on navigator.gpu (SwiftShader),
// with the built /dist/tfjs.js. The three classic Dice losses' value and gradient through
// tf.valueAndGrad are checked against the float64 reference (tolerances of test/tolerance.ts),
// and model.compile({ loss: diceLoss() }) + model.fit must train (loss falls) on the GPU path.
// The README's TensorFlow.js browser program runs in the same page as written ('wgsl-dice/tfjs'
// pointed at the built bundle, '@tensorflow/tfjs' at tfjs-core and tfjs-layers).
// Any WebGPU error on tfjs's device fails the test; nothing is skipped.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleForBrowser } from '../demo/web/bundle.js';
import { diceReference } from '../src/reference/index.js';
import { ensureBuilt, REPO_ROOT } from './browser/dist.js';
import { openTestPage, type TestPage } from './browser/test-page.js';
import type { TfjsBrowserCase, TfjsBrowserRun } from './browser/tfjs-page.js';
import { bundleTfjsVendor, TFJS_IMPORT_MAP } from './browser/tfjs-vendor.js';
import { importCapturingLog, readmeBrowserModule } from './helpers/readme-blocks.js';
import { expectClose, mulberry32 } from './helpers/gpu.js';
import { oneHot, seededLabels } from './helpers/tfjs.js';
import { gradTolerance, LOSS_TOL } from './tolerance.js';

const JS = 'text/javascript; charset=utf-8';
const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8" /><title>wgsl-dice/tfjs browser test</title>
<script type="importmap">${JSON.stringify({ imports: TFJS_IMPORT_MAP })}</script>
<script type="module" src="/tfjs-page.js"></script></head>
<body><p>wgsl-dice/tfjs in Chromium: see test/tfjs-browser.test.ts.</p></body></html>`;

let testPage: TestPage;

beforeAll(async () => {
  const [index, tfjs, reference] = await ensureBuilt(['dist/index.js', 'dist/tfjs.js', 'dist/reference.js']);
  const vendor = await bundleTfjsVendor();
  testPage = await openTestPage(
    {
      '/': { body: PAGE, type: 'text/html; charset=utf-8' },
      '/tfjs-page.js': { body: await bundleForBrowser(join(REPO_ROOT, 'test/browser/tfjs-page.ts')), type: JS },
      '/dist/index.js': { body: readFileSync(index), type: JS },
      '/dist/tfjs.js': { body: readFileSync(tfjs), type: JS },
      '/dist/reference.js': { body: readFileSync(reference), type: JS },
      '/readme-tfjs.js': {
        body: await readmeBrowserModule('TensorFlow.js', { 'wgsl-dice/tfjs': '/dist/tfjs.js' }),
        type: JS,
      },
      ...Object.fromEntries(Object.entries(vendor).map(([url, body]) => [url, { body, type: JS }])),
    },
    'wgslDiceTfjsBrowserTest',
    60_000,
  );
});

afterAll(async () => {
  await testPage?.close();
});

const SHAPE = [2, 10, 8, 3];
const WEIGHTS = [0.2, 0.3, 0.5];

function makeCase(loss: TfjsBrowserCase['loss'], seed: number): TfjsBrowserCase {
  const random = mulberry32(seed);
  const voxels = SHAPE[0] * SHAPE[1] * SHAPE[2];
  return {
    loss,
    weights: loss === 'weightedDiceLoss' ? WEIGHTS : undefined,
    shape: SHAPE,
    // f32-exact values, so the page (which makes float32 tensors) and Node see the same inputs.
    pred: Array.from({ length: voxels * 3 }, () => Math.fround(random())),
    target: Array.from(oneHot(seededLabels(seed + 100, voxels, 3), 3)),
  };
}

const CASES = [makeCase('diceLoss', 1), makeCase('weightedDiceLoss', 2), makeCase('multiclassDiceLoss', 3)];

describe('wgsl-dice/tfjs in Chromium', () => {
  let run: TfjsBrowserRun;

  beforeAll(async () => {
    run = await testPage.page
      .evaluate((cases) => window.wgslDiceTfjsBrowserTest!.run(cases), CASES)
      .catch((error: Error) => {
        throw new Error(`the page failed: ${error.message}\n${testPage.log.join('\n')}`);
      });
  });

  it("runs on tfjs's webgpu backend with no WebGPU error", () => {
    expect(run.backend).toBe('webgpu');
    expect(run.gpuErrors).toEqual([]);
    expect(run.results).toHaveLength(CASES.length);
  });

  it.each(CASES.map((c, i) => [i, c.loss] as const))(
    'case %i %s: value and dL/dpred equal the float64 reference',
    (i) => {
      const c = CASES[i];
      const got = run.results[i];
      expect(got.calls).toEqual({ gpu: 1, tfjsOps: 0 });
      const reduce = c.loss === 'diceLoss' ? 'global' : 'per-class';
      const want = diceReference(c.pred, c.target, { shape: c.shape, reduce, weights: c.weights });
      expectClose([got.loss], [want.loss], LOSS_TOL, 'loss');
      expectClose(got.grad, want.grad, gradTolerance(want.grad), 'dL/dpred');
    },
  );

  it('model.compile({ loss: diceLoss() }) + model.fit trains on the GPU loss', () => {
    const { batchLosses, calls } = run.fit;
    expect(batchLosses).toHaveLength(12);
    expect(batchLosses.every(Number.isFinite)).toBe(true);
    expect(calls.gpu).toBeGreaterThanOrEqual(6);
    expect(calls.gpu + calls.tfjsOps).toBe(12);
    const firstEpoch = (batchLosses[0] + batchLosses[1]) / 2;
    const lastEpoch = (batchLosses[10] + batchLosses[11]) / 2;
    expect(lastEpoch).toBeLessThan(0.8 * firstEpoch);
  });
});

describe("the README's TensorFlow.js browser program", () => {
  it('trains its model with the class-weighted Dice loss on the GPU path', async () => {
    const printed = await testPage.page
      .evaluate<string[]>(importCapturingLog('/readme-tfjs.js'))
      .catch((error: Error) => {
        throw new Error(`the README program failed: ${error.message}\n${testPage.log.join('\n')}`);
      });
    const calls = /^GPU calls: (\d+)$/.exec(printed.at(-1) ?? '');
    expect(calls, printed.join('\n')).not.toBeNull();
    expect(Number(calls![1])).toBeGreaterThan(0);
  });
});
