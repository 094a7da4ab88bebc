/**
 * Seeded epoch order and flips. Both are pure functions of (seed, epoch, position), so a
 * run resumed at any batch sees exactly the order and flips of an uninterrupted one.
 */
import { Rng } from "../../util/rng.ts";

/** Positions (into `table`'s quads) of the triplets whose condition is in `conditions`. */
export function selectTriplets(table: Int32Array, conditions?: readonly number[]): Int32Array {
  const n = table.length / 4;
  if (conditions === undefined) return Int32Array.from({ length: n }, (_, i) => i);
  const keep = new Set(conditions);
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (keep.has(table[i * 4 + 3]!)) out.push(i);
  return Int32Array.from(out);
}

/** A Fisher-Yates shuffle of `items` (copied) seeded by (seed, epoch). */
export function epochOrder(items: Int32Array, seed: number, epoch: number): Int32Array {
  const order = items.slice();
  const rng = Rng.derive(seed, "shard-order", epoch);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}

/** Three flip bits (anchor, far, close) for the triplet at `position` of `epoch`. */
export function flipBits(seed: number, epoch: number, position: number): number {
  return Rng.derive(seed, "shard-flip", epoch, position).nextUint32() & 7;
}

/**
 * The same `limit` triplets every epoch (the reference samples num_traintriplets once):
 * a seeded subset of `items`, kept in table order; all of them when limit is absent or larger.
 */
export function fixedSubset(items: Int32Array, seed: number, limit?: number): Int32Array {
  if (limit === undefined || limit >= items.length) return items;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(
      `Cannot take a fixed subset of triplets: limit = ${limit}, expected a positive integer`,
    );
  }
  return epochOrder(items, seed, -1).subarray(0, limit).sort();
}
