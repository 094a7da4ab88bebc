import assert from "node:assert/strict";
import { Rng } from "../shared/util/rng.ts";
import { nearest } from "../shared/eval/knn.ts";
import { retrievalByNotion, retrievalMetrics } from "../shared/eval/retrieval.ts";
import { smallestK } from "../shared/eval/select.ts";

const TOLERANCE = 1e-9;

/** Clustered random embeddings: centre of the label plus noise; about 10% unknown labels. */
function clustered(seed: number, n: number, d: number, classes: number, noise: number) {
  const rng = new Rng(seed);
  const centres = Array.from(
    { length: classes },
    () => Array.from({ length: d }, () => rng.normal()),
  );
  const labels = new Int32Array(n);
  const embeddings = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const label = rng.int(classes);
    labels[i] = rng.next() < 0.1 ? -1 : label;
    for (let k = 0; k < d; k++) embeddings[i * d + k] = centres[label]![k]! + noise * rng.normal();
  }
  const mask = Float32Array.from({ length: d }, () => (rng.next() < 0.3 ? 0 : rng.next() + 0.1));
  return { embeddings, labels, mask };
}

/** The definitions, query by query: every distance, a full sort, then counting. */
function naiveRetrieval(
  e: Float32Array,
  d: number,
  mask: Float32Array,
  labels: Int32Array,
  gallery: number[],
  queries: number[],
  ks: number[],
) {
  const g = gallery.filter((i) => labels[i]! >= 0);
  let scored = 0, skipped = 0, p1 = 0, rp = 0, map = 0;
  const recall = ks.map(() => 0);
  for (const q of queries.filter((i) => labels[i]! >= 0)) {
    const others = g.filter((i) => i !== q).map((i) => {
      let s = 0;
      for (let k = 0; k < d; k++) s += ((e[q * d + k]! - e[i * d + k]!) * mask[k]!) ** 2;
      return { i, dist: Math.sqrt(s) };
    });
    others.sort((a, b) => a.dist - b.dist || a.i - b.i);
    const rel = others.map((o) => (labels[o.i] === labels[q] ? 1 : 0));
    const R = rel.reduce((s: number, v) => s + v, 0);
    if (R === 0) {
      skipped++;
      continue;
    }
    scored++;
    p1 += rel[0]!;
    let hits = 0, ap = 0;
    for (let i = 0; i < R; i++) {
      if (rel[i]) {
        hits++;
        ap += hits / (i + 1);
      }
    }
    rp += hits / R;
    map += ap / R;
    ks.forEach((k, j) => (recall[j]! += rel.slice(0, k).some((v) => v === 1) ? 1 : 0));
  }
  return {
    queries: scored,
    skipped,
    precision_at_1: p1 / scored,
    r_precision: rp / scored,
    map_at_r: map / scored,
    recall_at_k: Object.fromEntries(ks.map((k, j) => [String(k), recall[j]! / scored])),
  };
}

function assertMatches(
  got: ReturnType<typeof retrievalMetrics>,
  want: ReturnType<typeof naiveRetrieval>,
) {
  assert.equal(got.queries, want.queries);
  assert.equal(got.skipped, want.skipped);
  for (const key of ["precision_at_1", "r_precision", "map_at_r"] as const) {
    assert.ok(Math.abs(got[key] - want[key]) < TOLERANCE, `${key}: ${got[key]} vs ${want[key]}`);
  }
  assert.deepEqual(Object.keys(got.recall_at_k), Object.keys(want.recall_at_k));
  for (const [k, v] of Object.entries(want.recall_at_k)) {
    assert.ok(
      Math.abs(got.recall_at_k[k]! - v) < TOLERANCE,
      `recall@${k}: ${got.recall_at_k[k]} vs ${v}`,
    );
  }
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

Deno.test("retrieval metrics match a naive sort-everything implementation on random data", () => {
  const d = 16, n = 400;
  const { embeddings, labels, mask } = clustered(3, n, d, 12, 1.2);
  const ks = [1, 5, 10];
  const want = naiveRetrieval(embeddings, d, mask, labels, range(n), range(n), ks);
  // Imperfect clusters, so every metric is strictly between 0 and 1 and the test can fail.
  assert.ok(want.map_at_r > 0.05 && want.map_at_r < 0.95, `map ${want.map_at_r}`);
  assert.ok(want.map_at_r < want.r_precision);
  for (const blockSize of [1, 7, undefined]) {
    const got = retrievalMetrics(embeddings, d, mask, labels, { blockSize });
    assert.equal(got.gallery, labels.filter((l) => l >= 0).length);
    assert.equal(got.dims, mask.filter((m) => m !== 0).length);
    assertMatches(got, want);
  }
});

Deno.test("retrieval with the gallery restricted to a split, and separate queries", () => {
  const d = 8, n = 300;
  const { embeddings, labels, mask } = clustered(11, n, d, 40, 0.9); // some labels lone in the split
  const split = range(n).filter((i) => i % 3 !== 0);
  const queries = range(n).filter((i) => i % 2 === 0); // half of them outside the gallery
  const got = retrievalMetrics(embeddings, d, mask, labels, {
    gallery: Int32Array.from(split),
    queries: Int32Array.from(queries),
    ks: [1, 3],
  });
  const want = naiveRetrieval(embeddings, d, mask, labels, split, queries, [1, 3]);
  assert.ok(want.skipped > 0, "the case should have queries without a same-label neighbour");
  assertMatches(got, want);
});

Deno.test("perfectly separated clusters score 1.0 on every metric", () => {
  const d = 4, n = 60, classes = 3;
  const e = new Float32Array(n * d);
  const labels = Int32Array.from(range(n), (i) => i % classes);
  const rng = new Rng(5);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k++) e[i * d + k] = (k === labels[i] ? 100 : 0) + rng.next();
  }
  const [m] = retrievalByNotion(e, d, new Float32Array(d).fill(1), [labels]);
  assert.ok(m);
  assert.equal(m.queries, n);
  assert.deepEqual(
    [m.precision_at_1, m.r_precision, m.map_at_r, ...Object.values(m.recall_at_k)],
    [1, 1, 1, 1, 1, 1],
  );
});

Deno.test("a hand-computed case where MAP@R differs from R-precision", () => {
  // 1-D: query 0 (A) at 0; B at 1; A at 2 and 3; B far away. R = 2, ranking B A A B.
  const e = Float32Array.from([0, 1, 2, 3, 100]);
  const labels = Int32Array.from([0, 1, 0, 0, 1]);
  const m = retrievalMetrics(e, 1, Float32Array.from([1]), labels, {
    queries: Int32Array.from([0]),
    ks: [1, 2, 5],
  });
  assert.equal(m.precision_at_1, 0);
  assert.equal(m.r_precision, 1 / 2); // one A among the first R = 2
  assert.equal(m.map_at_r, (1 / 2) * (1 / 2)); // (1/R) * P(2)
  assert.deepEqual(m.recall_at_k, { "1": 0, "2": 1, "5": 1 });
});

Deno.test("equal distances are broken by image index", () => {
  // Query 1 at 0; images 0 (B) and 2 (A) both at distance 1. Index 0 wins: p@1 = 0.
  const labels = Int32Array.from([1, 0, 0]);
  const m = retrievalMetrics(Float32Array.from([-1, 0, 1]), 1, Float32Array.from([1]), labels, {
    queries: Int32Array.from([1]),
  });
  assert.equal(m.precision_at_1, 0);
  // Swap which side is the same label: now index 0 is relevant.
  const swapped = retrievalMetrics(
    Float32Array.from([1, 0, -1]),
    1,
    Float32Array.from([1]),
    Int32Array.from([0, 0, 1]),
    {
      queries: Int32Array.from([1]),
    },
  );
  assert.equal(swapped.precision_at_1, 1);
});

Deno.test("retrieval rejects bad input clearly", () => {
  const e = new Float32Array(8);
  assert.throws(
    () => retrievalMetrics(e, 2, new Float32Array(2), new Int32Array(3)),
    /labels have 3 entries, expected 4/,
  );
  assert.throws(
    () => retrievalMetrics(e, 2, new Float32Array(3), new Int32Array(4)),
    /mask: length 3, expected 2/,
  );
  assert.throws(
    () =>
      retrievalMetrics(e, 2, new Float32Array(2), new Int32Array(4), {
        gallery: Int32Array.from([4]),
      }),
    /gallery: index 4/,
  );
  assert.throws(
    () => retrievalByNotion(e, 2, new Float32Array(4), [new Int32Array(4)]),
    /1 notions, expected 2/,
  );
});

Deno.test("nearest matches a full sort, honours exclude and ties", () => {
  const d = 6, n = 200;
  const { embeddings, mask } = clustered(9, n, d, 5, 1);
  embeddings.copyWithin(10 * d, 20 * d, 21 * d); // image 10 duplicates image 20: a tie
  const query = embeddings.slice(3 * d, 4 * d);
  const got = nearest(embeddings, d, mask, query, 15, [3]);
  const all = range(n).filter((i) => i !== 3).map((i) => {
    let s = 0;
    for (let k = 0; k < d; k++) s += ((embeddings[i * d + k]! - query[k]!) * mask[k]!) ** 2;
    return { i, dist: Math.sqrt(s) };
  }).sort((a, b) => a.dist - b.dist || a.i - b.i);
  assert.deepEqual([...got.indices], all.slice(0, 15).map((o) => o.i));
  got.distances.forEach((v, j) => assert.ok(Math.abs(v - all[j]!.dist) < 1e-12));
  const withDuplicate = nearest(embeddings, d, mask, embeddings.slice(20 * d, 21 * d), 2);
  assert.deepEqual([...withDuplicate.indices], [10, 20]); // both at distance 0: lower index first
  assert.equal(nearest(embeddings, d, mask, query, n + 5).indices.length, n);
  assert.throws(
    () => nearest(embeddings, d, mask, new Float32Array(3), 1),
    /query has length 3, expected 6/,
  );
});

Deno.test("smallestK agrees with a full sort, with many ties", () => {
  const rng = new Rng(1);
  for (let trial = 0; trial < 50; trial++) {
    const n = 1 + rng.int(300);
    const keys = Float64Array.from({ length: n }, () => rng.int(20)); // heavy ties
    const items = Int32Array.from(range(n));
    rng.shuffle(items as unknown as number[]);
    const k = rng.int(n + 2);
    smallestK(keys, items, n, k);
    const want = range(n).sort((a, b) => keys[a]! - keys[b]! || a - b).slice(0, k);
    assert.deepEqual([...items.subarray(0, Math.min(k, n))], want);
  }
});

Deno.test("retrieval matches the naive ranking when many distances tie exactly", () => {
  // Small integer coordinates: many equal distances, across and within labels.
  const d = 3, n = 250;
  const rng = new Rng(21);
  const embeddings = Float32Array.from({ length: n * d }, () => rng.int(3));
  const labels = Int32Array.from({ length: n }, () => rng.int(4));
  const mask = Float32Array.from([1, 0.5, 2]);
  const got = retrievalMetrics(embeddings, d, mask, labels, { ks: [1, 2, 7] });
  assertMatches(got, naiveRetrieval(embeddings, d, mask, labels, range(n), range(n), [1, 2, 7]));
});
