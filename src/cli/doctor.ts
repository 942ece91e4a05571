import { parseArgs } from 'node:util';
import type { DiceEngine, DiceLossOptions } from '../index.js';
import { describeAdapter, isSoftwareAdapter } from '../node/index.js';
import { diceReference } from '../reference/index.js';
import { HELP_OPTION, parseOrUsage } from './args.js';
import { withEngine } from './device.js';
import { EXIT_FAILURE } from './errors.js';
import { formatShape, formatTable } from './format.js';

export const DOCTOR_HELP = `Usage: wgsl-dice doctor [--json]

Checks that wgsl-dice works on this machine: prints the WebGPU adapter dawn.node picks, its
features and limits, then runs every loss the engine offers (the seed's global, weighted
per-class and mean per-class Dice, forward and backward) on several shapes, odd sizes and
C = 1 and C = 64 included, and compares each with the float64 reference.

A value passes when |gpu - reference| <= atol + rtol * |reference| with rtol 1e-5; atol is
1e-6 for the loss and the Dice values and 1e-5 * max|gradient| for the gradient.

Options:
  --json       Print one JSON object instead of the report.
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
  const report = await withEngine(async (engine, device) => {
    const checks: CheckResult[] = [];
    for (const shape of SHAPES) {
      for (const loss of LOSSES) checks.push(await check(engine, loss.name, loss.options(shape)));
    }
    return {
      adapter: { ...describeAdapter(device), software: isSoftwareAdapter(device) },
      features: [...device.features].sort(),
      limits: Object.fromEntries(REPORTED_LIMITS.map((name) => [name, device.limits[name]])),
      grid: { workgroupSize: engine.gridProfile.workgroupSize, targetWorkgroups: engine.gridProfile.targetWorkgroups },
      tolerance: { rtol: RTOL, valueAtol: VALUE_ATOL, gradAtol: `${GRAD_ATOL_SCALE} * max|gradient|` },
      checks,
      ok: checks.every((c) => c.ok),
    };
  });

  if (values.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    const { adapter } = report;
    const failed = report.checks.filter((c) => !c.ok).length;
    const lines = [
      `adapter   ${adapter.description || `${adapter.vendor} ${adapter.device}`.trim()}` +
        ` (vendor ${adapter.vendor || '?'}, architecture ${adapter.architecture || '?'}` +
        `${adapter.software ? ', software: timings mean little' : ''})`,
      `features  ${report.features.join(', ') || '(none)'}`,
      'limits',
      ...Object.entries(report.limits).map(([name, value]) => `  ${name.padEnd(34)} ${value}`),
      `engine    ${report.grid.workgroupSize} threads per workgroup, aiming at ${report.grid.targetWorkgroups} workgroups`,
      '',
      formatTable(
        ['loss', 'shape', 'gpu loss', 'reference loss', 'worst err/tol', 'result'],
        report.checks.map((c) => [
          c.loss,
          formatShape(c.shape),
          c.gpuLoss.toPrecision(7),
          c.referenceLoss.toPrecision(7),
          c.worstRatio.toFixed(3),
          c.ok ? 'ok' : `FAIL (${c.worst})`,
        ]),
      ),
      '',
      failed === 0
        ? `All ${report.checks.length} checks agree with the float64 reference.`
        : `${failed} of ${report.checks.length} checks disagree with the float64 reference.`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return report.ok ? 0 : EXIT_FAILURE;
}

async function check(engine: DiceEngine, name: string, options: DiceLossOptions): Promise<CheckResult> {
  const { pred, target } = seededInputs(options.shape, options.shape.reduce((a, b) => a * 31 + b, 17));
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

/** max_i |a_i - e_i| / (atol + rtol |e_i|); NaN anywhere counts as Infinity. */
function worstRatio(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const ratio = Math.abs(actual[i] - expected[i]) / (atol + RTOL * Math.abs(expected[i]));
    worst = Math.max(worst, Number.isNaN(ratio) ? Infinity : ratio);
  }
  return worst;
}

/** Seeded probabilities and one-hot targets (a 0/1 mask for C = 1), f32-exact. */
function seededInputs(shape: readonly number[], seed: number): { pred: Float32Array; target: Float32Array } {
  let state = seed >>> 0;
  const random = () => {
    // mulberry32
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
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
