// wgsl-dice in real Chromium: Debian's Chromium (installed by scripts/install-chromium.mjs when
// missing) runs the built core bundle on navigator.gpu (SwiftShader, Vulkan on the CPU) and
// computes the seed's three losses with gradients. The results are checked against the float64
// reference with the tolerances of test/tolerance.ts; any WebGPU error in the page fails the
// test, and so does a browser without WebGPU. Nothing is skipped. The README's browser quick start
// runs in the same page, as written (its `wgsl-dice` import pointed at the built bundle).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleForBrowser } from '../demo/web/bundle.js';
import type { DiceLossOptions } from '../src/index.js';
import { diceReference, familyReference } from '../src/reference/index.js';
import { ensureBuilt, REPO_ROOT } from './browser/dist.js';
import type { BrowserCase, BrowserRun } from './browser/page.js';
import { openTestPage, type TestPage } from './browser/test-page.js';
import { expectClose, mulberry32 } from './helpers/gpu.js';
import { importCapturingLog, readmeBrowserModule } from './helpers/readme-blocks.js';
import { gradTolerance, LOSS_TOL, SUM_TOL } from './tolerance.js';

const JS = 'text/javascript; charset=utf-8';

let testPage: TestPage;

beforeAll(async () => {
  const [index, reference] = await ensureBuilt(['dist/index.js', 'dist/reference.js']);
  testPage = await openTestPage(
    {
      '/': { body: readFileSync(join(REPO_ROOT, 'test/browser/page.html')), type: 'text/html; charset=utf-8' },
      '/page.js': { body: await bundleForBrowser(join(REPO_ROOT, 'test/browser/page.ts')), type: JS },
      '/dist/index.js': { body: readFileSync(index), type: JS },
      '/dist/reference.js': { body: readFileSync(reference), type: JS },
      '/readme-quick-start.js': {
        body: await readmeBrowserModule('Quick start: browser', { 'wgsl-dice': '/dist/index.js' }),
        type: JS,
      },
    },
    'wgslDiceBrowserTest',
  );
});

afterAll(async () => {
  await testPage?.close();
});

describe("the README's browser quick start", () => {
  it('runs in the page as written and prints a finite loss', async () => {
    const printed = await testPage.page.evaluate<string[]>(importCapturingLog('/readme-quick-start.js'));
    const loss = /^loss (\S+)$/.exec(printed.at(-1) ?? '');
    expect(loss, printed.join('\n')).not.toBeNull();
    // The quick start's own inputs, through the float64 reference.
    const [B, H, W, C] = [2, 16, 16, 3];
    const logits = Float32Array.from({ length: B * H * W * C }, (_, i) => Math.sin(i));
    const labels = Float64Array.from({ length: B * H * W }, (_, i) => (i % 7 === 0 ? 255 : i % C));
    const want = familyReference(logits, labels, {
      shape: [B, H, W, C],
      activation: 'softmax',
      target: 'u8',
      ignoreIndex: 255,
    }).loss;
    expectClose([Number(loss![1])], [want], LOSS_TOL, 'README browser quick start loss');
  });
});

/** Seeded inputs: soft predictions and one-hot targets (a binary mask for C = 1). */
function makeCase(options: DiceLossOptions, seed: number): BrowserCase {
  const random = mulberry32(seed);
  const n = options.shape.reduce((a, b) => a * b, 1);
  const classes = options.shape[options.shape.length - 1];
  // f32-exact values, so the page (which uploads Float32Arrays) and Node see the same inputs.
  const pred = Array.from({ length: n }, () => Math.fround(random()));
  const target = new Array<number>(n).fill(0);
  for (let pixel = 0; pixel < n / classes; pixel++) {
    if (classes === 1) target[pixel] = random() < 0.3 ? 1 : 0;
    else target[pixel * classes + Math.floor(random() * classes)] = 1;
  }
  return { options, pred, target };
}

// The seed's three losses, on a shape whose slabs split into vec4 rows and on an odd one that
// takes the scalar kernels.
const CASES: BrowserCase[] = [
  makeCase({ shape: [2, 24, 20, 3], reduce: 'global' }, 1),
  makeCase({ shape: [2, 24, 20, 3], reduce: 'per-class', weights: [0.2, 0.3, 0.5] }, 2),
  makeCase({ shape: [2, 24, 20, 3], reduce: 'per-class' }, 3),
  makeCase({ shape: [3, 7, 5, 1], reduce: 'global' }, 4),
  makeCase({ shape: [1, 13, 11, 5], reduce: 'per-class', weights: [1, 2, 0, 0.5, 3] }, 5),
  makeCase({ shape: [3, 9, 7, 3], reduce: 'per-class', epsilon: { numerator: 0, denominator: 1e-3 } }, 6),
];

describe('wgsl-dice in Chromium', () => {
  let run: BrowserRun;

  beforeAll(async () => {
    run = await testPage.page
      .evaluate((cases) => window.wgslDiceBrowserTest!.run(cases), CASES)
      .catch((error: Error) => {
        throw new Error(`the page failed: ${error.message}\n${testPage.log.join('\n')}`);
      });
    console.log(`[browser] WebGPU adapter in Chromium: ${JSON.stringify(run.adapter)}`);
  });

  it('runs on navigator.gpu with no WebGPU error', () => {
    expect(run.gpuErrors).toEqual([]);
    expect(run.results).toHaveLength(CASES.length);
  });

  it.each(CASES.map((c, i) => [i, JSON.stringify(c.options)] as const))(
    'case %i %s agrees with the float64 reference',
    (i) => {
      const { options, pred, target } = CASES[i];
      const got = run.results[i];
      const want = diceReference(pred, target, options);
      const gradTol = gradTolerance(want.grad);
      expectClose([got.loss], [want.loss], LOSS_TOL, 'loss (compute)');
      expectClose(got.dice, want.dice, SUM_TOL, 'dice (compute)');
      expectClose(got.grad, want.grad, gradTol, 'grad (compute)');
      expectClose([got.encodedLoss], [want.loss], LOSS_TOL, 'loss (encode)');
      expectClose(got.encodedGrad, want.grad, gradTol, 'grad (encode)');
      // The same float64 code in the browser bundle and in Node gives the same numbers.
      expect(got.reference.loss).toBe(want.loss);
      expect(got.reference.dice).toEqual(Array.from(want.dice));
      expect(got.reference.grad).toEqual(Array.from(want.grad));
    },
  );
});
