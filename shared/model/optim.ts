/**
 * Adam as PyTorch's torch.optim.Adam (no weight decay, no amsgrad), with its state (m, v, step)
 * exposed so that checkpoints resume exactly (weights/adam_state.ts names and stores it), and
 * the reference's learning-rate schedule.
 */
import * as tf from "@tensorflow/tfjs";
import type { ModelTensor } from "./resnet.ts";

export interface AdamOptions {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
}

export const ADAM_DEFAULTS: AdamOptions = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

/** lr at a 1-based epoch: lr0 * (1 - decay)^epoch, as the reference's adjust_learning_rate. */
export function learningRate(lr0: number, epoch: number, decay = 0.015): number {
  if (!Number.isInteger(epoch) || epoch < 1) {
    throw new RangeError(
      `Cannot compute the learning rate: epoch is ${epoch}, expected an integer >= 1 ` +
        `(epochs are 1-based)`,
    );
  }
  return lr0 * (1 - decay) ** epoch;
}

/** Scalars of one Adam update, as PyTorch forms them (rounded to float32 by the kernels). */
export interface AdamScalars {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  /** lr / (1 - beta1^step) */
  readonly stepSize: number;
  /** sqrt(1 - beta2^step) */
  readonly sqrtBc2: number;
}

/** New values of every parameter and its moments, in `params` order. */
export interface AdamUpdate {
  readonly params: tf.Tensor[];
  readonly m: tf.Tensor[];
  readonly v: tf.Tensor[];
}

/** One fused update of all parameters at once; the gradients as tensors or as one flat array
 * (`params` order, each row-major). */
export type FusedAdam = (
  params: readonly tf.Tensor[],
  m: readonly tf.Tensor[],
  v: readonly tf.Tensor[],
  g: readonly tf.Tensor[] | Float32Array,
  s: AdamScalars,
) => AdamUpdate;

const fusedAdam = new Map<string, FusedAdam>();

/** A backend with a one-pass Adam kernel (the same float32 operations in the same order). */
export function registerFusedAdam(backendName: string, update: FusedAdam): void {
  fusedAdam.set(backendName, update);
}

export class Adam {
  /** Number of updates applied so far (PyTorch's per-parameter "step"). */
  step = 0;
  readonly #m: tf.Variable[];
  readonly #v: tf.Variable[];

  constructor(
    readonly params: readonly ModelTensor[],
    readonly options: AdamOptions = ADAM_DEFAULTS,
  ) {
    const frozen = params.find((p) => !p.trainable);
    if (frozen) {
      throw new TypeError(`Cannot optimise "${frozen.name}" with Adam: it is not trainable`);
    }
    const zeros = (p: ModelTensor) => tf.tidy(() => tf.variable(tf.zerosLike(p.variable), false));
    this.#m = params.map(zeros);
    this.#v = params.map(zeros);
  }

  /** One update with gradients in `params` order (tensors, or one flat array). */
  apply(grads: readonly tf.Tensor[] | Float32Array, lr: number): void {
    const { beta1, beta2, epsilon } = this.options;
    this.#checkCount(grads);
    this.step++;
    const bc1 = 1 - beta1 ** this.step;
    const bc2 = 1 - beta2 ** this.step;
    const fused = fusedAdam.get(tf.getBackend());
    if (fused) {
      const scalars = { beta1, beta2, epsilon, stepSize: lr / bc1, sqrtBc2: Math.sqrt(bc2) };
      tf.tidy(() => {
        const vars = this.params.map((p) => p.variable);
        const next = fused(vars, this.#m, this.#v, grads, scalars);
        vars.forEach((p, i) => p.assign(next.params[i]!));
        this.#m.forEach((m, i) => m.assign(next.m[i]!));
        this.#v.forEach((v, i) => v.assign(next.v[i]!));
      });
      return;
    }
    const list = grads instanceof Float32Array ? unflatten(grads, this.params) : grads;
    tf.tidy(() => {
      this.params.forEach((p, i) => {
        const g = list[i]!;
        const m = this.#m[i]!, v = this.#v[i]!;
        m.assign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)));
        v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2)));
        // p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps), the order PyTorch evaluates it in.
        const denom = tf.add(tf.div(tf.sqrt(v), Math.sqrt(bc2)), epsilon);
        p.variable.assign(tf.sub(p.variable, tf.mul(tf.div(m, denom), lr / bc1)));
      });
    });
    if (grads instanceof Float32Array) { for (const t of list) t.dispose(); }
  }

  #checkCount(grads: readonly tf.Tensor[] | Float32Array): void {
    if (grads instanceof Float32Array) {
      const total = this.params.reduce((s, p) => s + p.variable.size, 0);
      if (grads.length === total) return;
      throw new RangeError(
        `Cannot take an Adam step: got ${grads.length} gradient values, expected ${total} ` +
          `(the params' sizes summed)`,
      );
    }
    if (grads.length !== this.params.length) {
      throw new RangeError(
        `Cannot take an Adam step: got ${grads.length} gradients, expected ${this.params.length} ` +
          `(one per param)`,
      );
    }
  }

  /** Each param's first and second moments (m, v), in `params` order: what a checkpoint
   * saves so that a resume continues exactly (with `step`). */
  moments(): readonly { readonly m: tf.Variable; readonly v: tf.Variable }[] {
    return this.params.map((_, i) => ({ m: this.#m[i]!, v: this.#v[i]! }));
  }

  dispose(): void {
    for (const t of [...this.#m, ...this.#v]) t.dispose();
  }
}

/** Splits a flat array into new tensors shaped like `like` (caller disposes them). */
export function unflatten(flat: Float32Array, like: readonly ModelTensor[]): tf.Tensor[] {
  const total = like.reduce((s, t) => s + t.variable.size, 0);
  if (flat.length !== total) {
    throw new RangeError(`Cannot unflatten values: got ${flat.length} numbers, expected ${total}`);
  }
  let offset = 0;
  // A shared array (the workers' averaged gradients) is copied out: a backend may keep the
  // array it is given, and not every one accepts shared memory (WebGPU uploads).
  const shared = flat.buffer instanceof SharedArrayBuffer;
  return like.map((t) => {
    const part = flat.subarray(offset, offset + t.variable.size);
    offset += t.variable.size;
    return tf.tensor(shared ? part.slice() : part, t.variable.shape);
  });
}
