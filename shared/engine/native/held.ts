/**
 * The tensors a native op's gradient reads. tf.customGrad's save() clones each one (an
 * Identity kernel, a tape node and tracking: a fixed cost per tensor that outweighs a small
 * convolution), because tfjs disposes a training pass's intermediates when its forward
 * function returns. Variables (weights, BN scales) are not disposed that way, so they are
 * held directly, and save()'s other guard becomes a check: a gradient that would read a
 * variable assigned or disposed since its forward pass stops with an error.
 */
import * as tf from "@tensorflow/tfjs";

function hold(v: tf.Variable, op: string): () => tf.Tensor {
  const dataId = v.dataId;
  return () => {
    if (v.isDisposed || v.dataId !== dataId) {
      throw new Error(
        `Cannot backpropagate through ${op}: variable "${v.name}" was ` +
          `${v.isDisposed ? "disposed" : "assigned a new value"} after the forward pass; ` +
          "keep the variables a training pass reads unchanged until its gradient is taken",
      );
    }
    return v;
  };
}

/**
 * Saves the tensors of `tensors` that are not variables (with `save`) and holds the variables;
 * the result gives all of them back, in order, from the gradient's `saved` list.
 */
export function keepForGradient(
  save: tf.GradSaveFunc,
  tensors: readonly tf.Tensor[],
  op: string,
): (saved: readonly tf.Tensor[]) => tf.Tensor[] {
  const held = tensors.map((t) => (t instanceof tf.Variable ? hold(t, op) : undefined));
  save(tensors.filter((_, i) => !held[i]));
  return (saved) => {
    let next = 0;
    return tensors.map((_, i) => {
      const get = held[i];
      if (get) return get();
      const t = saved[next++];
      if (!t) throw new Error(`Cannot backpropagate through ${op}: a saved tensor is missing`);
      return t;
    });
  };
}
