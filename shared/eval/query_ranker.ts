/**
 * Ranks one query's gallery by distance and scores the first K places against its label:
 * hits among the first R, the sum of P(i) at those hits (for MAP@R) and the first hit's place.
 * Fast path: a threshold by quickselect on the raw distances, then native sorts of only the
 * relevant and the irrelevant distances within the first K, merged. A distance shared by a
 * relevant and an irrelevant image needs the index order, so that rare case takes the exact
 * (distance, index) selection instead. Scratch buffers are reused across queries.
 */
import { kthValue, smallestK } from "./select.ts";

export interface QueryScore {
  /** Same-label images among the first R. */
  readonly hits: number;
  /** sum over places i <= R holding a same-label image of P(i). */
  readonly precisionSum: number;
  /** 0-based place of the first same-label image within the first K, or -1. */
  readonly firstHit: number;
}

export class QueryRanker {
  readonly #values: Float64Array;
  readonly #relevant: Float64Array;
  readonly #irrelevant: Float64Array;
  readonly #items: Int32Array;

  /** `labels[p]` is the label of gallery position p. */
  constructor(readonly size: number, readonly labels: Int32Array) {
    this.#values = new Float64Array(size);
    this.#relevant = new Float64Array(size);
    this.#irrelevant = new Float64Array(size);
    this.#items = new Int32Array(size);
  }

  /**
   * Scores the K nearest gallery positions (by keys, a monotone function of distance; ties
   * by position) other than `self` (-1 when the query is not in the gallery).
   */
  score(keys: Float64Array, self: number, label: number, R: number, K: number): QueryScore {
    const values = this.#values;
    let count = 0;
    for (let p = 0; p < this.size; p++) if (p !== self) values[count++] = keys[p]!;
    K = Math.min(K, count);
    if (K === 0) return { hits: 0, precisionSum: 0, firstHit: -1 };
    const threshold = kthValue(values, count, K - 1);
    let below = 0;
    for (let p = 0; p < this.size; p++) if (p !== self && keys[p]! < threshold) below++;
    // Images at exactly the threshold enter by index order until K are taken.
    let ties = K - below, nr = 0, ni = 0;
    const rel = this.#relevant, irr = this.#irrelevant;
    for (let p = 0; p < this.size; p++) {
      const key = keys[p]!;
      if (p === self || key > threshold || (key === threshold && ties-- <= 0)) continue;
      if (this.labels[p] === label) rel[nr++] = key;
      else irr[ni++] = key;
    }
    rel.subarray(0, nr).sort();
    irr.subarray(0, ni).sort();
    let i = 0, j = 0, hits = 0, precisionSum = 0, firstHit = -1;
    for (let place = 0; place < K; place++) {
      if (i < nr && j < ni && rel[i] === irr[j]) return this.#exact(keys, self, label, R, K);
      if (i < nr && (j >= ni || rel[i]! < irr[j]!)) {
        i++;
        if (firstHit < 0) firstHit = place;
        if (place < R) precisionSum += ++hits / (place + 1);
      } else {
        j++;
      }
    }
    return { hits, precisionSum, firstHit };
  }

  /** The same scores from an explicit (key, position) ordering. */
  #exact(keys: Float64Array, self: number, label: number, R: number, K: number): QueryScore {
    const items = this.#items;
    let count = 0;
    for (let p = 0; p < this.size; p++) if (p !== self) items[count++] = p;
    smallestK(keys, items, count, K);
    let hits = 0, precisionSum = 0, firstHit = -1;
    for (let place = 0; place < K; place++) {
      if (this.labels[items[place]!] !== label) continue;
      if (firstHit < 0) firstHit = place;
      if (place < R) precisionSum += ++hits / (place + 1);
    }
    return { hits, precisionSum, firstHit };
  }
}
