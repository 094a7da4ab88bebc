/**
 * The CSN loss on the native backend as one forward kernel and one backward kernel per input
 * (triplet_loss_math.ts), with a registered gradient, instead of about 188 small tfjs kernel
 * calls forward and backward (fixed masks; 213 with learned masks). Inputs are an array
 * [anchor, far, close] or [anchor, far, close, masks] (all [n, d]); outputs [total, triplet,
 * embed, mask, distA, distB] as tripletLoss returns them.
 */
import * as tf from "@tensorflow/tfjs";
import type { GradConfig, KernelConfig, NamedAttrMap, TensorInfo } from "@tensorflow/tfjs";
import type { FusedLoss, LossWeights } from "../../model/loss.ts";
import { asHeapBackend, heapFloats, type WasmHeapBackend } from "./heap.ts";
import { NATIVE } from "../choices.ts";
import {
  type LossArrays,
  lossForward,
  lossGradient,
  type LossInputName,
} from "./triplet_loss_math.ts";

export const NATIVE_LOSS = "NativeTripletLoss";
export const NATIVE_LOSS_GRAD = "NativeTripletLossGrad";

const INPUTS: readonly LossInputName[] = ["anchor", "far", "close", "masks"];
const UPSTREAM = ["dTotal", "dTriplet", "dEmbed", "dMask", "dDistA", "dDistB"] as const;

/** Throws unless every input is [n, d] like anchor: the loops would read past a smaller one.
 * Called before any output is allocated, so a failed call leaves nothing behind. */
function checkShapes(t: readonly (TensorInfo | undefined)[]): void {
  const expected = t[0]!.shape;
  if (expected.length !== 2) {
    throw new RangeError(
      `Cannot compute the triplet loss: anchor has shape [${expected.join(", ")}], expected [n, d]`,
    );
  }
  t.forEach((x, i) => {
    if (x && (x.shape.length !== 2 || x.shape.some((k, j) => k !== expected[j]))) {
      throw new RangeError(
        `Cannot compute the triplet loss: ${INPUTS[i]} has shape [${x.shape.join(", ")}], ` +
          `expected [${expected.join(", ")}]`,
      );
    }
  });
}

function arrays(b: WasmHeapBackend, t: readonly (TensorInfo | undefined)[]): LossArrays {
  const [n, d] = t[0]!.shape as [number, number];
  const [anchor, far, close] = t.slice(0, 3).map((x) => heapFloats(b, x!)) as Float32Array[];
  const masks = t[3] ? heapFloats(b, t[3]) : null;
  return { n, d, anchor: anchor!, far: far!, close: close!, masks };
}

const weightsOf = (attrs: NamedAttrMap) => attrs as unknown as LossWeights;

export const LOSS_KERNEL: KernelConfig = {
  kernelName: NATIVE_LOSS,
  backendName: NATIVE,
  kernelFunc: ({ inputs, backend, attrs }) => {
    const b = asHeapBackend(backend);
    const input = inputs as unknown as TensorInfo[];
    checkShapes(input);
    const n = input[0]!.shape[0]!;
    const outs = [0, 0, 0, 0, n, n].map((k) => b.makeOutput(k ? [k] : [], "float32"));
    const r = lossForward(arrays(b, input), weightsOf(attrs!));
    const [total, triplet, embed, mask, distA, distB] = outs.map((t) => heapFloats(b, t));
    total![0] = r.total, triplet![0] = r.triplet, embed![0] = r.embed, mask![0] = r.mask;
    distA!.set(r.distA), distB!.set(r.distB);
    return outs;
  },
};

export const LOSS_GRAD_KERNEL: KernelConfig = {
  kernelName: NATIVE_LOSS_GRAD,
  backendName: NATIVE,
  kernelFunc: ({ inputs, backend, attrs }) => {
    const b = asHeapBackend(backend);
    const named = inputs as Record<string, TensorInfo>;
    const wrt = (attrs as { wrt: LossInputName }).wrt;
    checkShapes(INPUTS.map((name) => named[name]));
    const out = b.makeOutput([...named[wrt]!.shape], "float32");
    const x = arrays(b, INPUTS.map((name) => named[name]));
    const [total, triplet, embed, mask, distA, distB] = UPSTREAM.map((k) =>
      heapFloats(b, named[k]!)
    );
    const dy = {
      total: total![0]!,
      triplet: triplet![0]!,
      embed: embed![0]!,
      mask: mask![0]!,
      distA: distA!,
      distB: distB!,
    };
    heapFloats(b, out).set(lossGradient(x, weightsOf(attrs!), dy, wrt));
    return out;
  },
};

export const LOSS_GRAD: GradConfig = {
  kernelName: NATIVE_LOSS,
  saveAllInputs: true,
  gradFunc: (dy, saved, attrs) => {
    const dys = dy as tf.Tensor[];
    const upstream = Object.fromEntries(UPSTREAM.map((k, i) => [k, dys[i]!]));
    const named = Object.fromEntries(saved.map((t, i) => [INPUTS[i]!, t]));
    const grad = (wrt: LossInputName) => () =>
      tf.engine().runKernel(NATIVE_LOSS_GRAD, { ...named, ...upstream }, {
        ...attrs,
        wrt,
      }) as tf.Tensor;
    return Object.fromEntries(saved.map((_, i) => [i, grad(INPUTS[i]!)]));
  },
};

export const nativeLoss: FusedLoss = (input, weights) => {
  const list = [input.anchor, input.far, input.close];
  if (input.masks) list.push(input.masks);
  const attrs = { margin: weights.margin, embed: weights.embed, mask: weights.mask };
  // deno-lint-ignore no-explicit-any
  const outs = tf.engine().runKernel(NATIVE_LOSS, list as any, attrs) as tf.Tensor[];
  const [total, triplet, embed, mask, distA, distB] = outs;
  return {
    total: total as tf.Scalar,
    triplet: triplet as tf.Scalar,
    embed: embed as tf.Scalar,
    mask: mask as tf.Scalar,
    distA: distA as tf.Tensor1D,
    distB: distB as tf.Tensor1D,
  };
};
