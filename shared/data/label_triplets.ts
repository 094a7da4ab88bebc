/**
 * Seeded triplet sampling from per-image labels: under notion c, anchor and close share c's
 * value and far does not. All three images come from the same split. Counts are spread evenly
 * over the notions; a notion that cannot form a triplet in a split (fewer than two values
 * there, or no value held by two images) gives its share to the others and is reported.
 */
import { type Split, SPLITS, type TripletTable } from "./dataset.ts";
import { Rng } from "../util/rng.ts";

export interface TripletSamplingInput {
  /** Notion names in condition order. */
  readonly notions: readonly string[];
  /** Per notion, a label id per image (-1 = unknown: never used for that notion). */
  readonly labels: Readonly<Record<string, Int32Array>>;
  /** Per image, its split, or undefined to leave it out. */
  readonly splitOf: readonly (Split | undefined)[];
  readonly counts: Readonly<Record<Split, number>>;
  readonly seed: number;
}

export interface SplitTripletReport {
  readonly perNotion: Record<string, number>;
  /** Notions that could not form a single triplet in this split. */
  readonly impossible: string[];
}

export interface SampledTriplets {
  readonly triplets: Record<Split, TripletTable>;
  readonly report: Record<Split, SplitTripletReport>;
}

/** Images of one split under one notion, grouped by value, ready for O(1) draws. */
interface Pool {
  /** Image indices sorted by label (stable). */
  readonly sorted: Int32Array;
  /** For each position in `sorted`: start and size of its value's run. */
  readonly groupStart: Int32Array;
  readonly groupSize: Int32Array;
  /** Positions in `sorted` that can be anchors. */
  readonly anchors: Int32Array;
}

function buildPool(images: readonly number[], labels: Int32Array): Pool {
  const known = images.filter((i) => (labels[i] as number) >= 0);
  known.sort((a, b) => (labels[a] as number) - (labels[b] as number) || a - b);
  const n = known.length;
  const sorted = Int32Array.from(known);
  const groupStart = new Int32Array(n), groupSize = new Int32Array(n);
  for (let s = 0; s < n;) {
    let e = s + 1;
    while (e < n && labels[sorted[e] as number] === labels[sorted[s] as number]) e++;
    groupStart.fill(s, s, e);
    groupSize.fill(e - s, s, e);
    s = e;
  }
  const anchors: number[] = [];
  for (let p = 0; p < n; p++) {
    const size = groupSize[p] as number;
    if (size >= 2 && size < n) anchors.push(p);
  }
  return { sorted, groupStart, groupSize, anchors: Int32Array.from(anchors) };
}

/** Even shares of `total` over the possible notions, the remainder to the first ones. */
function shares(total: number, possible: readonly boolean[]): number[] {
  const k = possible.filter(Boolean).length;
  let extra = k > 0 ? total % k : 0;
  return possible.map((ok) => {
    if (!ok) return 0;
    const n = Math.floor(total / k) + (extra > 0 ? 1 : 0);
    extra--;
    return n;
  });
}

function sampleSplit(
  split: Split,
  images: readonly number[],
  input: TripletSamplingInput,
): { table: TripletTable; report: SplitTripletReport } {
  const total = input.counts[split];
  if (!Number.isInteger(total) || total < 0) {
    throw new RangeError(
      `Cannot sample ${split} triplets: count ${total}, expected an integer >= 0`,
    );
  }
  const pools = input.notions.map((name) => {
    const labels = input.labels[name];
    if (!labels) {
      throw new RangeError(`Cannot sample ${split} triplets: no labels for notion "${name}"`);
    }
    return buildPool(images, labels);
  });
  const possible = pools.map((p) => p.anchors.length > 0);
  if (total > 0 && !possible.some(Boolean)) {
    throw new RangeError(
      `Cannot sample ${total} ${split} triplets: no notion has two values in the ${split} split`,
    );
  }
  const perNotionCount = shares(total, possible);
  const rng = Rng.derive(input.seed, "triplets", split);
  const table = new Int32Array(total * 4);
  let t = 0;
  pools.forEach((pool, c) => {
    const n = pool.sorted.length;
    for (let k = 0; k < (perNotionCount[c] as number); k++) {
      const a = pool.anchors[rng.int(pool.anchors.length)] as number;
      const start = pool.groupStart[a] as number, size = pool.groupSize[a] as number;
      // close: another member of the anchor's run; far: any position outside the run.
      let close = start + rng.int(size - 1);
      if (close >= a) close++;
      let far = rng.int(n - size);
      if (far >= start) far += size;
      table.set([
        pool.sorted[a] as number,
        pool.sorted[far] as number,
        pool.sorted[close] as number,
        c,
      ], 4 * t++);
    }
  });
  shuffleQuads(table, rng);
  const perNotion: Record<string, number> = {};
  input.notions.forEach((name, c) => perNotion[name] = perNotionCount[c] as number);
  const impossible = input.notions.filter((_, c) => !possible[c]);
  return { table, report: { perNotion, impossible } };
}

/** Interleaves the notions so any prefix of the table is balanced too. */
export function shuffleQuads(table: Int32Array, rng: Rng): void {
  for (let i = table.length / 4 - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    for (let f = 0; f < 4; f++) {
      const tmp = table[4 * i + f] as number;
      table[4 * i + f] = table[4 * j + f] as number;
      table[4 * j + f] = tmp;
    }
  }
}

export function sampleTriplets(input: TripletSamplingInput): SampledTriplets {
  const bySplit: Record<Split, number[]> = { train: [], val: [], test: [] };
  input.splitOf.forEach((s, i) => {
    if (s !== undefined) bySplit[s].push(i);
  });
  const triplets = {} as Record<Split, TripletTable>;
  const report = {} as Record<Split, SplitTripletReport>;
  for (const split of SPLITS) {
    const r = sampleSplit(split, bySplit[split], input);
    triplets[split] = r.table;
    report[split] = r.report;
  }
  return { triplets, report };
}
