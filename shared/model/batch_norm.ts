/**
 * BatchNorm2d over NHWC (statistics over N, H and W per channel), as PyTorch computes it.
 *
 * The training op has a hand-written gradient: autodiff through tf.moments and the
 * normalisation emits about three times as many kernels, and on small networks the per-kernel
 * cost of tfjs dominates a training step. It also updates the running statistics inside its
 * forward function, where tfjs records nothing on the gradient tape: done after the op, each
 * of those small ops would be taped and would clone its inputs for a backward pass that never
 * comes.
 */
import * as tf from "@tensorflow/tfjs";

/** The running statistics a training-mode batch norm updates, as PyTorch's BatchNorm2d:
 * new = old + (batch - old) * momentum, with the batch variance made unbiased. */
export interface RunningStats {
  readonly mean: tf.Variable;
  readonly variance: tf.Variable;
  readonly momentum: number;
}

/** count / (count - 1): the factor that makes a biased variance over `count` values unbiased. */
export function unbiasedFactor(count: number): number {
  if (!Number.isInteger(count) || count < 2) {
    throw new RangeError(
      `Cannot make a batch variance unbiased: it is over ${count} values, expected at least 2`,
    );
  }
  return count / (count - 1);
}

/** The running statistics' update in tfjs ops (float32): what every backend but native runs. */
export function updateRunningStats(
  running: RunningStats,
  mean: tf.Tensor1D,
  variance: tf.Tensor1D,
  count: number,
): void {
  const factor = unbiasedFactor(count);
  tf.tidy(() => {
    const { mean: rm, variance: rv, momentum: m } = running;
    rm.assign(tf.add(rm, tf.mul(tf.sub(mean, rm), m)));
    rv.assign(tf.add(rv, tf.mul(tf.sub(tf.mul(variance, factor), rv), m)));
  });
}

/**
 * The same update on plain arrays, rounding to float32 after every operation exactly where
 * the tfjs ops above round (each of them is one correctly rounded float32 operation, and a
 * double-precision result rounded once is that), so both give the same bits.
 */
export function updateRunningStatsF32(
  batch: { readonly mean: ArrayLike<number>; readonly variance: ArrayLike<number> },
  old: { readonly mean: ArrayLike<number>; readonly variance: ArrayLike<number> },
  out: { readonly mean: Float32Array; readonly variance: Float32Array },
  count: number,
  momentum: number,
): void {
  const f = Math.fround;
  const m = f(momentum), factor = f(unbiasedFactor(count));
  for (let c = 0; c < out.mean.length; c++) {
    const rm = old.mean[c]!, rv = old.variance[c]!;
    out.mean[c] = f(rm + f(f(batch.mean[c]! - rm) * m));
    out.variance[c] = f(rv + f(f(f(batch.variance[c]! * factor) - rv) * m));
  }
}

/** Checks that `sets` equal image sets make up a batch of `total` images. */
export function imagesPerSet(total: number, sets: number): number {
  if (!Number.isInteger(sets) || sets < 1 || total % sets !== 0) {
    throw new RangeError(
      `Cannot split a batch of ${total} images into image sets: sets is ${sets}, ` +
        "expected a positive integer that divides the batch",
    );
  }
  return total / sets;
}

/** y = gamma * (x - mean) / sqrt(var + eps) + beta with the batch's mean and biased variance;
 * updates `running` from them (once per call, whether or not a gradient is taken). With
 * `sets` > 1, x is that many image sets one after another, each with its own statistics, and
 * `running` moves once per set, in set order. */
export function batchNormTrain(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps: number,
  running: RunningStats,
  sets = 1,
): tf.Tensor4D {
  const [total, h, w, c] = x.shape;
  const perSet = imagesPerSet(total, sets);
  const count = perSet * h * w;
  // One set: statistics over N, H, W of the 4-d tensor. Several: the same over a 5-d view
  // [sets, n, H, W, C], kept as [sets, 1, 1, 1, C] to broadcast per set.
  const split = sets > 1;
  const view = (t: tf.Tensor) => split ? tf.reshape(t, [sets, perSet, h, w, c]) : t;
  const unview = (t: tf.Tensor) => (split ? tf.reshape(t, x.shape) : t) as tf.Tensor4D;
  const axes = split ? [1, 2, 3] : [0, 1, 2];
  const mean = (t: tf.Tensor) => tf.mean(t, axes, split);
  const sum = (t: tf.Tensor) => tf.sum(t, axes, split);
  const perChannel = (t: tf.Tensor) => split ? tf.sum(tf.reshape(t, [sets, c]), 0) : t;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xi, g, b] = args as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
    const xs = view(xi);
    const mu = mean(xs);
    const centred = tf.sub(xs, mu);
    const variance = mean(tf.square(centred));
    if (!split) updateRunningStats(running, mu as tf.Tensor1D, variance as tf.Tensor1D, count);
    else {
      const means = tf.unstack(tf.reshape(mu, [sets, c])) as tf.Tensor1D[];
      const variances = tf.unstack(tf.reshape(variance, [sets, c])) as tf.Tensor1D[];
      means.forEach((m, s) => updateRunningStats(running, m, variances[s]!, count));
    }
    const rstd = tf.rsqrt(tf.add(variance, eps));
    const xhat = tf.mul(centred, rstd);
    (args[3] as tf.GradSaveFunc)([xhat, rstd, g]);
    const value = unview(tf.add(tf.mul(xhat, g), b));
    const gradFunc = (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
      const [xh, rs, gs] = saved as [tf.Tensor, tf.Tensor, tf.Tensor1D];
      const dys = view(dy);
      const dBeta = sum(dys);
      const dGamma = sum(tf.mul(dys, xh));
      // dx = gamma*rstd * (dy - mean(dy) - xhat * mean(dy * xhat)), per set
      const centredDy = tf.sub(dys, tf.div(dBeta, count));
      const dx = tf.mul(tf.sub(centredDy, tf.mul(xh, tf.div(dGamma, count))), tf.mul(gs, rs));
      return [unview(dx), perChannel(dGamma), perChannel(dBeta)];
    };
    return { value, gradFunc };
  });
  return op(x, gamma, beta) as tf.Tensor4D;
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
