/**
 * Micro-batch gradients summed where they are, for backends whose tensors do not live in the
 * wasm heap (webgpu, tensorflow, cpu): a tfjs multiply and add per parameter per micro-batch
 * on the device, read back once when the step ends. A per-micro-batch readback would sync a
 * GPU once per micro-batch. Same float32 rounding as GradientSum: f32(acc + f32(g * w)).
 */
import * as tf from "@tensorflow/tfjs";

export class DeviceGradientSum {
  readonly #sums: (tf.Tensor | null)[];
  #ended = false;

  constructor(readonly sizes: readonly number[]) {
    this.#sums = sizes.map(() => null);
  }

  /** Adds `weight` * g for every present gradient of a micro-batch (parameter order). */
  addAll(grads: readonly (tf.Tensor | undefined)[], weight: number): Promise<void> {
    this.#checkOpen();
    tf.tidy(() => {
      grads.forEach((g, i) => {
        if (!g) return; // not reached by this micro-batch (task-specific nets)
        if (g.size !== this.sizes[i]) {
          throw new RangeError(
            `Cannot add a gradient to parameter ${i}: it has ${g.size} values, expected ` +
              `${this.sizes[i] ?? "a parameter index below " + this.sizes.length}`,
          );
        }
        const prev = this.#sums[i];
        // One micro-batch: a clone instead of a multiplication by 1.
        const scaled = weight === 1 ? tf.clone(g) : tf.mul(g, weight);
        this.#sums[i] = tf.keep(prev ? tf.add(prev, scaled) : scaled);
        prev?.dispose();
      });
    });
    return Promise.resolve();
  }

  /** The weighted sum, `sizes` concatenated (a parameter no micro-batch reached is 0), read
   * with one wait for every tensor. Ends the sum. */
  async result(): Promise<Float32Array> {
    this.#checkOpen();
    const out = new Float32Array(this.sizes.reduce((s, n) => s + n, 0));
    const read = await Promise.all(this.#sums.map((t) => t?.data()));
    let offset = 0;
    this.sizes.forEach((size, i) => {
      const values = read[i];
      if (values) out.set(values as Float32Array, offset);
      offset += size;
    });
    this.dispose();
    return out;
  }

  /** Frees the device tensors (idempotent). */
  dispose(): void {
    tf.dispose(this.#sums.filter((t): t is tf.Tensor => t !== null));
    this.#sums.fill(null);
    this.#ended = true;
  }

  #checkOpen(): void {
    if (this.#ended) throw new Error("Cannot use a gradient sum: it has ended (result or dispose)");
  }
}
