/**
 * The backbone's building blocks behind one interface, so that a backend can run each as one
 * native op with its own gradient (the engine registers those for its backend name) while
 * every other backend uses the portable tfjs compositions below.
 */
import * as tf from "@tensorflow/tfjs";
import { batchNormEval, batchNormTrain, type RunningStats } from "./batch_norm.ts";
import { conv2d, type ConvOptions } from "./conv_grad.ts";

export interface BatchNormParams {
  readonly gamma: tf.Tensor1D;
  readonly beta: tf.Tensor1D;
  readonly runningMean: tf.Tensor1D;
  readonly runningVar: tf.Tensor1D;
}

export interface NetOps {
  /** Convolution without bias, NHWC x HWIO; differentiable in x and w. With inputGrad false
   * x needs no gradient (the network's input): the portable op gives it zeros, a native one
   * may leave x off the tape altogether. */
  conv(x: tf.Tensor4D, w: tf.Tensor4D, options: ConvOptions & { pad: number }): tf.Tensor4D;
  /** Training-mode batch norm (optionally followed by ReLU) with the batch's statistics; it
   * updates `running` from them as PyTorch does (momentum, unbiased variance). With `sets` > 1
   * the batch is that many equal image sets one after another, each normalised with its own
   * statistics, and `running` moves once per set in set order: what `sets` batch norms, one
   * per set, would give. */
  batchNorm(
    x: tf.Tensor4D,
    gamma: tf.Tensor1D,
    beta: tf.Tensor1D,
    eps: number,
    relu: boolean,
    running: RunningStats,
    sets?: number,
  ): tf.Tensor4D;
  /** Evaluation: convolution, batch norm with running statistics, then (given) the
   * residual added, then optional ReLU: a block's second half in one call. */
  convBnEval(
    x: tf.Tensor4D,
    w: tf.Tensor4D,
    bn: BatchNormParams,
    eps: number,
    conv: { stride: number; pad: number },
    relu: boolean,
    residual?: tf.Tensor4D,
  ): tf.Tensor4D;
  maxPool(
    x: tf.Tensor4D,
    size: number,
    stride: number,
    pad: number,
    training: boolean,
  ): tf.Tensor4D;
  /** relu(a + b), the residual join. */
  addRelu(a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor4D;
  /** Mean over H and W: [N, H, W, C] -> [N, C]. */
  globalAvgPool(x: tf.Tensor4D, training: boolean): tf.Tensor2D;
}

/** Plain tfjs ops: what every backend without native blocks runs. */
export const PORTABLE_OPS: NetOps = {
  conv: (x, w, options) => conv2d(x, w, options),
  batchNorm(x, gamma, beta, eps, relu, running, sets) {
    const y = batchNormTrain(x, gamma, beta, eps, running, sets);
    return relu ? tf.relu(y) : y;
  },
  convBnEval(x, w, bn, eps, conv, relu, residual) {
    const h = conv2d(x, w, { stride: conv.stride, pad: conv.pad, inputGrad: false });
    const normed = batchNormEval(h, bn.gamma, bn.beta, bn.runningMean, bn.runningVar, eps);
    const y: tf.Tensor4D = residual ? tf.add(normed, residual) : normed;
    return relu ? tf.relu(y) : y;
  },
  maxPool: (x, size, stride, pad) => tf.maxPool(x, size, stride, pad),
  addRelu: (a, b) => tf.relu(tf.add(a, b)),
  globalAvgPool: (x) => tf.mean(x, [1, 2]) as tf.Tensor2D,
};

const registry = new Map<string, NetOps>();

/** Makes `ops` the blocks used whenever tfjs runs on `backendName`. */
export function registerNetOps(backendName: string, ops: NetOps): void {
  registry.set(backendName, ops);
}

/** The blocks for the current tfjs backend. */
export function netOps(): NetOps {
  return registry.get(tf.getBackend()) ?? PORTABLE_OPS;
}
