/**
 * Float64 reference of clDice (Shit et al. 2021) as MONAI 1.5.0 computes it
 * (`monai/losses/cldice.py`: soft_erode, soft_dilate, soft_open, soft_skel, SoftclDiceLoss,
 * SoftDiceclDiceLoss), with its gradient by backpropagation under torch's conventions:
 *
 * - a max-pool (and a min-pool, which torch writes as -maxpool(-x)) routes its gradient to the
 *   first extreme element of the window in scan order; padding never wins;
 * - an elementwise minimum of two equal values gives each half;
 * - relu'(0) = 0.
 *
 * Tensors are channels-first `[B, C, H, W]` or `[B, C, D, H, W]`, row-major. The gradient is
 * scattered here (each pooled output adds to the element it chose); the GPU gathers instead, so
 * the two are independent formulations of the same rule.
 */

/** One (sample, class) plane or volume after another: `units` volumes of `depth x height x width`. */
interface Volumes {
  readonly units: number;
  readonly size: readonly [number, number, number];
  /** 2 or 3: which axes soft_erode pools along (2D: H and W only). */
  readonly rank: 2 | 3;
}

export interface ClDiceReferenceOptions {
  /** `[B, C, H, W]` or `[B, C, D, H, W]` (channels-first). */
  shape: readonly number[];
  /** MONAI's iter_: skeleton iterations (default 3). */
  iterations?: number;
  /** MONAI's smooth (default 1). */
  smooth?: number;
  /**
   * Weight of clDice against soft Dice: `(1 - alpha) soft_dice + alpha cl_dice`. 1 (the default)
   * is SoftclDiceLoss; SoftDiceclDiceLoss defaults to 0.5.
   */
  alpha?: number;
  /** A soft skeleton of the target to use instead of computing one (as from {@link softSkeleton}). */
  targetSkeleton?: ArrayLike<number>;
}

export interface ClDiceReferenceResult {
  loss: number;
  clDice: number;
  softDice: number;
  tprec: number;
  tsens: number;
  /** d(loss)/d(pred), channels-first like pred. */
  grad: Float64Array;
  predSkeleton: Float64Array;
  targetSkeleton: Float64Array;
}

function volumesOf(shape: readonly number[]): Volumes {
  if (shape.length !== 4 && shape.length !== 5) {
    throw new Error(`clDice needs [B, C, H, W] or [B, C, D, H, W], got [${shape}].`);
  }
  const [B, C, ...spatial] = shape;
  const size = (spatial.length === 2 ? [1, spatial[0], spatial[1]] : spatial) as [number, number, number];
  return { units: B * C, size, rank: spatial.length === 2 ? 2 : 3 };
}

/** Row-major strides of (d, h, w) inside one volume. */
function stridesOf(v: Volumes): [number, number, number] {
  const [, H, W] = v.size;
  return [H * W, W, 1];
}

/** Calls fn(index, d, h, w) for every element, in memory order. */
function forEachElement(v: Volumes, fn: (i: number, d: number, h: number, w: number) => void): void {
  const [D, H, W] = v.size;
  let i = 0;
  for (let u = 0; u < v.units; u++) {
    for (let d = 0; d < D; d++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) fn(i++, d, h, w);
  }
}

/** The axes soft_erode pools along, as indices into (d, h, w). */
function erodeAxes(v: Volumes): number[] {
  return v.rank === 2 ? [1, 2] : [0, 1, 2];
}

/** Index of the first minimum of x along `axis` over offsets -1, 0, 1 (inside the volume). */
function argMinAlong(x: ArrayLike<number>, v: Volumes, i: number, coord: readonly number[], axis: number): number {
  const stride = stridesOf(v)[axis];
  let best = -1;
  for (let o = -1; o <= 1; o++) {
    const c = coord[axis] + o;
    if (c < 0 || c >= v.size[axis]) continue;
    const j = i + o * stride;
    if (best < 0 || x[j] < x[best]) best = j;
  }
  return best;
}

/**
 * Shares of torch.min(torch.min(p0, p1), p2) (2D: torch.min(p0, p1)) among its arguments:
 * the smaller takes the gradient, a tie halves it.
 */
function minShares(values: readonly number[]): number[] {
  const pair = (a: number, b: number): [number, number] => (a < b ? [1, 0] : a > b ? [0, 1] : [0.5, 0.5]);
  const [s0, s1] = pair(values[0], values[1]);
  if (values.length === 2) return [s0, s1];
  const [inner, s2] = pair(Math.min(values[0], values[1]), values[2]);
  return [s0 * inner, s1 * inner, s2];
}

/** soft_erode, and with `gradOut` the gradient it routes back to x (added into `gradIn`). */
function erode(x: ArrayLike<number>, v: Volumes, gradOut?: ArrayLike<number>, gradIn?: Float64Array): Float64Array {
  const out = new Float64Array(x.length);
  const axes = erodeAxes(v);
  forEachElement(v, (i, d, h, w) => {
    const coord = [d, h, w];
    const chosen = axes.map((axis) => argMinAlong(x, v, i, coord, axis));
    const values = chosen.map((j) => x[j]);
    out[i] = Math.min(...values);
    if (gradOut && gradIn) {
      minShares(values).forEach((share, k) => (gradIn[chosen[k]] += share * gradOut[i]));
    }
  });
  return out;
}

/** soft_dilate (3x3 / 3x3x3 max-pool), and with `gradOut` its gradient added into `gradIn`. */
function dilate(x: ArrayLike<number>, v: Volumes, gradOut?: ArrayLike<number>, gradIn?: Float64Array): Float64Array {
  const out = new Float64Array(x.length);
  const [D, H, W] = v.size;
  const [sd, sh] = stridesOf(v);
  forEachElement(v, (i, d, h, w) => {
    let best = -1;
    for (let od = -1; od <= 1; od++) {
      if (d + od < 0 || d + od >= D) continue;
      for (let oh = -1; oh <= 1; oh++) {
        if (h + oh < 0 || h + oh >= H) continue;
        for (let ow = -1; ow <= 1; ow++) {
          if (w + ow < 0 || w + ow >= W) continue;
          const j = i + od * sd + oh * sh + ow;
          if (best < 0 || x[j] > x[best]) best = j;
        }
      }
    }
    out[i] = x[best];
    if (gradOut && gradIn) gradIn[best] += gradOut[i];
  });
  return out;
}

const relu = (value: number) => (value > 0 ? value : 0);

/** What soft_skel computed at every level, for the backward pass. */
interface SkeletonTrace {
  /** x_0 = the input, x_{k+1} = erode(x_k), k = 0 .. iterations. */
  eroded: Float64Array[];
  /** delta_k = relu(x_k - dilate(x_{k+1})). */
  deltas: Float64Array[];
  /** skel_0 = delta_0, skel_k = skel_{k-1} + relu(delta_k - skel_{k-1} delta_k). */
  skeletons: Float64Array[];
}

function traceSkeleton(x: ArrayLike<number>, v: Volumes, iterations: number): SkeletonTrace {
  const eroded: Float64Array[] = [Float64Array.from(x)];
  const deltas: Float64Array[] = [];
  const skeletons: Float64Array[] = [];
  for (let k = 0; k <= iterations; k++) {
    const current = eroded[k];
    const next = erode(current, v);
    const opened = dilate(next, v);
    eroded.push(next);
    const delta = current.map((value, i) => relu(value - opened[i]));
    deltas.push(delta);
    const previous = skeletons[k - 1];
    skeletons.push(previous ? previous.map((s, i) => s + relu(delta[i] - s * delta[i])) : delta);
  }
  return { eroded, deltas, skeletons };
}

/** MONAI's soft_skel(x, iter_) of a channels-first tensor. */
export function softSkeleton(x: ArrayLike<number>, shape: readonly number[], iterations = 3): Float64Array {
  const trace = traceSkeleton(x, volumesOf(shape), iterations);
  return trace.skeletons[iterations];
}

/** d(.)/dx of soft_skel(x), given the gradient with respect to the skeleton. */
function skeletonBackward(trace: SkeletonTrace, v: Volumes, gradSkeleton: ArrayLike<number>): Float64Array {
  const { eroded, deltas, skeletons } = trace;
  const K = deltas.length - 1;
  const n = gradSkeleton.length;
  // Through the skeleton recurrence, last level first: the gradient reaching each delta_k.
  const gradSkel = Float64Array.from(gradSkeleton);
  const gradDelta: Float64Array[] = [];
  for (let k = K; k >= 0; k--) {
    const g = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      if (k === 0) {
        g[i] = gradSkel[i];
        continue;
      }
      const s = skeletons[k - 1][i];
      const d = deltas[k][i];
      const open = d - s * d > 0 ? 1 : 0;
      g[i] = gradSkel[i] * open * (1 - s);
      gradSkel[i] *= 1 - open * d;
    }
    // relu(x_k - open_k): only where the difference was positive.
    gradDelta[k] = g.map((value, i) => (deltas[k][i] > 0 ? value : 0));
  }
  // Through the pools, deepest level first: x_{k+1} gets -gradDelta_k through the dilation,
  // plus what x_{k+2} sent back through the erosion.
  let gradNext = new Float64Array(n);
  for (let k = K; k >= 0; k--) {
    dilate(
      eroded[k + 1],
      v,
      gradDelta[k].map((g) => -g),
      gradNext,
    );
    const gradHere = Float64Array.from(gradDelta[k]);
    erode(eroded[k], v, gradNext, gradHere);
    gradNext = gradHere;
  }
  return gradNext;
}

/**
 * MONAI's SoftDiceclDiceLoss(iter_, alpha, smooth)(y_true = target, y_pred = pred), or
 * SoftclDiceLoss with alpha = 1, and its gradient with respect to pred.
 */
export function clDiceReference(
  pred: ArrayLike<number>,
  target: ArrayLike<number>,
  options: ClDiceReferenceOptions,
): ClDiceReferenceResult {
  const v = volumesOf(options.shape);
  const iterations = options.iterations ?? 3;
  const smooth = options.smooth ?? 1;
  const alpha = options.alpha ?? 1;
  const n = pred.length;
  const [B, C] = options.shape;
  const volume = n / (B * C);
  const foreground = (i: number) => Math.floor(i / volume) % C >= 1;

  const trace = traceSkeleton(pred, v, iterations);
  const predSkeleton = trace.skeletons[iterations];
  const targetSkeleton = options.targetSkeleton
    ? Float64Array.from(options.targetSkeleton)
    : softSkeleton(target, options.shape, iterations);

  let skelPredTarget = 0,
    skelPred = 0,
    skelTargetPred = 0,
    skelTarget = 0;
  let intersection = 0,
    targetSum = 0,
    predSum = 0;
  for (let i = 0; i < n; i++) {
    if (!foreground(i)) continue;
    skelPredTarget += predSkeleton[i] * target[i];
    skelPred += predSkeleton[i];
    skelTargetPred += targetSkeleton[i] * pred[i];
    skelTarget += targetSkeleton[i];
    intersection += target[i] * pred[i];
    targetSum += target[i];
    predSum += pred[i];
  }
  const tprec = (skelPredTarget + smooth) / (skelPred + smooth);
  const tsens = (skelTargetPred + smooth) / (skelTarget + smooth);
  const clDice = 1 - (2 * tprec * tsens) / (tprec + tsens);
  const diceDenominator = targetSum + predSum + smooth;
  const softDice = 1 - (2 * intersection + smooth) / diceDenominator;
  const loss = (1 - alpha) * softDice + alpha * clDice;

  // d clDice / d tprec and d tsens.
  const dPrec = (-2 * tsens * tsens) / ((tprec + tsens) * (tprec + tsens));
  const dSens = (-2 * tprec * tprec) / ((tprec + tsens) * (tprec + tsens));
  const gradPredSkeleton = new Float64Array(n);
  const grad = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (!foreground(i)) continue;
    gradPredSkeleton[i] =
      alpha * dPrec * (target[i] / (skelPred + smooth) - (skelPredTarget + smooth) / (skelPred + smooth) ** 2);
    grad[i] =
      alpha * dSens * (targetSkeleton[i] / (skelTarget + smooth)) +
      (1 - alpha) * ((-2 * target[i]) / diceDenominator + (2 * intersection + smooth) / diceDenominator ** 2);
  }
  const throughSkeleton = skeletonBackward(trace, v, gradPredSkeleton);
  for (let i = 0; i < n; i++) grad[i] += throughSkeleton[i];
  return { loss, clDice, softDice, tprec, tsens, grad, predSkeleton, targetSkeleton };
}
