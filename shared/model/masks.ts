/**
 * Condition masks (n_conditions x d), one row per notion of similarity (docs/csn.md "Masks").
 * Rows are looked up by a one-hot matmul, not gather: the WASM backend has no gradient kernel
 * (UnsortedSegmentSum) for gather.
 */
import * as tf from "@tensorflow/tfjs";
import { seededNormal } from "./init.ts";
import type { ModelTensor } from "./resnet.ts";

/** fixed: disjoint blocks, not trained. learned: N(0.9, 0.7) + ReLU. prein: 0.1 with the
 * disjoint block at 1, trained, ReLU. */
export type MaskKind = "fixed" | "learned" | "prein";
export const MASK_KINDS: readonly MaskKind[] = ["fixed", "learned", "prein"];

function checkSizes(n: number, d: number): void {
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(
      `Cannot make masks: the number of conditions is ${n}, expected a positive integer`,
    );
  }
  if (!Number.isInteger(d) || d < 1) {
    throw new RangeError(
      `Cannot make masks: the embedding size is ${d}, expected a positive integer`,
    );
  }
  if (n > d) {
    throw new RangeError(
      `Cannot make masks: ${n} conditions cannot have disjoint blocks in a ${d}-dimensional ` +
        `embedding (every block would be empty); use at most ${d} conditions or a larger embedding`,
    );
  }
}

/** Row i is 1 on [i*floor(d/n), (i+1)*floor(d/n)) and `background` elsewhere. */
export function disjointMasks(n: number, d: number, background = 0): Float32Array {
  checkSizes(n, d);
  const out = new Float32Array(n * d).fill(background);
  const len = Math.floor(d / n);
  for (let i = 0; i < n; i++) out.fill(1, i * d + i * len, i * d + (i + 1) * len);
  return out;
}

export class Masks {
  readonly tensor: ModelTensor;

  /** `seed` (any safe integer, 0 included) draws learned masks' initial values. */
  constructor(readonly kind: MaskKind, readonly n: number, readonly d: number, seed: number) {
    checkSizes(n, d);
    let init: tf.Tensor;
    if (kind === "fixed") init = tf.tensor2d(disjointMasks(n, d), [n, d]);
    else if (kind === "prein") init = tf.tensor2d(disjointMasks(n, d, 0.1), [n, d]);
    else if (kind === "learned") init = seededNormal([n, d], 0.9, 0.7, seed, "masks.weight");
    else {throw new TypeError(
        `Cannot make masks: unknown kind "${kind}", expected one of ${MASK_KINDS.join(", ")}`,
      );}
    const trainable = kind !== "fixed";
    this.tensor = {
      name: "masks.weight",
      variable: tf.variable(init, trainable),
      layout: "plain",
      trainable,
    };
    init.dispose();
  }

  /** Mask rows for a batch of condition ids, after ReLU for trained masks: [batch, d].
   * The one-hot matrix is built on the host: the WASM OneHot kernel ignores dtype "float32"
   * (it writes int32 bits into a float32 tensor). */
  rows(conditions: ArrayLike<number>): tf.Tensor2D {
    const oneHot = new Float32Array(conditions.length * this.n);
    for (let i = 0; i < conditions.length; i++) {
      const c = conditions[i]!;
      if (!Number.isInteger(c) || c < 0 || c >= this.n) {
        throw new RangeError(`Cannot select mask rows: condition ${c} is not in 0..${this.n - 1}`);
      }
      oneHot[i * this.n + c] = 1;
    }
    const rows = tf.matMul(
      tf.tensor2d(oneHot, [conditions.length, this.n]),
      this.tensor.variable as tf.Tensor2D,
    ) as tf.Tensor2D;
    return this.kind === "fixed" ? rows : tf.relu(rows) as tf.Tensor2D;
  }

  /** The masks as used in the forward pass (ReLU applied for trained kinds), row-major. */
  async values(): Promise<Float32Array> {
    const v = this.tensor.variable;
    const used = this.kind === "fixed" ? v.clone() : tf.relu(v);
    const data = await used.data() as Float32Array;
    used.dispose();
    return data;
  }

  dispose(): void {
    this.tensor.variable.dispose();
  }
}
