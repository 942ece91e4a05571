// A float64-checked conformance subset of the built library (dist/index.js) on a second WebGPU
// implementation: Deno's navigator.gpu, i.e. wgpu, whose WGSL compiler is naga (as in Firefox).
// Run by test/deno.test.ts as:
//   deno run --unstable-webgpu --allow-read --allow-env test/deno/conformance.mjs
// It prints one JSON line per check ({ check, ok, detail }) and a last line { summary }. Any
// uncaptured WebGPU error fails the run (listed in the summary); so does a missing adapter.
// Tolerances are those of test/tolerance.ts: loss |a - e| <= 1e-6 + 1e-5|e|; seed gradients
// atol 1e-5·max|e|, rtol 1e-5; family gradients against central differences of the float64
// reference atol 1e-4·max|e| + 1e-7, rtol 1e-4; the peer vectors as in test/helpers/peer-judge.ts.
import { DiceEngine } from '../../dist/index.js';
import { diceReference, familyReference, familyReferenceGradient, mulberry32 } from '../../dist/reference.js';
import { FAMILY_CASES, makeInputs } from '../helpers/family-cases.ts';
import { judgeVectorResult, runVectorCase } from '../helpers/peer-judge.ts';

const LOSS_TOL = { atol: 1e-6, rtol: 1e-5 };
const results = [];
const uncaptured = [];

function report(check, problem) {
  const line = { check, ok: problem === null, detail: problem };
  results.push(line);
  console.log(JSON.stringify(line));
}

/** Why `actual` is not within `tol` of `expected`, or null. */
function closeness(actual, expected, tol, what) {
  if (actual.length !== expected.length) return `${what}: length ${actual.length}, expected ${expected.length}`;
  for (let i = 0; i < actual.length; i++) {
    const bound = tol.atol + tol.rtol * Math.abs(expected[i]);
    if (!(actual[i] === expected[i] || Math.abs(actual[i] - expected[i]) <= bound)) {
      return `${what}[${i}]: got ${actual[i]}, expected ${expected[i]} (bound ${bound})`;
    }
  }
  return null;
}

const maxAbs = (xs) => xs.reduce((m, x) => Math.max(m, Math.abs(x)), 0);

async function check(name, fn) {
  try {
    report(name, await fn());
  } catch (error) {
    report(name, `threw ${error?.name ?? 'Error'}${error?.code ? ` (${error.code})` : ''}: ${error?.message ?? error}`);
  }
}

async function seedLosses(engine) {
  const shapes = [
    [2, 8, 8, 3],
    [3, 5, 7, 4],
    [1, 9, 2],
  ];
  for (const [i, shape] of shapes.entries()) {
    for (const [reduce, weights] of [['global'], ['per-class'], ['per-class', true]]) {
      const options = { shape, reduce };
      if (weights) options.weights = Array.from({ length: shape.at(-1) }, (_, c) => 0.5 + c);
      await check(`seed ${reduce}${weights ? ' weighted' : ''} ${JSON.stringify(shape)}`, async () => {
        const random = mulberry32(100 + i);
        const n = shape.reduce((a, b) => a * b, 1);
        const pred = Float32Array.from({ length: n }, () => random());
        const target = Float32Array.from({ length: n }, () => (random() < 0.4 ? 1 : 0));
        const loss = await engine.dice(options);
        try {
          const got = await loss.compute(pred, target, { grad: true });
          const want = diceReference(pred, target, options);
          return (
            closeness([got.loss], [want.loss], LOSS_TOL, 'loss') ??
            closeness(got.grad, want.grad, { atol: 1e-5 * maxAbs(want.grad), rtol: 1e-5 }, 'grad')
          );
        } finally {
          loss.destroy();
        }
      });
    }
  }
}

async function familyOptions(engine) {
  for (const [index, c] of FAMILY_CASES.entries()) {
    await check(`family: ${c.name}`, async () => {
      const { pred, target, mask } = makeInputs(c, mulberry32(1000 + index));
      const loss = await engine.loss(c.options);
      try {
        const got = await loss.compute(pred, target, { grad: true, mask });
        const want = familyReference(pred, target, c.options, mask);
        const fd = familyReferenceGradient(pred, target, c.options, mask);
        return (
          closeness([got.loss], [want.loss], LOSS_TOL, 'loss') ??
          closeness(got.grad, fd, { atol: 1e-4 * maxAbs(fd) + 1e-7, rtol: 1e-4 }, 'grad vs central differences')
        );
      } finally {
        loss.destroy();
      }
    });
  }
}

async function peerVectors(engine) {
  const cases = JSON.parse(await Deno.readTextFile(new URL('../fixtures/vectors-public.json', import.meta.url)));
  for (const c of cases) {
    await check(`preset vector ${c.id}`, async () => judgeVectorResult(c, await runVectorCase(engine.presets, c)));
  }
  return cases.length;
}

async function determinism(engine) {
  const options = { shape: [2, 16, 16, 5], activation: 'softmax', target: 'u8', crossEntropy: {} };
  await check('determinism: 5 runs bitwise equal (softmax + u8 labels + CE)', async () => {
    const random = mulberry32(77);
    const pred = Float32Array.from({ length: 2 * 256 * 5 }, () => random() * 6 - 3);
    const target = Uint8Array.from({ length: 2 * 256 }, () => Math.floor(random() * 5));
    const loss = await engine.loss(options);
    try {
      const first = await loss.compute(pred, target, { grad: true });
      for (let run = 1; run < 5; run++) {
        const again = await loss.compute(pred, target, { grad: true });
        if (!Object.is(again.loss, first.loss)) return `run ${run}: loss ${again.loss} != ${first.loss}`;
        const a = new Uint32Array(again.grad.buffer, again.grad.byteOffset, again.grad.length);
        const b = new Uint32Array(first.grad.buffer, first.grad.byteOffset, first.grad.length);
        const differs = a.findIndex((x, i) => x !== b[i]);
        if (differs >= 0) return `run ${run}: grad[${differs}] differs bitwise`;
      }
      return closeness([first.loss], [familyReference(pred, target, options).loss], LOSS_TOL, 'loss');
    } finally {
      loss.destroy();
    }
  });
}

const adapter = await navigator.gpu?.requestAdapter();
if (!adapter) {
  console.log(
    JSON.stringify({
      summary: { adapter: null, passed: 0, failed: 1, uncaptured: [], error: 'no WebGPU adapter in Deno' },
    }),
  );
  Deno.exit(1);
}
// The optional features the engine uses where offered (subgroup reductions, f16 predictions), so
// that naga compiles those shader variants too.
const features = ['subgroups', 'shader-f16'].filter((f) => adapter.features.has(f));
const device = await adapter.requestDevice({
  requiredFeatures: features,
  requiredLimits: {
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    maxBufferSize: adapter.limits.maxBufferSize,
  },
});
device.addEventListener('uncapturederror', (event) => {
  event.preventDefault?.();
  uncaptured.push(event.error?.message ?? String(event.error));
});
const engine = await DiceEngine.create(device, { label: 'deno conformance' });
await seedLosses(engine);
await familyOptions(engine);
const vectors = await peerVectors(engine);
await determinism(engine);
engine.destroy();
await device.queue.onSubmittedWorkDone();

const failed = results.filter((r) => !r.ok).length;
const info = adapter.info ?? {};
console.log(
  JSON.stringify({
    summary: {
      adapter: `${info.description || info.device || 'unknown'} (${info.vendor ?? ''})`,
      features,
      subgroupSize: device.adapterInfo?.subgroupMinSize ?? null,
      passed: results.length - failed,
      failed,
      vectors,
      uncaptured,
    },
  }),
);
device.destroy();
Deno.exit(failed === 0 && uncaptured.length === 0 ? 0 : 1);
