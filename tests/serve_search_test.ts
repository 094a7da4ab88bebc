/**
 * The service's exact search (shared/serve/notion_space.ts) against the k-NN of the evaluation
 * code (shared/eval/knn.ts, float64 throughout) and a naive sort over every item: same
 * neighbours in the same order, distances within 1e-5 (the subspace is kept in float32).
 */
import assert from "node:assert/strict";
import { NotionSpace } from "../shared/serve/notion_space.ts";
import { nearest } from "../shared/eval/knn.ts";
import { Rng } from "../shared/util/rng.ts";

const TOLERANCE = 1e-5;

function naive(
  e: Float32Array,
  d: number,
  m: Float32Array,
  q: Float32Array,
  k: number,
  skip: number,
) {
  const rows = Array.from({ length: e.length / d }, (_, i) => {
    let sum = 0;
    for (let j = 0; j < d; j++) sum += ((e[i * d + j]! - q[j]!) * m[j]!) ** 2;
    return { i, distance: Math.sqrt(sum) };
  }).filter((r) => r.i !== skip);
  rows.sort((a, b) => a.distance - b.distance || a.i - b.i);
  return rows.slice(0, k);
}

Deno.test("serve search: item and vector queries match knn.ts and a naive sort", () => {
  const rng = new Rng(7);
  const d = 16, n = 700;
  const e = Float32Array.from({ length: n * d }, () => rng.normal());
  // A learned-style mask: some dimensions off, the others weighted.
  const m = Float32Array.from({ length: d }, (_, j) => (j % 3 === 0 ? 0 : 0.25 + rng.next()));
  const space = new NotionSpace(e, d, m);
  assert.equal(space.dims.length, d - Math.ceil(d / 3));
  for (const [query, k] of [[0, 10], [123, 1], [699, 50], [5, 699]] as const) {
    const q = e.slice(query * d, (query + 1) * d);
    const found = space.nearest(space.projectItem(query), k, query);
    const reference = nearest(e, d, m, q, k, [query]);
    const slow = naive(e, d, m, q, k, query);
    assert.equal(found.indices.length, Math.min(k, n - 1));
    assert.deepEqual([...found.indices], [...reference.indices]);
    assert.deepEqual([...found.indices], slow.map((r) => r.i));
    found.distances.forEach((dist, i) => {
      assert.ok(Math.abs(dist - slow[i]!.distance) <= TOLERANCE, `${dist} vs ${slow[i]!.distance}`);
    });
    // The same query as a vector: the item itself comes first at distance 0.
    const asVector = space.nearest(space.project(q), 3);
    assert.equal(asVector.indices[0], query);
    assert.ok(asVector.distances[0]! <= TOLERANCE);
  }
  assert.deepEqual([...space.nearest(space.projectItem(0), 0).indices], []);
  assert.throws(() => space.project(new Float32Array(3)), /the query has length 3, expected 16/);
  assert.throws(() => space.nearest(space.projectItem(0), -1), /k is -1/);
});

Deno.test("serve search: ties keep the lower index first, as knn.ts does", () => {
  const d = 2;
  const e = Float32Array.from([0, 0, 1, 0, 0, 1, -1, 0, 0, -1, 2, 2]);
  const m = Float32Array.from([1, 1]);
  const space = new NotionSpace(e, d, m);
  const found = space.nearest(space.projectItem(0), 5, 0);
  assert.deepEqual([...found.indices], [1, 2, 3, 4, 5]);
  assert.deepEqual([...found.indices], [...nearest(e, d, m, e.slice(0, 2), 5, [0]).indices]);
});
