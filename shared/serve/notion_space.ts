/**
 * Exact k nearest neighbours in one notion's masked subspace, laid out for repeated queries:
 * the masked embeddings e * m restricted to the dimensions the mask keeps, one contiguous
 * float32 row per item (with the default disjoint masks a quarter of the dimensions), and a
 * bounded top-k kept by insertion, so a query allocates only its answer. Same order as
 * shared/eval/knn.ts: by distance, ties by index.
 */
import { activeDims, checkEmbeddings, checkFinite, checkMask } from "../eval/masked.ts";
import type { Neighbours } from "../eval/knn.ts";

export class NotionSpace {
  readonly count: number;
  readonly dims: Int32Array;
  readonly #weights: Float32Array;
  readonly #data: Float32Array;

  /** `embeddings` is count x d row-major; `mask` a length-d row as used (after ReLU). */
  constructor(embeddings: Float32Array, readonly d: number, mask: Float32Array) {
    this.count = checkEmbeddings(embeddings, d);
    checkMask(mask, d);
    this.dims = activeDims(mask);
    const w = this.dims.length;
    this.#weights = Float32Array.from(this.dims, (k) => mask[k]!);
    this.#data = new Float32Array(this.count * w);
    for (let i = 0; i < this.count; i++) {
      for (let j = 0; j < w; j++) {
        this.#data[i * w + j] = embeddings[i * d + this.dims[j]!]! * this.#weights[j]!;
      }
    }
  }

  /** The masked query restricted to the kept dimensions (`query` has length d). */
  project(query: Float32Array): Float64Array {
    if (query.length !== this.d) {
      throw new RangeError(
        `Cannot find neighbours: the query has length ${query.length}, expected ${this.d}`,
      );
    }
    checkFinite("query", query, this.d);
    return Float64Array.from(this.dims, (k, j) => query[k]! * this.#weights[j]!);
  }

  /** Item i's row as a query (its full-length embedding is not kept). */
  projectItem(i: number): Float64Array {
    const w = this.dims.length;
    return Float64Array.from(this.#data.subarray(i * w, (i + 1) * w));
  }

  /** The k items nearest to a projected query, leaving out `exclude` (e.g. the query item). */
  nearest(q: Float64Array, k: number, exclude = -1): Neighbours {
    const w = this.dims.length;
    if (q.length !== w) {
      throw new RangeError(`Cannot find neighbours: projected query ${q.length}, expected ${w}`);
    }
    if (!Number.isInteger(k) || k < 0) {
      throw new RangeError(`Cannot find neighbours: k is ${k}, expected an integer >= 0`);
    }
    const take = Math.min(k, this.count - (exclude >= 0 && exclude < this.count ? 1 : 0));
    const best = new Float64Array(take).fill(Infinity);
    const items = new Int32Array(take).fill(-1);
    if (take === 0) return { indices: items, distances: best };
    const data = this.#data;
    const query = q;
    let worst = Infinity;
    // Four dimensions at a time, stopping an item as soon as its partial sum reaches the k-th
    // best: past the first few thousand items most stop after the first block or two.
    const blocks = w & ~3;
    for (let i = 0, o = 0; i < this.count; i++, o += w) {
      let sum = 0;
      let j = 0;
      for (; j < blocks && sum < worst; j += 4) {
        const a = data[o + j]! - query[j]!, b = data[o + j + 1]! - query[j + 1]!;
        const c = data[o + j + 2]! - query[j + 2]!, e = data[o + j + 3]! - query[j + 3]!;
        sum += a * a + b * b + c * c + e * e;
      }
      for (; j < w && sum < worst; j++) {
        const diff = data[o + j]! - query[j]!;
        sum += diff * diff;
      }
      // Strictly smaller: an equal distance at a later index stays behind, as in knn.ts.
      if (sum >= worst || i === exclude) continue;
      let p = take - 1;
      while (p > 0 && best[p - 1]! > sum) {
        best[p] = best[p - 1]!;
        items[p] = items[p - 1]!;
        p--;
      }
      best[p] = sum;
      items[p] = i;
      worst = best[take - 1]!;
    }
    return { indices: items, distances: best.map(Math.sqrt) };
  }
}
