import { parseArgs } from 'node:util';
import type { DiceEngine, DiceLossOptions, LossOptions } from '../index.js';
import { describeAdapter, isSoftwareAdapter } from '../node/index.js';
import { diceReference, familyReference, familyReferenceGradient, mulberry32 } from '../reference/index.js';
import { HELP_OPTION, parseOrUsage } from './args.js';
import { withEngine } from './device.js';
import { EXIT_FAILURE } from './errors.js';
import { formatRow, formatShape, tableHead } from './format.js';

export const DOCTOR_HELP = `Usage: wgsl-dice doctor [--json]

Checks that wgsl-dice works on this machine: prints the WebGPU adapter dawn.node picks, its
features and limits, then runs the engine's losses forward and backward and compares each
with the float64 reference: the three classic TensorFlow Dice losses (global,
class-weighted, multi-class softmax) on several shapes (odd sizes, C = 1 and C = 64 included), then one loss-family check per
feature (activations, label maps, channels-first, Jaccard, Tversky, Generalized Dice, the
soft-label and squared forms, cross-entropy, focal, masks).

A classic loss's value passes when |gpu - reference| <= atol + rtol * |reference| with rtol 1e-5; atol
is 1e-6 for the loss and the Dice values and 1e-5 * max|gradient| for the gradient. A family
loss passes within 1e-5 + 1e-4 |reference|, its gradient (against central differences of
the reference) within 1e-4 max|gradient| + 1e-6 + 1e-3 |reference|.

The report is printed line by line as each check finishes. On a software adapter (Mesa's
lavapipe, SwiftShader) every pipeline compiles on the CPU at its first dispatch, so the run
takes a minute or two; on lavapipe LP_NATIVE_VECTOR_WIDTH=128 makes compiling 2-4x faster.

Options:
  --json       Print one JSON object (at the end) instead of the report.
  -h, --help   Show this help.

Exit status: 0 when every check agrees, 1 when one does not or there is no usable adapter.
`;

/** Limits that decide what wgsl-dice can run here. */
const REPORTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxStorageBuffersPerShaderStage',
  'minStorageBufferOffsetAlignment',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupStorageSize',
  'maxComputeWorkgroupsPerDimension',
] as const;

/** The losses the engine offers, as options for a shape; a new loss adds an entry here. */
const LOSSES: { name: string; options(shape: number[]): DiceLossOptions }[] = [
  { name: 'global', options: (shape) => ({ shape, reduce: 'global' }) },
  {
    name: 'weighted per-class',
    options: (shape) => ({
      shape,
      reduce: 'per-class',
      weights: Array.from({ length: shape[shape.length - 1] }, (_, c) => 0.25 + ((c * 7) % 5) / 4),
    }),
  },
  { name: 'per-class mean', options: (shape) => ({ shape, reduce: 'per-class' }) },
];

/** Vec4 and scalar kernels, one and several chunks per sample, C = 1 and C = 64, rank 0 to 3 spatial. */
const SHAPES: number[][] = [
  [2, 16, 16, 4],
  [1, 7, 13, 3],
  [3, 301, 1],
  [2, 9, 11, 1],
  [1, 8, 8, 64],
  [2, 5, 6, 7, 5],
  [5, 2],
  [2, 160, 144, 3],
];

const RTOL = 1e-5;
const VALUE_ATOL = 1e-6;
const GRAD_ATOL_SCALE = 1e-5;

interface CheckResult {
  loss: string;
  shape: number[];
  ok: boolean;
  gpuLoss: number;
  referenceLoss: number;
  /** Largest |gpu - reference| / (atol + rtol |reference|) over loss, Dice and gradient: <= 1 passes. */
  worstRatio: number;
  worst: string;
}

export async function runDoctor(argv: string[]): Promise<number> {
  const { values } = parseOrUsage('doctor', () =>
    parseArgs({ args: argv, strict: true, options: { json: { type: 'boolean' }, ...HELP_OPTION } }),
  );
  if (values.help) {
    process.stdout.write(DOCTOR_HELP);
    return 0;
  }
  // Text mode prints each line as soon as it is known: on a software adapter the checks take a
  // minute or two (every pipeline compiles on the CPU at its first dispatch), which should not
  // look like a hang. --json prints one object at the end.
  const print = values.json ? () => undefined : (line: string) => process.stdout.write(`${line}\n`);
  const planned = [
    ...SHAPES.flatMap((shape) =>
      LOSSES.map((loss) => ({
        name: loss.name,
        shape,
        run: (e: DiceEngine) => check(e, loss.name, loss.options(shape)),
      })),
    ),
    ...FAMILY_LOSSES.map(([name, options]) => ({
      name,
      shape: options.shape,
      run: (e: DiceEngine) => checkFamily(e, name, options),
    })),
  ];
  const header = ['loss', 'shape', 'gpu loss', 'reference loss', 'worst err/tol', 'result'];
  const widths = [
    Math.max(...planned.map((c) => c.name.length)),
    Math.max(...planned.map((c) => formatShape(c.shape).length)),
    14,
    14,
    header[4].length,
    'FAIL (sum of target)'.length,
  ];
  const report = await withEngine(async (engine, device) => {
    const adapter = { ...describeAdapter(device), software: isSoftwareAdapter(device) };
    const context = {
      adapter,
      features: [...device.features].sort(),
      limits: Object.fromEntries(REPORTED_LIMITS.map((name) => [name, device.limits[name]])),
      grid: { workgroupSize: engine.gridProfile.workgroupSize, targetWorkgroups: engine.gridProfile.targetWorkgroups },
      tolerance: { rtol: RTOL, valueAtol: VALUE_ATOL, gradAtol: `${GRAD_ATOL_SCALE} * max|gradient|` },
    };
    for (const line of describeContext(context, planned.length)) print(line);
    print('');
    for (const line of tableHead(header, widths)) print(line);
    const checks: CheckResult[] = [];
    for (const plannedCheck of planned) {
      const c = await plannedCheck.run(engine);
      checks.push(c);
      print(
        formatRow(
          [
            c.loss,
            formatShape(c.shape),
            c.gpuLoss.toPrecision(7),
            c.referenceLoss.toPrecision(7),
            c.worstRatio.toFixed(3),
            c.ok ? 'ok' : `FAIL (${c.worst})`,
          ],
          widths,
        ),
      );
    }
    return { ...context, checks, ok: checks.every((c) => c.ok) };
  });

  if (values.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    const failed = report.checks.filter((c) => !c.ok).length;
    print('');
    print(
      failed === 0
        ? `All ${report.checks.length} checks agree with the float64 reference.`
        : `${failed} of ${report.checks.length} checks disagree with the float64 reference.`,
    );
  }
  return report.ok ? 0 : EXIT_FAILURE;
}

/** The lines before the checks: adapter, features, limits, grid, and what to expect on a software adapter. */
function describeContext(
  context: {
    adapter: ReturnType<typeof describeAdapter> & { software: boolean };
    features: string[];
    limits: Record<string, number>;
    grid: { workgroupSize: number; targetWorkgroups: number };
  },
  checkCount: number,
): string[] {
  const { adapter } = context;
  const lines = [
    `adapter   ${adapter.description || `${adapter.vendor} ${adapter.device}`.trim()}` +
      ` (vendor ${adapter.vendor || '?'}, architecture ${adapter.architecture || '?'}` +
      `${adapter.software ? ', software: timings mean little' : ''})`,
    `features  ${context.features.join(', ') || '(none)'}`,
    'limits',
    ...Object.entries(context.limits).map(([name, value]) => `  ${name.padEnd(34)} ${value}`),
    `engine    ${context.grid.workgroupSize} threads per workgroup, aiming at ${context.grid.targetWorkgroups} workgroups`,
  ];
  if (adapter.software) lines.push(...softwareAdapterNote(checkCount));
  return lines;
}

/** What to expect on lavapipe / SwiftShader, and the one setting that helps. */
function softwareAdapterNote(checkCount: number): string[] {
  const lines = [
    '',
    `note      This is a software adapter (the GPU is emulated on the CPU). Each GPU pipeline compiles`,
    `          on the CPU at its first dispatch, for a second or more, so the ${checkCount} checks below take`,
    '          a minute or two; each line is printed as its check finishes.',
  ];
  if (process.env.LP_NATIVE_VECTOR_WIDTH === undefined) {
    lines.push(
      '          On lavapipe, LP_NATIVE_VECTOR_WIDTH=128 in the environment compiles 2-4x faster:',
      '            LP_NATIVE_VECTOR_WIDTH=128 wgsl-dice doctor',
    );
  }
  return lines;
}

async function check(engine: DiceEngine, name: string, options: DiceLossOptions): Promise<CheckResult> {
  const { pred, target } = seededInputs(
    options.shape,
    options.shape.reduce((a, b) => a * 31 + b, 17),
  );
  const loss = await engine.dice(options);
  let got;
  try {
    got = await loss.compute(pred, target, { grad: true });
  } finally {
    loss.destroy();
  }
  const want = diceReference(pred, target, options);
  const gradAtol = GRAD_ATOL_SCALE * want.grad.reduce((max, g) => Math.max(max, Math.abs(g)), 0);
  const ratios: [string, number][] = [
    ['loss', worstRatio([got.loss], [want.loss], VALUE_ATOL)],
    ['dice', worstRatio(got.perClass.dice, want.dice, VALUE_ATOL)],
    ['intersection', worstRatio(got.perClass.intersection, want.intersection, VALUE_ATOL)],
    ['sum of pred', worstRatio(got.perClass.predSum, want.predSum, VALUE_ATOL)],
    ['sum of target', worstRatio(got.perClass.targetSum, want.targetSum, VALUE_ATOL)],
    ['gradient', worstRatio(got.grad!, want.grad, gradAtol)],
  ];
  const [worst, ratio] = ratios.reduce((a, b) => (b[1] > a[1] ? b : a));
  return {
    loss: name,
    shape: [...options.shape],
    ok: ratio <= 1,
    gpuLoss: got.loss,
    referenceLoss: want.loss,
    worstRatio: ratio,
    worst,
  };
}

/**
 * The loss family, one representative per feature: activations, label maps, layouts, masks,
 * every formula and the compound terms. Their gradients are checked against central
 * differences of the float64 reference, so they get the fuzz tolerance of
 * test/family-fuzz.test.ts: value 1e-5 + 1e-4|e|, gradient 1e-4 max|e| + 1e-6 + 1e-3|e|.
 */
const FAMILY_LOSSES: [string, LossOptions][] = [
  ['softmax + u8 labels, ignore', { shape: [2, 6, 5, 4], activation: 'softmax', target: 'u8', ignoreIndex: 255 }],
  ['sigmoid, channels-first', { shape: [2, 3, 5, 6], layout: 'channels-first', activation: 'sigmoid' }],
  ['jaccard, batch Dice', { shape: [2, 6, 5, 3], formula: 'jaccard', batch: true }],
  ['tversky + gamma', { shape: [2, 6, 5, 3], formula: 'tversky', alpha: 0.3, beta: 0.7, gamma: 1.3 }],
  ['generalized Dice', { shape: [2, 6, 5, 3], activation: 'softmax', target: 'u16', formula: 'generalized-dice' }],
  ['soft-label L1 form', { shape: [2, 6, 5, 3], softLabel: true }],
  ['squared denominators', { shape: [2, 6, 5, 3], squared: true }],
  ['Dice + cross-entropy', { shape: [2, 6, 5, 4], activation: 'softmax', target: 'u8', crossEntropy: {} }],
  [
    'Dice + focal (sigmoid)',
    { shape: [2, 3, 5, 6], layout: 'channels-first', activation: 'sigmoid', focal: { gamma: 2 } },
  ],
  ['mask on logits', { shape: [2, 6, 5, 3], activation: 'softmax', mask: 'logits' }],
];

async function checkFamily(engine: DiceEngine, name: string, options: LossOptions): Promise<CheckResult> {
  const dims = options.shape;
  const channelsFirst = options.layout === 'channels-first';
  const classes = channelsFirst ? dims[1] : dims[dims.length - 1];
  const voxels = dims.reduce((a, b) => a * b, 1) / classes;
  const random = mulberry32(dims.reduce((a, b) => a * 31 + b, 29));
  const logits = options.activation !== undefined && options.activation !== 'none';
  const pred = Float32Array.from({ length: voxels * classes }, () => (logits ? random() * 6 - 3 : random()));
  const labels = Array.from({ length: voxels }, () => Math.floor(random() * classes));
  let target: Float32Array | Uint8Array | Uint16Array;
  const ignore = options.ignoreIndex;
  if (options.target === 'u8')
    target = Uint8Array.from(labels, (l, v) => (ignore !== undefined && v % 11 === 0 ? ignore : l));
  else if (options.target === 'u16') target = Uint16Array.from(labels);
  else
    target = Float32Array.from({ length: voxels * classes }, () =>
      options.softLabel ? random() : random() < 0.35 ? 1 : 0,
    );
  const mask = options.mask ? Float32Array.from({ length: voxels }, () => (random() < 0.2 ? 0 : random())) : undefined;
  const loss = await engine.loss(options);
  let got;
  try {
    got = await loss.compute(pred, target, { grad: true, mask });
  } finally {
    loss.destroy();
  }
  const want = familyReference(pred, target, options, mask);
  const fd = familyReferenceGradient(pred, target, options, mask);
  const gradAtol = 1e-4 * fd.reduce((max, g) => Math.max(max, Math.abs(g)), 0) + 1e-6;
  const ratios: [string, number][] = [
    ['loss', worstRatio([got.loss], [want.loss], 1e-5, 1e-4)],
    ['gradient', worstRatio(got.grad!, fd, gradAtol, 1e-3)],
  ];
  const [worst, ratio] = ratios.reduce((a, b) => (b[1] > a[1] ? b : a));
  return {
    loss: name,
    shape: [...dims],
    ok: ratio <= 1,
    gpuLoss: got.loss,
    referenceLoss: want.loss,
    worstRatio: ratio,
    worst,
  };
}

/** max_i |a_i - e_i| / (atol + rtol |e_i|); NaN anywhere counts as Infinity. */
function worstRatio(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol = RTOL): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const ratio = Math.abs(actual[i] - expected[i]) / (atol + rtol * Math.abs(expected[i]));
    worst = Math.max(worst, Number.isNaN(ratio) ? Infinity : ratio);
  }
  return worst;
}

/** Seeded probabilities and one-hot targets (a 0/1 mask for C = 1), f32-exact. */
function seededInputs(shape: readonly number[], seed: number): { pred: Float32Array; target: Float32Array } {
  const random = mulberry32(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const classes = shape[shape.length - 1];
  const pred = Float32Array.from({ length: n }, random);
  const target = new Float32Array(n);
  for (let voxel = 0; voxel < n / classes; voxel++) {
    if (classes === 1) target[voxel] = random() < 0.3 ? 1 : 0;
    else target[voxel * classes + Math.floor(random() * classes)] = 1;
  }
  return { pred, target };
}
