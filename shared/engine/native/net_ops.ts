/**
 * The backbone's blocks as single oneDNN ops with hand-written gradients (tf.customGrad):
 * a training step then runs one native kernel per convolution, batch norm (+ ReLU), pooling
 * and residual join, forward and backward, instead of tfjs's many small kernels. Gradients
 * hold the variables they read rather than saving clones of them (held.ts). Evaluation folds
 * batch norm into the convolution's weights and bias, with ReLU as a post-op.
 */
import * as tf from "@tensorflow/tfjs";
import type { NetOps } from "../../model/net_ops.ts";
import type { RunningStats } from "../../model/batch_norm.ts";
import {
  NATIVE_CONV,
  NATIVE_CONV_BACKPROP_FILTER,
  NATIVE_CONV_BACKPROP_INPUT,
} from "./conv_kernels.ts";
import { NATIVE_BATCH_NORM, NATIVE_BATCH_NORM_GRAD } from "./norm_kernels.ts";
import {
  NATIVE_AVG_POOL,
  NATIVE_AVG_POOL_GRAD,
  NATIVE_MAX_POOL,
  NATIVE_MAX_POOL_GRAD,
} from "./pool_kernels.ts";
import { NATIVE_ADD_RELU, NATIVE_RELU_GRAD } from "./eltwise_kernels.ts";
import { keepForGradient } from "./held.ts";
import { foldedConv } from "./folded_conv.ts";

type Attrs = Record<string, number | boolean | number[]>;

function run<T extends tf.Tensor | tf.Tensor[]>(
  kernel: string,
  inputs: Record<string, tf.Tensor>,
  attrs: Attrs = {},
): T {
  // deno-lint-ignore no-explicit-any
  return tf.engine().runKernel(kernel, inputs as any, attrs as any) as unknown as T;
}

type Saver = tf.GradSaveFunc;

const CONV = "the native convolution";
const BN = "the native batch norm";

function conv(
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  options: { stride?: number; pad: number; inputGrad?: boolean },
): tf.Tensor4D {
  const stride = options.stride ?? 1;
  const pad = [options.pad, options.pad, options.pad, options.pad];
  const forward = (xi: tf.Tensor4D, wi: tf.Tensor4D) =>
    run<tf.Tensor4D>(NATIVE_CONV, { x: xi, filter: wi }, {
      stride,
      pad,
      relu: false,
      training: true,
    });
  const filterGrad = (xs: tf.Tensor, ws: tf.Tensor, dy: tf.Tensor4D) =>
    run<tf.Tensor4D>(NATIVE_CONV_BACKPROP_FILTER, { x: xs, dy }, {
      stride,
      pad,
      filterShape: ws.shape,
    });
  if (options.inputGrad === false) {
    // The stem: its input is the images, so the op is a function of w alone and no zero dx is
    // made for tfjs to discard.
    const op = tf.customGrad((...args: (tf.Tensor | Saver)[]) => {
      const [wi, save] = args as [tf.Tensor4D, Saver];
      const kept = keepForGradient(save, [x, wi], CONV);
      const gradFunc = (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
        const [xs, ws] = kept(saved) as [tf.Tensor, tf.Tensor];
        return filterGrad(xs, ws, dy);
      };
      return { value: forward(x, wi), gradFunc };
    });
    return op(w) as tf.Tensor4D;
  }
  const op = tf.customGrad((...args: (tf.Tensor | Saver)[]) => {
    const [xi, wi, save] = args as [tf.Tensor4D, tf.Tensor4D, Saver];
    const kept = keepForGradient(save, [xi, wi], CONV);
    const gradFunc = (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
      const [xs, ws] = kept(saved) as [tf.Tensor, tf.Tensor];
      const dx = run<tf.Tensor4D>(NATIVE_CONV_BACKPROP_INPUT, { dy, filter: ws }, {
        stride,
        pad,
        inShape: xs.shape,
      });
      return [dx, filterGrad(xs, ws, dy)];
    };
    return { value: forward(xi, wi), gradFunc };
  });
  return op(x, w) as tf.Tensor4D;
}

/** Keeps x, the scale and one stats tensor (batch statistics and workspace) for the gradient;
 * the shift is not needed. The running statistics come back from the kernel. Several image
 * sets go through one kernel call each way, each with its own statistics. */
function batchNorm(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps: number,
  relu: boolean,
  running: RunningStats,
  sets = 1,
): tf.Tensor4D {
  const op = tf.customGrad((...args: (tf.Tensor | Saver)[]) => {
    const [xi, g, b, save] = args as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, Saver];
    const [y, stats, mean, variance] = run<tf.Tensor[]>(
      NATIVE_BATCH_NORM,
      { x: xi, scale: g, shift: b, runningMean: running.mean, runningVar: running.variance },
      { eps, relu, momentum: running.momentum, sets },
    ) as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
    running.mean.assign(mean);
    running.variance.assign(variance);
    const kept = keepForGradient(save, [xi, g, stats], BN);
    const gradFunc = (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
      const [xs, gs, ss] = kept(saved) as [tf.Tensor, tf.Tensor, tf.Tensor];
      return run<tf.Tensor[]>(NATIVE_BATCH_NORM_GRAD, { dy, x: xs, scale: gs, stats: ss }, {
        eps,
        relu,
        sets,
      });
    };
    return { value: y, gradFunc };
  });
  return op(x, gamma, beta) as tf.Tensor4D;
}

function maxPool(x: tf.Tensor4D, size: number, stride: number, pad: number, training: boolean) {
  const attrs = { size, stride, pad, training };
  if (!training) return run<tf.Tensor[]>(NATIVE_MAX_POOL, { x }, attrs)[0] as tf.Tensor4D;
  const op = tf.customGrad((...args: (tf.Tensor | Saver)[]) => {
    const [xi, save] = args as [tf.Tensor4D, Saver];
    const [y, workspace] = run<tf.Tensor[]>(NATIVE_MAX_POOL, { x: xi }, attrs) as [
      tf.Tensor4D,
      tf.Tensor,
    ];
    save([workspace!]);
    const gradFunc = (dy: tf.Tensor4D, saved: tf.Tensor[]) =>
      run<tf.Tensor4D>(NATIVE_MAX_POOL_GRAD, { dy, workspace: saved[0]! }, {
        ...attrs,
        inShape: xi.shape,
      });
    return { value: y!, gradFunc };
  });
  return op(x) as tf.Tensor4D;
}

function addRelu(a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor4D {
  const op = tf.customGrad((...args: (tf.Tensor | Saver)[]) => {
    const [ai, bi, save] = args as [tf.Tensor4D, tf.Tensor4D, Saver];
    const y = run<tf.Tensor4D>(NATIVE_ADD_RELU, { a: ai, b: bi });
    save([y]);
    const gradFunc = (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
      const g = run<tf.Tensor4D>(NATIVE_RELU_GRAD, { dy, y: saved[0]! });
      return [g, g.clone()];
    };
    return { value: y, gradFunc };
  });
  return op(a, b) as tf.Tensor4D;
}

function globalAvgPool(x: tf.Tensor4D, training: boolean): tf.Tensor2D {
  const op = tf.customGrad((...args: (tf.Tensor | Saver)[]) => {
    const [xi] = args as [tf.Tensor4D];
    const value = run<tf.Tensor2D>(NATIVE_AVG_POOL, { x: xi }, { training });
    const gradFunc = (dy: tf.Tensor2D) =>
      run<tf.Tensor4D>(NATIVE_AVG_POOL_GRAD, { dy }, { inShape: xi.shape });
    return { value, gradFunc };
  });
  return op(x) as tf.Tensor2D;
}

export const NATIVE_OPS: NetOps = {
  conv,
  batchNorm,
  convBnEval(x, w, bn, eps, c, relu, residual) {
    const { filter, bias } = foldedConv(w, bn, eps);
    const inputs: Record<string, tf.Tensor> = { x, filter, bias };
    if (residual) inputs.residual = residual;
    return run<tf.Tensor4D>(NATIVE_CONV, inputs, {
      stride: c.stride,
      pad: [c.pad, c.pad, c.pad, c.pad],
      relu,
      training: false,
    });
  },
  maxPool,
  addRelu,
  globalAvgPool,
};
