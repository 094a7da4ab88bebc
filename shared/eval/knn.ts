/**
 * Exact k nearest neighbours of one query under a mask (for `deno task query`): distances
 * || (e_i - q) * m ||_2 computed directly in float64, ordered by distance, ties by index.
 */
import { activeDims, checkEmbeddings, checkFinite, checkMask } from "./masked.ts";
import { smallestK } from "./select.ts";

export interface Neighbours {
  /** Image indices, nearest first. */
  readonly indices: Int32Array;
  /** Their masked Euclidean distances to the query. */
  readonly distances: Float64Array;
}

/**
 * The k images nearest to `query` (length d) under `mask`, leaving out the `exclude` images
 * (e.g. the query image itself). Returns fewer when fewer images remain.
 */
export function nearest(
  embeddings: Float32Array,
  d: number,
  mask: Float32Array,
  query: Float32Array,
  k: number,
  exclude?: Iterable<number>,
): Neighbours {
  const n = checkEmbeddings(embeddings, d);
  checkMask(mask, d);
  if (query.length !== d) {
    throw new RangeError(
      `Cannot find neighbours: the query has length ${query.length}, expected ${d}`,
    );
  }
  checkFinite("query", query, d);
  if (!Number.isInteger(k) || k < 0) {
    throw new RangeError(`Cannot find neighbours: k is ${k}, expected an integer >= 0`);
  }
  const skip = new Uint8Array(n);
  for (const i of exclude ?? []) {
    if (!Number.isInteger(i) || i < 0 || i >= n) {
      throw new RangeError(
        `Cannot find neighbours: exclude index ${i} is out of range, expected [0, ${n})`,
      );
    }
    skip[i] = 1;
  }
  const dims = activeDims(mask);
  const weights = Float64Array.from(dims, (k) => mask[k]!);
  const q = Float64Array.from(dims, (k) => query[k]!);
  const squared = new Float64Array(n);
  const items = new Int32Array(n);
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (skip[i]) continue;
    const o = i * d;
    let sum = 0;
    for (let j = 0; j < dims.length; j++) {
      const diff = (embeddings[o + dims[j]!]! - q[j]!) * weights[j]!;
      sum += diff * diff;
    }
    squared[i] = sum;
    items[count++] = i;
  }
  smallestK(squared, items, count, k);
  const take = Math.min(k, count);
  const indices = items.slice(0, take);
  return { indices, distances: Float64Array.from(indices, (i) => Math.sqrt(squared[i]!)) };
}
