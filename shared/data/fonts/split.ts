/**
 * Split font files into train/val/test within each family, so test fonts are unseen files
 * of families the model has met. Single-file families go to train.
 */
import type { Split } from "../dataset.ts";
import { Rng } from "../../util/rng.ts";

export interface SplitFractions {
  readonly valFraction: number;
  readonly testFraction: number;
}

export const DEFAULT_FRACTIONS: SplitFractions = { valFraction: 0.1, testFraction: 0.1 };

/**
 * How many of a family's n files go to val and test. A positive fraction gives at least one
 * file (so every family with 3+ files appears in every split), and at least one file always
 * stays in train; when the family is too small, val gives way first (n = 2: train + test).
 */
export function splitCounts(n: number, f: SplitFractions): { val: number; test: number } {
  if (n <= 1) return { val: 0, test: 0 };
  let test = f.testFraction > 0 ? Math.max(1, Math.round(n * f.testFraction)) : 0;
  let val = f.valFraction > 0 ? Math.max(1, Math.round(n * f.valFraction)) : 0;
  while (val + test > n - 1) {
    if (val > 0) val--;
    else test--;
  }
  return { val, test };
}

export function checkFractions(f: SplitFractions): void {
  for (const [name, v] of Object.entries(f)) {
    if (!(v >= 0 && v < 1)) {
      throw new RangeError(`Cannot split fonts: ${name} = ${v}, expected 0 <= x < 1`);
    }
  }
  if (f.valFraction + f.testFraction >= 1) {
    throw new RangeError(
      `Cannot split fonts: valFraction + testFraction = ${
        f.valFraction + f.testFraction
      }, expected < 1`,
    );
  }
}

/**
 * Assigns each file a split. `families` maps family name to its files; the result maps file
 * to split. Seeded: families are visited in sorted order, each with its own shuffle.
 */
export function splitFontFiles(
  families: ReadonlyMap<string, readonly string[]>,
  fractions: SplitFractions,
  seed: number,
): Map<string, Split> {
  checkFractions(fractions);
  const result = new Map<string, Split>();
  for (const family of [...families.keys()].sort()) {
    const files = [...(families.get(family) ?? [])].sort();
    const { val, test } = splitCounts(files.length, fractions);
    Rng.derive(seed, "fonts/split", family).shuffle(files);
    files.forEach((file, i) => {
      if (result.has(file)) {
        throw new RangeError(`Cannot split fonts: font file "${file}" is listed twice`);
      }
      result.set(file, i < test ? "test" : i < test + val ? "val" : "train");
    });
  }
  return result;
}
