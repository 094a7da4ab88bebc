/**
 * One optimisation step over a triplet batch, split into micro-batches whose gradients are
 * summed (weighted by micro-batch size, so they average to the batch's mean gradient; in the
 * wasm heap, gradient_sum.ts, or on the device, device_gradient_sum.ts) and applied once.
 * Gradients travel as one flat Float32Array in `model.trainable` order, so data-parallel
 * workers can average them before everyone applies the same update.
 *
 * With micro-batches, BatchNorm statistics and the embedding-norm term are per micro-batch
 * (the triplet and mask terms average exactly to their full-batch values).
 */
import * as tf from "@tensorflow/tfjs";
import type { CsnModel, TripletImages } from "../model/csn.ts";
import { type LossWeights, REFERENCE_LOSS, tripletAccuracy, tripletLoss } from "../model/loss.ts";
import { unflatten } from "../model/optim.ts";
import { mergeStats, type StepStats } from "./stats.ts";
import { GradientSum } from "./gradient_sum.ts";
import { DeviceGradientSum } from "./device_gradient_sum.ts";
import { heapMemory } from "./native/simd_module.ts";
import { readFlat } from "./heap_read.ts";

export interface StepOptions {
  /** Triplets per forward/backward pass. */
  readonly microBatch: number;
  readonly loss?: LossWeights;
  /** One forward pass for anchor, far and close together (default: three, as the reference). */
  readonly batched?: boolean;
}

export interface Gradients {
  /** Mean gradient over the batch, `model.trainable` order, each tensor's values row-major. */
  readonly values: Float32Array;
  readonly stats: StepStats;
}

/** The triplets [start, end) of a batch, as views (no copy). */
export function sliceBatch(batch: TripletImages, start: number, end: number, imageSize: number) {
  const view = (a: Float32Array) => a.subarray(start * imageSize, end * imageSize);
  return {
    anchor: view(batch.anchor),
    far: view(batch.far),
    close: view(batch.close),
    conditions: batch.conditions.subarray(start, end),
  };
}

/** [start, end) of each micro-batch of `size` triplets in a batch of `n`. */
export function microBatches(n: number, size: number): [number, number][] {
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(
      `Cannot split a batch: microBatch must be a positive integer, got ${size}`,
    );
  }
  if (n === 0) throw new RangeError("Cannot split a batch: it holds no triplets");
  const out: [number, number][] = [];
  for (let s = 0; s < n; s += size) out.push([s, Math.min(n, s + size)]);
  return out;
}

/** One micro-batch's statistics from its loss parts and distances. */
export function microStats(
  triplets: number,
  parts: { loss: number; triplet: number; embed: number; mask: number },
  distA: ArrayLike<number>,
  distB: ArrayLike<number>,
  conditions: ArrayLike<number>,
  nConditions: number,
): StepStats {
  return { triplets, ...parts, accuracy: tripletAccuracy(distA, distB, conditions, nConditions) };
}

/** Forward + backward over the batch in micro-batches; updates BatchNorm running stats.
 * Values come back with `await data()`: webgpu under Deno cannot read synchronously. */
export async function computeGradients(
  model: CsnModel,
  batch: TripletImages,
  options: StepOptions,
): Promise<Gradients> {
  const n = model.checkBatch(batch);
  const params = model.trainable;
  const vars = params.map((p) => p.variable);
  const sizes = params.map((p) => p.variable.size);
  // wasm and native: summed in the heap beside the gradients; other backends on the device.
  const sum = heapMemory(tf.backend()) ? new GradientSum(sizes) : new DeviceGradientSum(sizes);
  const parts: StepStats[] = [];
  try {
    for (const [start, end] of microBatches(n, options.microBatch)) {
      const mb = sliceBatch(batch, start, end, model.imageSize);
      let kept: tf.Tensor[] = [];
      let conditions = mb.conditions;
      const { value, grads } = tf.variableGrads(() => {
        const emb = model.forward(mb, { training: true, batched: options.batched });
        const p = tripletLoss(emb, options.loss ?? REFERENCE_LOSS);
        kept = [p.triplet, p.embed, p.mask, p.distA, p.distB].map((t) => tf.keep(t));
        conditions = emb.conditions;
        return p.total;
      }, vars);
      // A parameter without a gradient was not reached by this micro-batch (task-specific nets).
      await sum.addAll(params.map((p) => grads[p.variable.name]), (end - start) / n);
      const [loss, triplet, embed, mask, distA, distB] = await Promise.all(
        [value, ...kept].map((t) => t.data()),
      );
      const values = { loss: loss![0]!, triplet: triplet![0]!, embed: embed![0]!, mask: mask![0]! };
      parts.push(
        microStats(end - start, values, distA!, distB!, conditions, model.config.nConditions),
      );
      tf.dispose([value, ...Object.values(grads), ...kept]);
    }
    return { values: await sum.result(), stats: mergeStats(parts) };
  } finally {
    sum.dispose(); // frees the sum's heap memory when a micro-batch failed
  }
}

/** BatchNorm running statistics as one flat array (`model.buffers` order). */
export async function readBuffers(model: CsnModel): Promise<Float32Array> {
  return await readFlat(model.buffers.map((t) => t.variable));
}

/** Overwrites the BatchNorm running statistics (e.g. with the workers' average). */
export function writeBuffers(model: CsnModel, values: Float32Array): void {
  const buffers = model.buffers;
  const parts = unflatten(values, buffers);
  buffers.forEach((t, i) => t.variable.assign(parts[i]!));
  tf.dispose(parts);
}
