/**
 * shared/engine/reduction.ts: the replicas' weighted mean equals a naive loop that sums
 * w_i * a_i in float64, array by array from zero, and rounds once to float32 (bit for bit),
 * for one, two and three replicas; unequal lengths are refused.
 */
import assert from "node:assert/strict";
import { weightedMean } from "../shared/engine/reduction.ts";
import { values } from "./support/values.ts";

function naive(arrays: readonly Float32Array[], weights: readonly number[]): Float32Array {
  const total = weights.reduce((a, b) => a + b, 0);
  const sum = new Float64Array(arrays[0]!.length);
  arrays.forEach((a, i) => a.forEach((x, j) => (sum[j] = sum[j]! + (weights[i]! / total) * x)));
  return Float32Array.from(sum);
}

Deno.test("weightedMean equals the float64 array-by-array sum, bit for bit", () => {
  for (const weights of [[5], [3, 2], [7, 1, 4]]) {
    const arrays = weights.map((_, i) => values(1001, 70 + i).map((x) => x * 10 ** i));
    arrays.forEach((a) => (a[0] = -0)); // a mean of -0s is +0, as a sum from 0 gives
    const got = weightedMean(arrays, weights);
    assert.deepEqual(got, naive(arrays, weights), `weights ${weights}`);
    assert.ok(Object.is(got[0], 0));
    assert.ok(got.buffer instanceof SharedArrayBuffer, "shared with workers, not copied");
  }
  assert.throws(
    () => weightedMean([new Float32Array(2), new Float32Array(3)], [1, 1]),
    /array 1 has 3 values, array 0 2/,
  );
  assert.throws(() => weightedMean([], []), /0 arrays for 0 weights/);
});
