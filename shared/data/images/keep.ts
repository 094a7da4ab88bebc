/**
 * After decoding: the dataset without its unreadable images. Every per-image array (labels,
 * numbers, splits) keeps the decoded images in order, and the user's triplets are renumbered,
 * those that name a dropped image counted and left out.
 */
import type { Split } from "../dataset.ts";
import type { ImageNotion } from "./notions.ts";

export interface KeptImages {
  /** Index in the table of each kept image. */
  readonly keep: readonly number[];
  readonly notions: readonly ImageNotion[];
  readonly judged: ReadonlyMap<number, Int32Array>;
  readonly splitOf: readonly Split[];
  readonly droppedJudged: number;
}

function pick<T extends Int32Array | Float64Array>(values: T, keep: readonly number[], out: T): T {
  keep.forEach((i, k) => out[k] = values[i]!);
  return out;
}

export function keepDecoded(
  count: number,
  bad: ReadonlySet<number>,
  notions: readonly ImageNotion[],
  judged: ReadonlyMap<number, Int32Array>,
  splitOf: readonly Split[],
): KeptImages {
  const keep = Array.from({ length: count }, (_, i) => i).filter((i) => !bad.has(i));
  const remap = new Int32Array(count).fill(-1);
  keep.forEach((i, k) => remap[i] = k);
  const kept = notions.map((n): ImageNotion =>
    n.kind === "categorical"
      ? { ...n, labels: pick(n.labels, keep, new Int32Array(keep.length)) }
      : n.kind === "numeric"
      ? { ...n, numbers: pick(n.numbers, keep, new Float64Array(keep.length)) }
      : n
  );
  let droppedJudged = 0;
  const keptJudged = new Map<number, Int32Array>();
  for (const [c, triples] of judged) {
    const out: number[] = [];
    for (let t = 0; t < triples.length; t += 3) {
      const ids = [remap[triples[t]!]!, remap[triples[t + 1]!]!, remap[triples[t + 2]!]!];
      if (ids.some((i) => i < 0)) droppedJudged++;
      else out.push(...ids);
    }
    keptJudged.set(c, Int32Array.from(out));
  }
  return {
    keep,
    notions: kept,
    judged: keptJudged,
    splitOf: keep.map((i) => splitOf[i]!),
    droppedJudged,
  };
}
