/**
 * Seeded initial values, drawn on the host from shared/util/rng.ts. Why not tf.randomNormal's
 * seed: tfjs treats seed 0 as "unseeded" (Math.random), so a user's `--seed 0` would not
 * reproduce. Each tensor gets its own stream, derived from the seed and the tensor's name, so
 * a tensor's initial values depend on neither the order of construction nor the backend.
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../util/rng.ts";

/** The generator for one named tensor of a model built with `seed` (any safe integer). */
export function initRng(seed: number, name: string): Rng {
  return Rng.derive(seed, "init", name);
}

/** N(mean, std) samples: Box-Muller, both values of each pair used. */
export function normalValues(rng: Rng, count: number, mean: number, std: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const radius = std * Math.sqrt(-2 * Math.log(1 - rng.next())); // 1 - u in (0, 1]
    const angle = 2 * Math.PI * rng.next();
    out[i] = mean + radius * Math.cos(angle);
    if (i + 1 < count) out[i + 1] = mean + radius * Math.sin(angle);
  }
  return out;
}

/** U(low, high) samples. */
export function uniformValues(rng: Rng, count: number, low: number, high: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = low + (high - low) * rng.next();
  return out;
}

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** A tensor of N(mean, std) values for the tensor `name` of a model seeded with `seed`. */
export function seededNormal(
  shape: number[],
  mean: number,
  std: number,
  seed: number,
  name: string,
): tf.Tensor {
  return tf.tensor(normalValues(initRng(seed, name), size(shape), mean, std), shape);
}

/** A tensor of U(low, high) values for the tensor `name` of a model seeded with `seed`. */
export function seededUniform(
  shape: number[],
  low: number,
  high: number,
  seed: number,
  name: string,
): tf.Tensor {
  return tf.tensor(uniformValues(initRng(seed, name), size(shape), low, high), shape);
}
