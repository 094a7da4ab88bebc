/** Seeded sampling of triplets spread evenly over the chosen conditions. */
import { Rng } from "../../util/rng.ts";
import type { TripletTable } from "../dataset.ts";

export interface SampleResult {
  /** Quads (anchor, far, close, condition), conditions interleaved in a seeded order. */
  readonly triplets: TripletTable;
  /** Per condition (same order as the input): triplets taken. */
  readonly taken: number[];
  /** Per condition: how many the even share asked for. */
  readonly wanted: number[];
}

/**
 * Draws `total` triplets without replacement: condition c gets floor(total / n) (the first
 * total % n conditions one more), or all it has when it has fewer. `lists[c]` holds flat
 * (anchor, far, close) triples of condition c, whose id in the output is c.
 */
export function sampleTriplets(
  lists: readonly Int32Array[],
  total: number,
  rng: Rng,
): SampleResult {
  if (!Number.isInteger(total) || total < 0) {
    throw new RangeError(
      `Cannot sample zappos triplets: count = ${total}, expected a non-negative integer`,
    );
  }
  const n = lists.length;
  const wanted = lists.map((_, c) => Math.floor(total / n) + (c < total % n ? 1 : 0));
  const taken = lists.map((list, c) => Math.min(wanted[c]!, list.length / 3));
  const sum = taken.reduce((a, b) => a + b, 0);
  const out = new Int32Array(sum * 4);
  let row = 0;
  lists.forEach((list, c) => {
    const k = taken[c]!;
    const picks = partialShuffle(list.length / 3, k, rng);
    for (let i = 0; i < k; i++, row++) {
      const src = picks[i]! * 3;
      out[row * 4] = list[src]!;
      out[row * 4 + 1] = list[src + 1]!;
      out[row * 4 + 2] = list[src + 2]!;
      out[row * 4 + 3] = c;
    }
  });
  shuffleRows(out, 4, rng);
  return { triplets: out, taken, wanted };
}

/** The first k entries of a seeded Fisher-Yates shuffle of 0..n-1. */
function partialShuffle(n: number, k: number, rng: Rng): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(n - i);
    const tmp = order[i]!;
    order[i] = order[j]!;
    order[j] = tmp;
  }
  return order.subarray(0, k);
}

/** Fisher-Yates over rows of `width` ints. */
function shuffleRows(table: Int32Array, width: number, rng: Rng): void {
  const rows = table.length / width;
  const tmp = new Int32Array(width);
  for (let i = rows - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    if (j === i) continue;
    tmp.set(table.subarray(i * width, (i + 1) * width));
    table.copyWithin(i * width, j * width, (j + 1) * width);
    table.set(tmp, j * width);
  }
}
