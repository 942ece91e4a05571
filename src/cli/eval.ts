import { parseArgs } from 'node:util';
import type { DiceLossOptions, DiceResult, Epsilon } from '../index.js';
import { HELP_OPTION, parseNumberList, parseOrUsage } from './args.js';
import { withEngine } from './device.js';
import { CliError, usageError } from './errors.js';
import { formatShape, formatTable, formatValue } from './format.js';
import { readNpy, writeNpyFloat32 } from './npy.js';
import { isNiftiPath } from './nifti.js';
import { parsePresetRequest, runPreset } from './presets.js';
import { runSegmentationEval, SEGMENTATION_FLAGS, SEGMENTATION_HELP } from './segmentation.js';
import { toDenseTarget } from './targets.js';

export const EVAL_HELP = `Usage: wgsl-dice eval --pred P.npy --target T.npy [options]
       wgsl-dice eval --pred P.nii.gz --target T.nii.gz [segmentation options]

Two modes: a loss on predictions (below), or segmentation metrics between two label maps
(further below).

Computes a Dice loss, the Dice of every group and (with --grad-out) dL/dpred on the GPU from
NumPy .npy files. The shape comes from the pred file, channels-last [B, ...spatial, C].

Inputs:
  --pred FILE         Probabilities, float32, float16 (widened) or float64 (converted to
                      float32 with a note on stderr; beyond float32's range: an error), C order.
  --target FILE       Either float (32, 16 or 64 bits) of pred's shape (one-hot or soft targets), or an
                      integer/bool label map [B, ...spatial] of class indices in [0, C) (with
                      C = 1: a 0/1 mask). The engine takes dense targets for now, so label maps
                      are expanded to one-hot on the CPU first; it will take them directly later.

Loss (the three classic TensorFlow Dice losses):
  --reduce MODE       global (default): one Dice per sample over all positions and classes.
                      per-class: one Dice per (sample, class); the loss is their mean, or with
                      --weights the sum over classes of w_c * mean over samples of (1 - Dice).
  --weights W,W,...   One weight per class (per-class only), e.g. --weights 0.2,0.3,0.5.
  --epsilon X[,Y]     Smoothing added to numerator (X) and denominator (Y, default X);
                      default 1e-6.
  --preset NAME       A peer library's loss (e.g. monai.DiceLoss) with its options as JSON in
  --options JSON      --options, arrays laid out as that library takes them (NCHW for MONAI,
                      smp and nnU-Net; NHWC for Keras and qsm); prints what the library returns.

Output:
  --grad-out FILE     Also compute dL/dpred and write it as float32 .npy of pred's shape.
  --json              Print one JSON object instead of the text report.
  -h, --help          Show this help.

${SEGMENTATION_HELP}
Exit status: 0 on success, 1 on unreadable or inconsistent inputs or a GPU error, 2 on a
command line that cannot be parsed.

Examples:
  wgsl-dice eval --pred pred.npy --target labels.npy --reduce per-class --grad-out grad.npy
  wgsl-dice eval --pred seg.nii.gz --target truth.nii.gz --tolerance 2 --json
`;

export async function runEval(argv: string[]): Promise<number> {
  const { values } = parseOrUsage('eval', () =>
    parseArgs({
      args: argv,
      strict: true,
      options: {
        pred: { type: 'string' },
        target: { type: 'string' },
        reduce: { type: 'string' },
        weights: { type: 'string' },
        epsilon: { type: 'string' },
        preset: { type: 'string' },
        options: { type: 'string' },
        'grad-out': { type: 'string' },
        json: { type: 'boolean' },
        percentile: { type: 'string' },
        tolerance: { type: 'string' },
        spacing: { type: 'string' },
        classes: { type: 'string' },
        'include-background': { type: 'boolean' },
        asd: { type: 'string' },
        quiet: { type: 'boolean' },
        ...HELP_OPTION,
      },
    }),
  );
  if (values.help) {
    process.stdout.write(EVAL_HELP);
    return 0;
  }
  if (values.pred === undefined) throw usageError('eval', 'eval needs --pred FILE.');
  if (values.target === undefined) throw usageError('eval', 'eval needs --target FILE.');
  const segmentationFlags = SEGMENTATION_FLAGS.filter((flag) => values[flag] !== undefined);
  const lossFlags = (['reduce', 'weights', 'epsilon', 'preset', 'options', 'grad-out'] as const).filter(
    (flag) => values[flag] !== undefined,
  );
  if (segmentationFlags.length > 0 && lossFlags.length > 0) {
    throw usageError(
      'eval',
      `--${segmentationFlags[0]} is a segmentation-metric option and --${lossFlags[0]} a loss option: use one mode.`,
    );
  }
  const labelMaps =
    segmentationFlags.length > 0 ||
    isNiftiPath(values.pred) ||
    isNiftiPath(values.target) ||
    // An integer pred is a label map (the loss takes probabilities); read without notes here.
    (lossFlags.length === 0 && readNpy(values.pred, 'pred', () => undefined).isInteger);
  if (labelMaps) {
    if (lossFlags.length > 0) throw usageError('eval', `--${lossFlags[0]} is a loss option; label maps get metrics.`);
    return runSegmentationEval({ ...values, pred: values.pred, target: values.target });
  }
  if (values.options !== undefined && values.preset === undefined) {
    throw usageError('eval', '--options goes with --preset.');
  }
  const seedFlags = (['reduce', 'weights', 'epsilon'] as const).filter((flag) => values[flag] !== undefined);
  if (values.preset !== undefined && seedFlags.length > 0) {
    throw usageError('eval', `--preset sets the loss itself; drop --${seedFlags.join(', --')}.`);
  }
  if (values.preset !== undefined) {
    const request = parsePresetRequest(values.preset, values.options);
    const pred = readNpy(values.pred, 'pred');
    const target = readNpy(values.target, 'target');
    const gradOut = values['grad-out'];
    const { value, grad } = await withEngine((engine) =>
      runPreset(engine, request, pred, target, gradOut !== undefined),
    );
    if (gradOut !== undefined) writeNpyFloat32(gradOut, grad!, pred.shape);
    const report = {
      preset: `${request.library}.${request.api}`,
      options: request.options,
      value,
      gradOut: gradOut ?? null,
    };
    process.stdout.write(
      values.json ? `${JSON.stringify(report, null, 2)}\n` : `${report.preset}  ${JSON.stringify(value)}\n`,
    );
    return 0;
  }
  if (values.reduce !== undefined && values.reduce !== 'global' && values.reduce !== 'per-class') {
    throw usageError('eval', `--reduce must be global or per-class, got ${JSON.stringify(values.reduce)}.`);
  }

  const pred = readNpy(values.pred, 'pred');
  if (pred.isInteger) {
    throw new CliError(`pred file ${pred.path} holds ${pred.dtype}; pred must be float32 or float16 probabilities.`);
  }
  if (pred.shape.length < 2) {
    throw new CliError(`pred file ${pred.path} has shape ${formatShape(pred.shape)}; it must be [B, ...spatial, C].`);
  }
  const target = readNpy(values.target, 'target');
  const dense = toDenseTarget(target, pred.shape);

  const options: DiceLossOptions = {
    shape: pred.shape,
    reduce: (values.reduce ?? 'global') as 'global' | 'per-class',
    ...(values.weights !== undefined && { weights: parseNumberList('eval', 'weights', values.weights) }),
    ...(values.epsilon !== undefined && { epsilon: parseEpsilon(values.epsilon) }),
  };
  const gradOut = values['grad-out'];

  const result = await withEngine(async (engine) => {
    const loss = await engine.dice(options);
    return loss.compute(pred.data as Float32Array, dense.data, { grad: gradOut !== undefined });
  });
  if (gradOut !== undefined) writeNpyFloat32(gradOut, result.grad!, pred.shape);

  const report = {
    pred: { path: pred.path, dtype: pred.dtype, shape: pred.shape },
    target: { path: target.path, dtype: target.dtype, shape: target.shape, conversion: dense.conversion },
    options: {
      reduce: options.reduce ?? 'global',
      weights: options.weights ? Array.from(options.weights) : null,
      epsilon: options.epsilon ?? null,
    },
    loss: result.loss,
    groups: groupRows(result, options),
    gradOut: gradOut ?? null,
  };
  if (values.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return 0;
  }
  const lines = [
    `pred    ${pred.path}  ${pred.dtype} ${formatShape(pred.shape)}`,
    `target  ${target.path}  ${target.dtype} ${formatShape(target.shape)}` +
      (dense.conversion === 'none' ? '' : `  (${dense.conversion})`),
    `loss    ${formatValue(result.loss)}  (${describeLoss(options)})`,
    '',
    formatTable(
      ['sample', 'class', 'dice', 'intersection', 'sum pred', 'sum target'],
      report.groups.map((g) => [
        String(g.sample),
        g.class === null ? 'all' : String(g.class),
        formatValue(g.dice),
        formatValue(g.intersection),
        formatValue(g.predSum),
        formatValue(g.targetSum),
      ]),
    ),
  ];
  if (gradOut !== undefined) lines.push('', `dL/dpred written to ${gradOut} (float32 ${formatShape(pred.shape)})`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

function parseEpsilon(text: string): Epsilon {
  const values = parseNumberList('eval', 'epsilon', text);
  if (values.length === 1) return values[0];
  if (values.length === 2) return { numerator: values[0], denominator: values[1] };
  throw usageError('eval', `--epsilon takes one number or two (numerator,denominator), got ${JSON.stringify(text)}.`);
}

function groupRows(result: DiceResult, options: DiceLossOptions) {
  const classes = options.shape[options.shape.length - 1];
  const perClass = options.reduce === 'per-class';
  const { score, tp, predSum, targetSum } = result.groups;
  // score and tp are the names of engine.loss() and engine.dice() results; dice and intersection
  // the names this report had first (kept).
  return Array.from(score, (_, g) => ({
    sample: perClass ? Math.floor(g / classes) : g,
    class: perClass ? g % classes : null,
    score: score[g],
    tp: tp[g],
    dice: score[g],
    intersection: tp[g],
    predSum: predSum[g],
    targetSum: targetSum[g],
  }));
}

function describeLoss(options: DiceLossOptions): string {
  const epsilon = options.epsilon ?? 1e-6;
  const smoothing =
    typeof epsilon === 'number' ? `epsilon ${epsilon}` : `epsilon ${epsilon.numerator}/${epsilon.denominator}`;
  if (options.reduce !== 'per-class') return `global Dice, ${smoothing}`;
  if (options.weights) return `weighted per-class Dice, weights ${Array.from(options.weights).join(',')}, ${smoothing}`;
  return `mean per-class Dice, ${smoothing}`;
}
