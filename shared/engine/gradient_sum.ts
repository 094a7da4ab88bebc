/**
 * Micro-batch gradients summed on the host into one flat Float32Array (`model.trainable`
 * order), each weighted by its micro-batch's share of the batch. This replaces a tfjs multiply
 * and add per parameter per micro-batch, and a data() copy of each sum at the end: on the wasm
 * and native backends a gradient is read in place in the wasm heap, so the sum costs no tfjs
 * call at all. The rounding is the tfjs ops': acc = f32(acc + f32(g * f32(weight))), the first
 * term f32(g * f32(weight)), a plain copy when the weight is 1.
 */
import type * as tf from "@tensorflow/tfjs";
import { heapView } from "./heap_read.ts";

export class GradientSum {
  /** The weighted sum, `sizes` concatenated; a parameter no micro-batch reached stays 0. */
  readonly values: Float32Array;
  readonly #offsets: number[] = [];
  readonly #seen: boolean[];

  constructor(readonly sizes: readonly number[]) {
    let total = 0;
    for (const size of sizes) this.#offsets.push(total), total += size;
    this.values = new Float32Array(total);
    this.#seen = sizes.map(() => false);
  }

  /** Adds `weight` * g to parameter `index`'s slot. */
  add(index: number, g: Float32Array, weight: number): void {
    const size = this.sizes[index];
    if (size === undefined || g.length !== size) {
      throw new RangeError(
        `Cannot add a gradient to parameter ${index}: it has ${g.length} values, expected ` +
          `${size ?? "a parameter index below " + this.sizes.length}`,
      );
    }
    const out = this.values, at = this.#offsets[index]!;
    const w = Math.fround(weight); // tf.mul(g, weight) makes the weight a float32 scalar
    const f = Math.fround;
    if (!this.#seen[index]) {
      this.#seen[index] = true;
      if (w === 1) return out.set(g, at);
      for (let i = 0; i < size; i++) out[at + i] = g[i]! * w; // the store rounds to float32
      return;
    }
    for (let i = 0; i < size; i++) out[at + i] = out[at + i]! + f(g[i]! * w);
  }

  /** Adds every present gradient of a micro-batch (tensors in parameter order). */
  async addAll(grads: readonly (tf.Tensor | undefined)[], weight: number): Promise<void> {
    const views = grads.map((g) => g && heapView(g));
    if (views.every((v, i) => v || !grads[i])) {
      views.forEach((v, i) => v && this.add(i, v, weight));
      return;
    }
    // webgpu and cpu: one wait for every read.
    const read = await Promise.all(grads.map((g) => g?.data()));
    read.forEach((v, i) => v && this.add(i, v as Float32Array, weight));
  }
}
