/**
 * Retrieval metrics in one notion's masked subspace, by exact brute-force k-NN.
 * Every gallery image with a known label (not -1) queries all the others; images with an
 * unknown label are neither queries nor neighbours (their relevance is unknown). Metrics,
 * as in Musgrave et al., "A Metric Learning Reality Check" (2020), R = number of other
 * gallery images with the query's label:
 *   precision@1  = rel(1);
 *   R-precision  = (1/R) sum_{i<=R} rel(i);
 *   MAP@R        = (1/R) sum_{i<=R} P(i) rel(i), P(i) = precision of the first i;
 *   recall@k     = 1 if some same-label image is among the k nearest, else 0;
 * each averaged over queries. A query whose label no other gallery image has (R = 0) is
 * skipped and counted in `skipped`. Neighbours are ordered by distance, ties by image index.
 * Distances come in blocks of queries as ||a||^2 + ||b||^2 - 2ab in float64, so memory stays
 * bounded (block x gallery) and exact duplicates still tie exactly.
 */
import { checkEmbeddings, maskedSubspace, rowsOf, type Subspace } from "./masked.ts";
import { QueryRanker } from "./query_ranker.ts";

export interface RetrievalOptions {
  /** Images that may be neighbours (e.g. one split); default all. Unknown labels dropped. */
  readonly gallery?: Int32Array;
  /** Query images (known labels only); default: the gallery. */
  readonly queries?: Int32Array;
  /** k values for recall@k; default [1, 5, 10]. */
  readonly ks?: readonly number[];
  /** Queries per distance block; default so that a block holds about 2M distances. */
  readonly blockSize?: number;
}

export interface RetrievalMetrics {
  /** Queries scored (those with R >= 1). */
  readonly queries: number;
  /** Queries skipped because no other gallery image shares their label. */
  readonly skipped: number;
  /** Gallery images with a known label. */
  readonly gallery: number;
  /** Dimensions the mask keeps. */
  readonly dims: number;
  readonly precision_at_1: number;
  readonly r_precision: number;
  readonly map_at_r: number;
  /** recall@k by k, e.g. {"1": 0.9, "5": 0.97, "10": 0.99}. */
  readonly recall_at_k: Record<string, number>;
}

/** Sorted, de-duplicated, range-checked image indices. */
function indexSet(name: string, indices: Int32Array | undefined, n: number): Int32Array {
  if (!indices) return Int32Array.from({ length: n }, (_, i) => i);
  const sorted = Int32Array.from(indices).sort();
  let out = 0;
  for (let i = 0; i < sorted.length; i++) {
    const v = sorted[i]!;
    if (v < 0 || v >= n) {
      throw new RangeError(`Cannot read ${name}: index ${v} is out of range, expected [0, ${n})`);
    }
    if (i === 0 || v !== sorted[i - 1]) sorted[out++] = v;
  }
  return sorted.slice(0, out);
}

function known(indices: Int32Array, labels: Int32Array): Int32Array {
  return indices.filter((i) => labels[i]! >= 0);
}

/** Squared norms of the rows of a subspace. */
function squaredNorms(s: Subspace): Float64Array {
  const out = new Float64Array(s.rows);
  for (let r = 0; r < s.rows; r++) {
    let sum = 0;
    for (let k = r * s.dims, end = k + s.dims; k < end; k++) sum += s.data[k]! * s.data[k]!;
    out[r] = sum;
  }
  return out;
}

function dot(a: Float64Array, ao: number, b: Float64Array, bo: number, m: number): number {
  let sum = 0;
  for (let k = 0; k < m; k++) sum += a[ao + k]! * b[bo + k]!;
  return sum;
}

/**
 * out[(q - q0) * g.rows + j] = squared distance between query row q and gallery row j, for q
 * in [q0, q1). The dot products go in 2 x 2 tiles (two queries by two gallery rows), which
 * about halves the loads per multiply-add; odd edges take a plain dot product.
 */
function distanceBlock(
  qs: Subspace,
  qNorm: Float64Array,
  q0: number,
  q1: number,
  g: Subspace,
  gNorm: Float64Array,
  out: Float64Array,
): void {
  const m = g.dims, G = g.rows, Q = qs.data, X = g.data;
  const put = (q: number, j: number, dotProduct: number) => {
    // Clamp rounding below zero; exact duplicates give exactly 0 either way.
    out[(q - q0) * G + j] = Math.max(0, qNorm[q]! + gNorm[j]! - 2 * dotProduct);
  };
  const qEven = q0 + ((q1 - q0) & ~1), gEven = G & ~1;
  for (let j = 0; j < gEven; j += 2) {
    const x0 = j * m, x1 = x0 + m;
    for (let q = q0; q < qEven; q += 2) {
      const u0 = q * m, u1 = u0 + m;
      let a = 0, b = 0, c = 0, d = 0;
      for (let k = 0; k < m; k++) {
        const x = X[x0 + k]!, y = X[x1 + k]!, u = Q[u0 + k]!, v = Q[u1 + k]!;
        a += u * x;
        b += u * y;
        c += v * x;
        d += v * y;
      }
      put(q, j, a);
      put(q, j + 1, b);
      put(q + 1, j, c);
      put(q + 1, j + 1, d);
    }
  }
  for (let q = q0; q < q1; q++) {
    const jFrom = q < qEven ? gEven : 0; // the last odd query row needs every gallery row
    for (let j = jFrom; j < G; j++) put(q, j, dot(Q, q * m, X, j * m, m));
  }
}

/** Retrieval metrics for one notion: its mask row and its labels (-1 = unknown). */
export function retrievalMetrics(
  embeddings: Float32Array,
  d: number,
  mask: Float32Array,
  labels: Int32Array,
  options: RetrievalOptions = {},
): RetrievalMetrics {
  const n = checkEmbeddings(embeddings, d);
  if (labels.length !== n) {
    throw new RangeError(
      `Cannot score retrieval: labels have ${labels.length} entries, expected ${n} (one per image)`,
    );
  }
  const ks = [...(options.ks ?? [1, 5, 10])];
  for (const k of ks) {
    if (!Number.isInteger(k) || k < 1) {
      throw new RangeError(`Cannot score retrieval: recall k is ${k}, expected an integer >= 1`);
    }
  }
  const gallery = known(indexSet("gallery", options.gallery, n), labels);
  const queries = options.queries
    ? known(indexSet("queries", options.queries, n), labels)
    : gallery;
  const G = gallery.length;
  const g = maskedSubspace(embeddings, d, mask, gallery);
  const qs = queries === gallery ? g : maskedSubspace(embeddings, d, mask, queries);
  const gNorm = squaredNorms(g);
  const qNorm = queries === gallery ? gNorm : squaredNorms(qs);

  // Gallery position of each image (or -1), and gallery images per label.
  const position = new Int32Array(n).fill(-1);
  gallery.forEach((image, p) => (position[image] = p));
  const perLabel = new Map<number, number>();
  for (const image of gallery) {
    perLabel.set(labels[image]!, (perLabel.get(labels[image]!) ?? 0) + 1);
  }
  const galleryLabels = Int32Array.from(gallery, (image) => labels[image]!);

  const block = Math.max(
    1,
    options.blockSize ?? Math.min(512, Math.floor(2_000_000 / Math.max(1, G))),
  );
  const dist = new Float64Array(Math.min(block, queries.length) * G);
  const ranker = new QueryRanker(G, galleryLabels);
  const kMax = Math.max(...ks);
  const recallHits = new Float64Array(ks.length);
  let scored = 0, skipped = 0, p1 = 0, rPrecision = 0, mapAtR = 0;

  for (let q0 = 0; q0 < queries.length; q0 += block) {
    const q1 = Math.min(queries.length, q0 + block);
    distanceBlock(qs, qNorm, q0, q1, g, gNorm, dist);
    for (let q = q0; q < q1; q++) {
      const image = queries[q]!, label = labels[image]!, self = position[image]!;
      const R = (perLabel.get(label) ?? 0) - (self >= 0 ? 1 : 0);
      if (R <= 0) {
        skipped++;
        continue;
      }
      const keys = dist.subarray((q - q0) * G, (q - q0 + 1) * G);
      const s = ranker.score(keys, self, label, R, Math.max(R, kMax));
      scored++;
      if (s.firstHit === 0) p1++;
      rPrecision += s.hits / R;
      mapAtR += s.precisionSum / R;
      ks.forEach((k, j) => {
        if (s.firstHit >= 0 && s.firstHit < k) recallHits[j]!++;
      });
    }
  }
  const mean = (sum: number) => (scored ? sum / scored : NaN);
  return {
    queries: scored,
    skipped,
    gallery: G,
    dims: g.dims,
    precision_at_1: mean(p1),
    r_precision: mean(rPrecision),
    map_at_r: mean(mapAtR),
    recall_at_k: Object.fromEntries(ks.map((k, j) => [String(k), mean(recallHits[j]!)])),
  };
}

/** Retrieval metrics for every notion: mask row c with labels[c]. */
export function retrievalByNotion(
  embeddings: Float32Array,
  d: number,
  masks: Float32Array,
  labels: readonly Int32Array[],
  options: RetrievalOptions = {},
): RetrievalMetrics[] {
  const rows = rowsOf("masks", masks, d);
  if (labels.length !== rows) {
    throw new RangeError(
      `Cannot score retrieval: labels have ${labels.length} notions, expected ${rows} ` +
        `(one per mask row)`,
    );
  }
  return labels.map((l, c) =>
    retrievalMetrics(embeddings, d, masks.subarray(c * d, (c + 1) * d), l, options)
  );
}
