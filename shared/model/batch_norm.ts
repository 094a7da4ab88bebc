/**
 * BatchNorm2d over NHWC (statistics over N, H and W per channel), as PyTorch computes it.
 *
 * The training op has a hand-written gradient: autodiff through tf.moments and the
 * normalisation emits about three times as many kernels, and on small networks the per-kernel
 * cost of tfjs dominates a training step.
 */
import * as tf from "@tensorflow/tfjs";

export interface BatchStats {
  /** Batch mean and biased variance per channel; the caller disposes them. */
  readonly mean: tf.Tensor1D;
  readonly variance: tf.Tensor1D;
}

/** y = gamma * (x - mean) / sqrt(var + eps) + beta with the batch's mean and biased variance.
 * Returns y and the (kept) batch statistics for the running averages. */
export function batchNormTrain(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps: number,
): { y: tf.Tensor4D } & BatchStats {
  const [n, h, w] = x.shape;
  const count = n * h * w;
  let stats: BatchStats | undefined;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xi, g, b] = args as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
    const mean = tf.mean(xi, [0, 1, 2]) as tf.Tensor1D;
    const centred = tf.sub(xi, mean);
    const variance = tf.mean(tf.square(centred), [0, 1, 2]) as tf.Tensor1D;
    const rstd = tf.rsqrt(tf.add(variance, eps));
    const xhat = tf.mul(centred, rstd);
    stats = { mean: tf.keep(mean), variance: tf.keep(variance) };
    (args[3] as tf.GradSaveFunc)([xhat, rstd, g]);
    const value = tf.add(tf.mul(xhat, g), b) as tf.Tensor4D;
    const gradFunc = (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
      const [xh, rs, gs] = saved as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
      const dBeta = tf.sum(dy, [0, 1, 2]);
      const dGamma = tf.sum(tf.mul(dy, xh), [0, 1, 2]);
      // dx = gamma*rstd * (dy - mean(dy) - xhat * mean(dy * xhat))
      const centredDy = tf.sub(dy, tf.div(dBeta, count));
      const dx = tf.mul(tf.sub(centredDy, tf.mul(xh, tf.div(dGamma, count))), tf.mul(gs, rs));
      return [dx, dGamma, dBeta];
    };
    return { value, gradFunc };
  });
  const y = op(x, gamma, beta) as tf.Tensor4D;
  return { y, ...stats! };
}

/** Eval mode: normalise with the running statistics. */
export function batchNormEval(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  runningMean: tf.Tensor1D,
  runningVar: tf.Tensor1D,
  eps: number,
): tf.Tensor4D {
  const scale = tf.mul(gamma, tf.rsqrt(tf.add(runningVar, eps)));
  const shift = tf.sub(beta, tf.mul(runningMean, scale));
  return tf.add(tf.mul(x, scale), shift);
}
