/** Pure parts of data parallelism: splitting a batch over replicas, averaging their arrays. */
import type { TripletImages } from "../model/csn.ts";

/** Contiguous slices of a triplet batch, sizes differing by at most one. Copies, each with
 * its own buffers, so they can be transferred to workers without detaching `batch`. */
export function splitBatch(
  batch: TripletImages,
  parts: number,
  imageSize: number,
): TripletImages[] {
  const n = batch.conditions.length;
  const count = Math.max(1, Math.min(parts, n));
  const slices: TripletImages[] = [];
  let start = 0;
  for (let p = 0; p < count; p++) {
    const end = start + Math.floor(n / count) + (p < n % count ? 1 : 0);
    const view = (a: Float32Array) => a.slice(start * imageSize, end * imageSize);
    slices.push({
      anchor: view(batch.anchor),
      far: view(batch.far),
      close: view(batch.close),
      conditions: batch.conditions.slice(start, end),
    });
    start = end;
  }
  return slices;
}

/** sum_i w_i a_i / sum_i w_i, accumulated in float64 in index order from 0 (deterministic),
 * rounded once to float32. One pass per value with the arrays in the inner loop: paper112's
 * 2.8 M gradients are averaged on the main thread while every worker waits. The result lies in
 * a SharedArrayBuffer, so posting it to each worker shares it instead of copying 11 MB. */
export function weightedMean(
  arrays: readonly Float32Array[],
  weights: readonly number[],
): Float32Array {
  if (arrays.length !== weights.length || arrays.length === 0) {
    throw new RangeError(
      `Cannot average replica arrays: ${arrays.length} arrays for ${weights.length} weights`,
    );
  }
  const total = weights.reduce((a, b) => a + b, 0);
  const length = arrays[0]!.length;
  arrays.forEach((array, i) => {
    if (array.length !== length) {
      throw new RangeError(
        `Cannot average replica arrays: array ${i} has ${array.length} values, array 0 ${length}`,
      );
    }
  });
  const w = weights.map((x) => x / total);
  const out = new Float32Array(new SharedArrayBuffer(4 * length));
  if (arrays.length === 2) {
    const a = arrays[0]!, b = arrays[1]!, wa = w[0]!, wb = w[1]!;
    for (let j = 0; j < length; j++) out[j] = 0 + wa * a[j]! + wb * b[j]!;
    return out;
  }
  for (let j = 0; j < length; j++) {
    let sum = 0;
    for (let i = 0; i < arrays.length; i++) sum += w[i]! * arrays[i]![j]!;
    out[j] = sum;
  }
  return out;
}
