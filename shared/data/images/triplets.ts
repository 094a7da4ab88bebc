/**
 * The images dataset's triplets per split: each split's count shared evenly over the notions;
 * categorical notions through the label sampler (anchor and close share the value), numeric
 * ones by relative distance, and notions with a user triplet file take that file's triplets
 * whose three images lie in the split, instead of sampled ones. One shuffle interleaves all.
 */
import { type Split, SPLITS, type TripletTable } from "../dataset.ts";
import { sampleTriplets, shuffleQuads } from "../label_triplets.ts";
import { Rng } from "../../util/rng.ts";
import type { ImageNotion } from "./notions.ts";
import { canFormNumeric, sampleNumeric } from "./numeric_triplets.ts";

export interface ImageTripletInput {
  readonly notions: readonly ImageNotion[];
  /** Per notion index, the user's triples (anchor, far, close), replacing sampling. */
  readonly judged: ReadonlyMap<number, Int32Array>;
  readonly splitOf: readonly (Split | undefined)[];
  readonly counts: Readonly<Record<Split, number>>;
  readonly minGap: number;
  readonly seed: number;
}

export interface ImageTriplets {
  readonly triplets: Record<Split, TripletTable>;
  /** Per split and notion, the triplets made. */
  readonly perNotion: Record<Split, Record<string, number>>;
  /** Per split, numeric triplets asked for but not found. */
  readonly short: Record<Split, Record<string, number>>;
}

function imagesOf(splitOf: readonly (Split | undefined)[], split: Split): number[] {
  const out: number[] = [];
  splitOf.forEach((s, i) => s === split && out.push(i));
  return out;
}

/** Even shares of `total` over `k` notions, the remainder to the first ones. */
function shares(total: number, k: number): number[] {
  return Array.from({ length: k }, (_, c) => Math.floor(total / k) + (c < total % k ? 1 : 0));
}

/**
 * Throws when a notion cannot form one triplet in a split that is asked for triplets: every
 * image of the split shares one value, or no value is held by two of its images.
 */
export function checkLearnable(
  notions: readonly ImageNotion[],
  splitOf: readonly (Split | undefined)[],
  counts: Readonly<Record<Split, number>>,
  minGap: number,
  where: string,
): void {
  for (const split of SPLITS) {
    if (counts[split] === 0) continue;
    const images = imagesOf(splitOf, split);
    for (const notion of notions) {
      const at = `Cannot use condition "${notion.name}": ${where}, in the ${split} split ` +
        `(${images.length} images)`;
      if (notion.kind === "categorical") {
        const sizes = new Map<number, number>();
        for (const i of images) {
          const label = notion.labels[i]!;
          if (label >= 0) sizes.set(label, (sizes.get(label) ?? 0) + 1);
        }
        if (sizes.size < 2) {
          throw new RangeError(
            `${at} the column holds ` +
              (sizes.size === 0
                ? "no value"
                : `one value ("${notion.values[[...sizes.keys()][0]!]}")`) +
              `, expected two or more (give a split column, or other val/test fractions)`,
          );
        }
        if (![...sizes.values()].some((n) => n >= 2)) {
          throw new RangeError(
            `${at} no value is held by two images, expected one at least (anchor and close ` +
              `share a value)`,
          );
        }
      } else if (notion.kind === "numeric" && !canFormNumeric(images, notion.numbers, minGap)) {
        throw new RangeError(
          `${at} the numbers cannot form a triplet with min_gap ${minGap}, expected three ` +
            `images or more whose values differ by at least that`,
        );
      }
    }
  }
}

export function sampleImageTriplets(input: ImageTripletInput): ImageTriplets {
  const { notions } = input;
  const categorical = notions.flatMap((n, c) =>
    n.kind === "categorical" && !input.judged.has(c) ? [c] : []
  );
  const triplets = {} as Record<Split, TripletTable>;
  const perNotion = {} as Record<Split, Record<string, number>>;
  const short = {} as Record<Split, Record<string, number>>;
  for (const split of SPLITS) {
    const images = imagesOf(input.splitOf, split);
    const inSplit = new Set(images);
    const share = shares(input.counts[split], notions.length);
    const parts: Int32Array[] = [];
    perNotion[split] = {};
    short[split] = {};
    // Categorical notions in one call: the sampler spreads its count evenly over them.
    if (categorical.length > 0) {
      const sampled = sampleTriplets({
        notions: categorical.map((c) => notions[c]!.name),
        labels: Object.fromEntries(categorical.map((c) => {
          const n = notions[c]!;
          return [n.name, n.kind === "categorical" ? n.labels : new Int32Array(0)];
        })),
        splitOf: input.splitOf.map((s) => s === split ? s : undefined),
        counts: {
          train: 0,
          val: 0,
          test: 0,
          [split]: categorical.reduce((t, c) => t + share[c]!, 0),
        },
        seed: input.seed,
      });
      const table = sampled.triplets[split];
      for (let q = 3; q < table.length; q += 4) table[q] = categorical[table[q]!]!;
      parts.push(table);
      Object.assign(perNotion[split], sampled.report[split].perNotion);
    }
    notions.forEach((notion, c) => {
      const judged = input.judged.get(c);
      let triples: Int32Array | undefined;
      if (judged !== undefined) {
        const kept: number[] = [];
        for (let t = 0; t < judged.length; t += 3) {
          const a = judged[t]!, f = judged[t + 1]!, k = judged[t + 2]!;
          if (inSplit.has(a) && inSplit.has(f) && inSplit.has(k)) kept.push(a, f, k);
        }
        triples = Int32Array.from(kept);
      } else if (notion.kind === "numeric") {
        const rng = Rng.derive(input.seed, "images", "numeric", split, notion.name);
        const sample = sampleNumeric(images, notion.numbers, share[c]!, input.minGap, rng);
        triples = sample.triples;
        if (sample.short > 0) short[split]![notion.name] = sample.short;
      }
      if (triples === undefined) return;
      const quads = new Int32Array((triples.length / 3) * 4);
      for (let t = 0; t < triples.length / 3; t++) {
        quads.set([triples[3 * t]!, triples[3 * t + 1]!, triples[3 * t + 2]!, c], 4 * t);
      }
      parts.push(quads);
      perNotion[split]![notion.name] = triples.length / 3;
    });
    const all = new Int32Array(parts.reduce((t, p) => t + p.length, 0));
    let offset = 0;
    for (const part of parts) {
      all.set(part, offset);
      offset += part.length;
    }
    shuffleQuads(all, Rng.derive(input.seed, "images", "shuffle", split));
    triplets[split] = all;
  }
  return { triplets, perNotion, short };
}
