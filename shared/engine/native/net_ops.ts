/**
 * The backbone's blocks as single oneDNN ops with hand-written gradients (tf.customGrad):
 * a training step then runs one native kernel per convolution, batch norm (+ ReLU), pooling
 * and residual join, forward and backward, instead of tfjs's many small kernels. Evaluation
 * folds batch norm into the convolution's weights and bias, with ReLU as a post-op.
 */
import * as tf from "@tensorflow/tfjs";
import type { NetOps } from "../../model/net_ops.ts";
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

function conv(
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  options: { stride?: number; pad: number; inputGrad?: boolean },
): tf.Tensor4D {
  const stride = options.stride ?? 1;
  const pad = [options.pad, options.pad, options.pad, options.pad];
  const inputGrad = options.inputGrad ?? true;
  const op = tf.customGrad((...args: (tf.Tensor | Saver)[]) => {
    const [xi, wi, save] = args as [tf.Tensor4D, tf.Tensor4D, Saver];
    save([xi, wi]);
    const value = run<tf.Tensor4D>(NATIVE_CONV, { x: xi, filter: wi }, {
      stride,
      pad,
      relu: false,
      training: true,
    });
    const gradFunc = (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as [tf.Tensor4D, tf.Tensor4D];
      const dx = inputGrad
        ? run<tf.Tensor4D>(NATIVE_CONV_BACKPROP_INPUT, { dy, filter: ws }, {
          stride,
          pad,
          inShape: xs.shape,
        })
        : tf.zerosLike(xs);
      const dw = run<tf.Tensor4D>(NATIVE_CONV_BACKPROP_FILTER, { x: xs, dy }, {
        stride,
        pad,
        filterShape: ws.shape,
      });
      return [dx, dw];
    };
    return { value, gradFunc };
  });
  return op(x, w) as tf.Tensor4D;
}

function batchNorm(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps: number,
  relu: boolean,
) {
  let stats: { mean: tf.Tensor1D; variance: tf.Tensor1D } | undefined;
  const op = tf.customGrad((...args: (tf.Tensor | Saver)[]) => {
    const [xi, g, b, save] = args as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, Saver];
    const [y, mean, variance, workspace] = run<tf.Tensor[]>(
      NATIVE_BATCH_NORM,
      { x: xi, scale: g, shift: b },
      { eps, relu },
    ) as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor];
    stats = { mean: tf.keep(mean.clone()), variance: tf.keep(variance.clone()) };
    save([xi, g, b, mean, variance, workspace]);
    const gradFunc = (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
      const [xs, gs, bs, ms, vs, ws] = saved as tf.Tensor[];
      return run<tf.Tensor[]>(NATIVE_BATCH_NORM_GRAD, {
        dy,
        x: xs!,
        scale: gs!,
        shift: bs!,
        mean: ms!,
        variance: vs!,
        workspace: ws!,
      }, { eps, relu });
    };
    return { value: y, gradFunc };
  });
  const y = op(x, gamma, beta) as tf.Tensor4D;
  return { y, ...stats! };
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
