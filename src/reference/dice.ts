/**
 * Float64 CPU reference of the three classic TensorFlow Dice losses and their analytic
 * gradients. Written from the formulas with plain loops, independently of the WGSL kernels, so
 * it can judge them (and users can judge their own GPU with it).
 *
 * Tensors are channels-last `[B, ...spatial, C]`, flattened row-major.
 */

export interface DiceReferenceOptions {
  shape: readonly number[];
  /** 'global': one Dice per sample over spatial and class axes; 'per-class': per (sample, class). */
  reduce?: 'global' | 'per-class';
  /** Per-class weights for 'per-class' (the class-weighted Dice loss); loss = sum_c w_c * mean_b(1 - dice). */
  weights?: ArrayLike<number>;
  /** Added to numerator and denominator (default 1e-6), or each separately. */
  epsilon?: number | { numerator: number; denominator: number };
}

export interface DiceReferenceResult {
  loss: number;
  /** Per group (sample-major; per-class: B x C, global: B). */
  dice: Float64Array;
  intersection: Float64Array;
  predSum: Float64Array;
  targetSum: Float64Array;
  /** dL/dpred, same layout as pred. */
  grad: Float64Array;
}

export function diceReference(
  pred: ArrayLike<number>,
  target: ArrayLike<number>,
  options: DiceReferenceOptions,
): DiceReferenceResult {
  const shape = options.shape;
  const batch = shape[0];
  const classes = shape[shape.length - 1];
  let spatial = 1;
  for (let axis = 1; axis < shape.length - 1; axis++) spatial *= shape[axis];
  const total = batch * spatial * classes;
  if (pred.length !== total || target.length !== total) {
    throw new Error(`diceReference: pred/target length must be ${total} for shape ${JSON.stringify(shape)}`);
  }
  const perClass = (options.reduce ?? 'global') === 'per-class';
  const groupsPerSample = perClass ? classes : 1;
  const groups = batch * groupsPerSample;
  const eps = options.epsilon ?? 1e-6;
  const smoothNr = typeof eps === 'number' ? eps : eps.numerator;
  const smoothDr = typeof eps === 'number' ? eps : eps.denominator;

  const intersection = new Float64Array(groups);
  const predSum = new Float64Array(groups);
  const targetSum = new Float64Array(groups);
  const groupOf = (b: number, c: number) => b * groupsPerSample + (perClass ? c : 0);
  for (let b = 0; b < batch; b++) {
    for (let s = 0; s < spatial; s++) {
      for (let c = 0; c < classes; c++) {
        const i = (b * spatial + s) * classes + c;
        const g = groupOf(b, c);
        intersection[g] += pred[i] * target[i];
        predSum[g] += pred[i];
        targetSum[g] += target[i];
      }
    }
  }

  // Weight of each group's (1 - dice) in the loss.
  const weightOf = (c: number): number => {
    if (!perClass) return 1 / batch;
    if (options.weights) return options.weights[c] / batch;
    return 1 / (batch * classes);
  };

  const dice = new Float64Array(groups);
  const gradTarget = new Float64Array(groups); // dL/dp_i = gradTarget[g] * t_i + gradConst[g]
  const gradConst = new Float64Array(groups);
  let loss = 0;
  for (let b = 0; b < batch; b++) {
    for (let k = 0; k < groupsPerSample; k++) {
      const g = b * groupsPerSample + k;
      const numerator = 2 * intersection[g] + smoothNr;
      const denominator = predSum[g] + targetSum[g] + smoothDr;
      dice[g] = numerator / denominator;
      const w = weightOf(k);
      loss += w * (1 - dice[g]);
      // d(1 - num/den)/dp_i = -(2 t_i * den - num) / den^2
      gradTarget[g] = (-2 * w) / denominator;
      gradConst[g] = (w * numerator) / (denominator * denominator);
    }
  }

  const grad = new Float64Array(total);
  for (let b = 0; b < batch; b++) {
    for (let s = 0; s < spatial; s++) {
      for (let c = 0; c < classes; c++) {
        const i = (b * spatial + s) * classes + c;
        const g = groupOf(b, c);
        grad[i] = gradTarget[g] * target[i] + gradConst[g];
      }
    }
  }
  return { loss, dice, intersection, predSum, targetSum, grad };
}
