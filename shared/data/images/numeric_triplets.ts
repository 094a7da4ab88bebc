/**
 * Relative triplets from a number per image (heel height, price): anchor, far and close from
 * the same split, with |anchor - close| + min_gap <= |anchor - far| and the two distances
 * unequal. Seeded; draws that miss are retried up to a bound and the shortfall is reported.
 */
import type { Rng } from "../../util/rng.ts";

export interface NumericSample {
  /** Flat triples: anchor, far, close (image indices). */
  readonly triples: Int32Array;
  /** Triples asked for but not found within the draw bound. */
  readonly short: number;
}

const DRAWS_PER_TRIPLET = 50;

/** Whether `images` (with known numbers) can form one triplet at all. */
export function canFormNumeric(
  images: readonly number[],
  numbers: Float64Array,
  minGap: number,
): boolean {
  const values = images.map((i) => numbers[i]!).filter((v) => !Number.isNaN(v));
  if (values.length < 3) return false;
  const v = [...values].sort((a, b) => a - b);
  const lo = v[0]!, hi = v[v.length - 1]!;
  // The widest case: anchor at an end, close beside it, far at the other end.
  const gap = Math.max(hi - v[1]!, v[v.length - 2]! - lo);
  return gap > 0 && gap >= minGap;
}

export function sampleNumeric(
  images: readonly number[],
  numbers: Float64Array,
  count: number,
  minGap: number,
  rng: Rng,
): NumericSample {
  const known = images.filter((i) => !Number.isNaN(numbers[i]!));
  const triples = new Int32Array(count * 3);
  let n = 0;
  if (known.length >= 3) {
    for (let draw = 0; n < count && draw < count * DRAWS_PER_TRIPLET; draw++) {
      const a = known[rng.int(known.length)]!;
      const x = known[rng.int(known.length)]!;
      const y = known[rng.int(known.length)]!;
      if (a === x || a === y || x === y) continue;
      const dx = Math.abs(numbers[a]! - numbers[x]!), dy = Math.abs(numbers[a]! - numbers[y]!);
      if (dx === dy || Math.abs(dx - dy) < minGap) continue;
      const [close, far] = dx < dy ? [x, y] : [y, x];
      triples.set([a, far, close], 3 * n++);
    }
  }
  return { triples: triples.slice(0, 3 * n), short: count - n };
}
