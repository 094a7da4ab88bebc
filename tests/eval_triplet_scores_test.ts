import assert from "node:assert/strict";
import { Rng } from "../shared/util/rng.ts";
import { scoreTriplets } from "../shared/eval/triplet_scores.ts";

const TOLERANCE = 1e-5;

function randomCase(seed: number, n: number, d: number, conditions: number, triplets: number) {
  const rng = new Rng(seed);
  const embeddings = Float32Array.from({ length: n * d }, () => rng.normal());
  // ReLU'd learned-style masks: some exact zeros, other weights in (0, 1.5).
  const masks = Float32Array.from(
    { length: conditions * d },
    () => Math.max(0, rng.next() * 2 - 0.5),
  );
  const quads = new Int32Array(4 * triplets);
  for (let t = 0; t < triplets; t++) {
    quads.set([rng.int(n), rng.int(n), rng.int(n), rng.int(conditions)], 4 * t);
  }
  return { embeddings, masks, quads };
}

/** The definition, one triplet at a time: masked vectors, then their Euclidean norms. */
function naiveScores(
  e: Float32Array,
  d: number,
  masks: Float32Array,
  quads: Int32Array,
  conditions: number,
  margin: number,
) {
  const dist = (i: number, j: number, c: number) => {
    const parts: number[] = [];
    for (let k = 0; k < d; k++) {
      parts.push(e[i * d + k]! * masks[c * d + k]! - e[j * d + k]! * masks[c * d + k]!);
    }
    return Math.hypot(...parts);
  };
  const right = new Array<number>(conditions).fill(0);
  const counts = new Array<number>(conditions).fill(0);
  let loss = 0;
  for (let t = 0; t < quads.length / 4; t++) {
    const [a, f, c, cond] = [
      quads[4 * t]!,
      quads[4 * t + 1]!,
      quads[4 * t + 2]!,
      quads[4 * t + 3]!,
    ];
    const distFar = dist(a, f, cond), distClose = dist(a, c, cond);
    counts[cond]!++;
    if (distFar > distClose) right[cond]!++;
    loss += Math.max(0, distClose - distFar + margin);
  }
  const total = quads.length / 4;
  return {
    accuracy: right.reduce((s, v) => s + v, 0) / total,
    per_condition: right.map((r, c) => r / counts[c]!),
    counts,
    loss: loss / total,
  };
}

Deno.test("scoreTriplets matches a naive float64 per-triplet loop on random data", () => {
  const d = 64, conditions = 4;
  const { embeddings, masks, quads } = randomCase(7, 300, d, conditions, 5000);
  const got = scoreTriplets(embeddings, d, masks, quads, 0.2);
  const want = naiveScores(embeddings, d, masks, quads, conditions, 0.2);
  assert.equal(got.triplets, 5000);
  assert.deepEqual(got.counts, want.counts);
  assert.ok(
    Math.abs(got.accuracy - want.accuracy) < TOLERANCE,
    `${got.accuracy} vs ${want.accuracy}`,
  );
  got.per_condition.forEach((v, c) => assert.ok(Math.abs(v - want.per_condition[c]!) < TOLERANCE));
  assert.ok(Math.abs(got.loss - want.loss) < TOLERANCE, `${got.loss} vs ${want.loss}`);
  // Random embeddings: accuracy near chance, so the comparison is not vacuous.
  assert.ok(got.accuracy > 0.3 && got.accuracy < 0.7);
});

Deno.test("scoreTriplets on a hand-made case: margins, strict ties, empty condition", () => {
  // 1-D points at 0, 1, 3 and a duplicate of 1; d = 2 with the second dim masked out.
  const e = Float32Array.from([0, 9, 1, -9, 3, 4, 1, 0]);
  const masks = Float32Array.from([1, 0, 2, 0, 0, 0]); // cond 1 doubles distances; cond 2 empty
  const quads = Int32Array.from([
    0,
    2,
    1,
    0, // far 3, close 1: correct, loss max(0, 1 - 3 + 0.2) = 0
    0,
    1,
    2,
    0, // far 1, close 3: wrong, loss 3 - 1 + 0.2 = 2.2
    0,
    1,
    3,
    0, // far 1, close 1 (duplicate): a tie is wrong, loss 0.2
    0,
    2,
    1,
    1, // doubled: far 6, close 2: correct, loss 0
  ]);
  const s = scoreTriplets(e, 2, masks, quads);
  assert.equal(s.accuracy, 2 / 4);
  assert.deepEqual(s.counts, [3, 1, 0]);
  assert.equal(s.per_condition[0], 1 / 3);
  assert.equal(s.per_condition[1], 1);
  assert.ok(Number.isNaN(s.per_condition[2]));
  assert.ok(Math.abs(s.loss - (0 + 2.2 + 0.2 + 0) / 4) < 1e-12);
});

Deno.test("scoreTriplets rejects bad input with a clear message", () => {
  const e = new Float32Array(8), masks = new Float32Array(4);
  assert.throws(
    () => scoreTriplets(e, 2, masks, Int32Array.from([0, 1, 9, 0])),
    /triplet 0: images \(0, 1, 9\)/,
  );
  assert.throws(
    () => scoreTriplets(e, 2, masks, Int32Array.from([0, 1, 2, 2])),
    /triplet 0: condition 2/,
  );
  assert.throws(() => scoreTriplets(e, 2, masks, Int32Array.from([0, 1, 2])), /triplets: length 3/);
  assert.throws(() => scoreTriplets(e, 3, masks, new Int32Array(0)), /embeddings: length 8/);
  const bad = Float32Array.from([0, 0, NaN, 0]);
  assert.throws(() => scoreTriplets(bad, 2, masks, new Int32Array(0)), /row 1 column 0 is NaN/);
});
