/**
 * conv2d (NHWC, no bias) whose gradients are themselves ordinary forward convolutions.
 *
 * Why: the WASM backend registers no Conv2DBackpropFilter and its Conv2DBackpropInput is
 * slow, so tf.conv2d cannot train there. Here
 * - dInput  = stride-1 convolution of the stride-dilated dy with the spatially flipped filter,
 *             its in/out channels swapped;
 * - dFilter = convolution of x (batch and channels swapped) with dy as the kernel, dilated by
 *             the stride: each filter tap sums x * dy over batch and positions.
 * Both use only the Conv2D kernel, which every backend has and optimises.
 */
import * as tf from "@tensorflow/tfjs";

/** "same" and "valid" as TensorFlow; a number p pads p on every side (PyTorch `padding=p`). */
export type Padding = "same" | "valid" | number | {
  readonly top: number;
  readonly bottom: number;
  readonly left: number;
  readonly right: number;
};

export interface ConvOptions {
  readonly stride?: number;
  readonly pad?: Padding;
  /** false when x needs no gradient (the network input): skips the dInput convolution. */
  readonly inputGrad?: boolean;
}

export interface ConvGeometry {
  readonly top: number;
  readonly bottom: number;
  readonly left: number;
  readonly right: number;
  readonly outH: number;
  readonly outW: number;
}

/** Output size and explicit padding of a convolution, as TensorFlow / PyTorch compute them. */
export function convGeometry(
  inH: number,
  inW: number,
  kh: number,
  kw: number,
  stride: number,
  pad: Padding,
): ConvGeometry {
  if (!Number.isInteger(stride) || stride < 1) {
    throw new RangeError(`Cannot plan conv2d: stride is ${stride}, expected a positive integer`);
  }
  if (pad === "same") {
    const outH = Math.ceil(inH / stride);
    const outW = Math.ceil(inW / stride);
    const padH = Math.max((outH - 1) * stride + kh - inH, 0);
    const padW = Math.max((outW - 1) * stride + kw - inW, 0);
    const top = Math.floor(padH / 2);
    const left = Math.floor(padW / 2);
    return { top, bottom: padH - top, left, right: padW - left, outH, outW };
  }
  const p = pad === "valid"
    ? { top: 0, bottom: 0, left: 0, right: 0 }
    : typeof pad === "number"
    ? { top: pad, bottom: pad, left: pad, right: pad }
    : pad;
  for (const [side, v] of Object.entries(p)) {
    if (!Number.isInteger(v) || v < 0) {
      throw new RangeError(`Cannot plan conv2d: padding ${side} is ${v}, expected an integer >= 0`);
    }
  }
  const outH = Math.floor((inH + p.top + p.bottom - kh) / stride) + 1;
  const outW = Math.floor((inW + p.left + p.right - kw) / stride) + 1;
  if (outH < 1 || outW < 1) {
    throw new RangeError(
      `Cannot plan conv2d: a ${kh}x${kw} kernel does not fit a ${inH}x${inW} input ` +
        `with this padding`,
    );
  }
  return { ...p, outH, outW };
}

/** Pads (positive amounts) or crops (negative amounts) the two spatial axes of an NHWC tensor. */
function padOrCrop(
  x: tf.Tensor4D,
  top: number,
  bottom: number,
  left: number,
  right: number,
): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  let y = x;
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    const t = Math.max(-top, 0);
    const l = Math.max(-left, 0);
    const hh = h - t - Math.max(-bottom, 0);
    const ww = w - l - Math.max(-right, 0);
    y = tf.slice(y, [0, t, l, 0], [n, hh, ww, c]);
  }
  const pt = Math.max(top, 0), pb = Math.max(bottom, 0);
  const pl = Math.max(left, 0), pr = Math.max(right, 0);
  if (pt + pb + pl + pr > 0) y = tf.pad(y, [[0, 0], [pt, pb], [pl, pr], [0, 0]]);
  return y;
}

/** Inserts stride-1 zeros after every row and column: [N,H,W,C] -> [N,H*s,W*s,C]. Two rank-4
 * pads (columns, then rows), not one rank-6 pad: tfjs's webgpu Pad gives wrong values at
 * rank 6 (measured on 4.22). */
function dilate(dy: tf.Tensor4D, s: number): tf.Tensor4D {
  if (s === 1) return dy;
  const [n, h, w, c] = dy.shape;
  const gap: [number, number][] = [[0, 0], [0, 0], [0, s - 1], [0, 0]];
  const columns = tf.pad(tf.reshape(dy, [n * h, w, 1, c]), gap); // [N*H, W, s, C]
  const rows = tf.pad(tf.reshape(columns, [n, h, 1, w * s * c]), gap); // [N, H, s, W*s*C]
  return tf.reshape(rows, [n, h * s, w * s, c]);
}

/** w[kh-1-a, kw-1-b, ci, co] -> [a, b, co, ci]. The taps are reordered by multiplying with an
 * anti-diagonal 0/1 matrix (exact for finite weights): on WASM that is several times faster
 * than the Reverse or SplitV kernels on filter-sized tensors. */
function flipTranspose(w: tf.Tensor4D): tf.Tensor4D {
  const [kh, kw, ci, co] = w.shape;
  const taps = kh * kw;
  let rows = tf.reshape(w, [taps, ci * co]);
  if (taps > 1) {
    const antiDiagonal = new Float32Array(taps * taps);
    for (let i = 0; i < taps; i++) antiDiagonal[i * taps + (taps - 1 - i)] = 1;
    rows = tf.matMul(tf.tensor2d(antiDiagonal, [taps, taps]), rows);
  }
  const swapped = tf.transpose(tf.reshape(rows, [taps, ci, co]), [0, 2, 1]);
  return tf.reshape(swapped, [kh, kw, co, ci]);
}

/** dL/dx as a stride-1 convolution of the dilated dy with the flipped, transposed filter. */
function inputGradient(
  dy: tf.Tensor4D,
  w: tf.Tensor4D,
  xShape: readonly number[],
  s: number,
  g: ConvGeometry,
): tf.Tensor4D {
  const [kh, kw] = w.shape;
  const inH = xShape[1]!, inW = xShape[2]!;
  const d = dilate(dy, s); // length outH*s = (outH-1)*s + 1 + (s-1) trailing zeros
  const top = kh - 1 - g.top;
  const left = kw - 1 - g.left;
  const bottom = inH + kh - 1 - top - g.outH * s;
  const right = inW + kw - 1 - left - g.outW * s;
  const padded = padOrCrop(d, top, bottom, left, right);
  return tf.conv2d(padded, flipTranspose(w), 1, "valid");
}

/** dL/dw as a convolution over x with batch and channels swapped, dy as a dilated kernel. */
function filterGradient(
  dy: tf.Tensor4D,
  x: tf.Tensor4D,
  kh: number,
  kw: number,
  s: number,
  g: ConvGeometry,
): tf.Tensor4D {
  const [, inH, inW] = x.shape;
  // Only rows/cols up to (out-1)*s + k of the padded input are ever read.
  const bottom = (g.outH - 1) * s + kh - inH - g.top;
  const right = (g.outW - 1) * s + kw - inW - g.left;
  const xp = padOrCrop(x, g.top, bottom, g.left, right);
  const xT = tf.transpose(xp, [3, 1, 2, 0]) as tf.Tensor4D; // [Ci, Hp, Wp, N]
  const dyT = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D; // [Ho, Wo, N, Co]
  const dw = tf.conv2d(xT, dyT, 1, "valid", "NHWC", [s, s]); // [Ci, kh, kw, Co]
  return tf.transpose(dw, [1, 2, 0, 3]);
}

/**
 * y = conv2d(x, w) with x NHWC [N,H,W,Ci] and w HWIO [kh,kw,Ci,Co]; differentiable on any
 * backend that has a forward Conv2D.
 */
export function conv2d(x: tf.Tensor4D, w: tf.Tensor4D, options: ConvOptions = {}): tf.Tensor4D {
  const stride = options.stride ?? 1;
  const [, inH, inW, ci] = x.shape;
  const [kh, kw, wci] = w.shape;
  if (ci !== wci) {
    throw new RangeError(
      `Cannot run conv2d: the input has ${ci} channels, the filter expects ${wci}`,
    );
  }
  const g = convGeometry(inH, inW, kh, kw, stride, options.pad ?? "valid");
  const inputGrad = options.inputGrad ?? true;
  const pad: [[number, number], [number, number], [number, number], [number, number]] = [
    [0, 0],
    [g.top, g.bottom],
    [g.left, g.right],
    [0, 0],
  ];
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const xi = args[0] as tf.Tensor4D, wi = args[1] as tf.Tensor4D;
    (args[2] as tf.GradSaveFunc)([xi, wi]);
    const value = tf.conv2d(xi, wi, stride, pad);
    const gradFunc = (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
      const xs = saved[0] as tf.Tensor4D, ws = saved[1] as tf.Tensor4D;
      const dx = inputGrad ? inputGradient(dy, ws, xs.shape, stride, g) : tf.zerosLike(xs);
      return [dx, filterGradient(dy, xs, kh, kw, stride, g)];
    };
    return { value, gradFunc };
  });
  return op(x, w) as tf.Tensor4D;
}
