/**
 * clDice in TensorFlow.js ops, as MONAI writes it (monai/losses/cldice.py) but channels-last:
 * soft_erode = min of -maxPool(-x) along each spatial axis, soft_dilate = a 3x3(x3) maxPool,
 * the soft_skel recurrence, and the SoftclDiceLoss sums over classes 1.. . Gradients come from
 * tf.valueAndGrad (tfjs's own max-pool backward).
 */
import type * as Tf from '@tensorflow/tfjs';
import type { TfjsLoss, TfModule } from './tfjs-baseline.js';

/**
 * A max-pool with stride 1 and 'same' padding. 3D runs as two 2D pools (H, W on [B*D, H, W, C],
 * then D on [B, D, H*W, C]): the same maximum, and tfjs-webgpu 4.22's maxPool3d gradient emits
 * invalid WGSL (a PadProgram indexing a vec5).
 */
function pool(tf: TfModule, x: Tf.Tensor, window: number[]): Tf.Tensor {
  if (x.rank === 4) return tf.maxPool(x as Tf.Tensor4D, window as [number, number], 1, 'same');
  const [B, D, H, W, C] = x.shape;
  const [kd, kh, kw] = window;
  const planes = tf.maxPool(tf.reshape(x, [B * D, H, W, C]) as Tf.Tensor4D, [kh, kw], 1, 'same');
  const depth = tf.maxPool(tf.reshape(planes, [B, D, H * W, C]) as Tf.Tensor4D, [kd, 1], 1, 'same');
  return tf.reshape(depth, x.shape);
}

function softErode(tf: TfModule, x: Tf.Tensor): Tf.Tensor {
  const axes = x.rank - 2;
  const windows = Array.from({ length: axes }, (_, axis) =>
    Array.from({ length: axes }, (_, k) => (k === axis ? 3 : 1)),
  );
  const minima = windows.map((window) => tf.neg(pool(tf, tf.neg(x), window)));
  return minima.reduce((a, b) => tf.minimum(a, b));
}

function softSkel(tf: TfModule, image: Tf.Tensor, iterations: number): Tf.Tensor {
  const open = (x: Tf.Tensor) => pool(tf, softErode(tf, x), Array(x.rank - 2).fill(3));
  let x = image;
  let skel = tf.relu(tf.sub(x, open(x)));
  for (let k = 0; k < iterations; k++) {
    x = softErode(tf, x);
    const delta = tf.relu(tf.sub(x, open(x)));
    skel = tf.add(skel, tf.relu(tf.sub(delta, tf.mul(skel, delta))));
  }
  return skel;
}

/** SoftclDiceLoss(iter_, smooth) on channels-last [B, ...spatial, C] probabilities. */
export function clDiceTfjsLoss(iterations: number, smooth: number): TfjsLoss {
  return (tf, yTrue, yPred) => {
    // Classes 1.. of [voxels, C]: slicing the 5D tensor would make tfjs-webgpu's slice gradient
    // (a 5D pad) emit invalid WGSL.
    const classes = yPred.shape[yPred.rank - 1];
    const foreground = (t: Tf.Tensor) => tf.slice(tf.reshape(t, [-1, classes]), [0, 1], [-1, -1]);
    const skelPred = softSkel(tf, yPred, iterations);
    const skelTrue = softSkel(tf, yTrue, iterations);
    const tprec = tf.div(
      tf.add(tf.sum(foreground(tf.mul(skelPred, yTrue))), smooth),
      tf.add(tf.sum(foreground(skelPred)), smooth),
    );
    const tsens = tf.div(
      tf.add(tf.sum(foreground(tf.mul(skelTrue, yPred))), smooth),
      tf.add(tf.sum(foreground(skelTrue)), smooth),
    );
    return tf.sub(1, tf.div(tf.mul(2, tf.mul(tprec, tsens)), tf.add(tprec, tsens))) as Tf.Scalar;
  };
}
