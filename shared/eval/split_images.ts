/** Which images and triplets of a split an evaluation uses (pure; no TensorFlow.js). */
import type { Split } from "../data/dataset.ts";
import type { ShardSet } from "../data/shards/reader.ts";

/** Shard condition ids -> the checkpoint's condition ids (-1: not trained on). */
export function conditionMap(shards: ShardSet, names: readonly string[]): Int32Array {
  const notions = shards.notions.map((n) => n.name);
  for (const name of names) {
    if (!notions.includes(name)) {
      throw new TypeError(
        `Cannot map conditions to notions: the model was trained on notion "${name}", which ` +
          `these shards lack (they have: ${
            notions.join(", ")
          }); a checkpoint from another dataset?`,
      );
    }
  }
  return Int32Array.from(notions, (name) => names.indexOf(name));
}

export interface SplitImages {
  /** Image ids (records) used by the split, ascending. */
  readonly ids: Int32Array;
  /** The split's triplets re-indexed into `ids`, conditions mapped; untrained ones dropped. */
  readonly triplets: Int32Array;
}

export function splitImages(shards: ShardSet, split: Split, map: Int32Array): SplitImages {
  const table = shards.triplets[split];
  const used = new Set<number>();
  const kept: number[] = [];
  for (let t = 0; t < table.length; t += 4) {
    const c = map[table[t + 3]!]!;
    if (c < 0) continue;
    for (let k = 0; k < 3; k++) used.add(table[t + k]!);
    kept.push(t);
  }
  const ids = Int32Array.from([...used].sort((a, b) => a - b));
  const local = new Map<number, number>();
  ids.forEach((id, i) => local.set(id, i));
  const triplets = new Int32Array(kept.length * 4);
  kept.forEach((t, i) => {
    for (let k = 0; k < 3; k++) triplets[i * 4 + k] = local.get(table[t + k]!)!;
    triplets[i * 4 + 3] = map[table[t + 3]!]!;
  });
  return { ids, triplets };
}
