/**
 * Splits by image: each image in exactly one of train / val / test, taken from the label
 * file's split column when it has one, else drawn (seeded) and stratified by a notion: its
 * images are ordered by value, shuffled within each value, and dealt out in proportion, so
 * every value is spread over the splits as evenly as the counts allow.
 */
import type { Split } from "../dataset.ts";
import { Rng } from "../../util/rng.ts";
import type { LabelTable } from "./table.ts";

const NAMES: Readonly<Record<string, Split>> = {
  train: "train",
  val: "val",
  valid: "val",
  validation: "val",
  test: "test",
};

/** The split column's value per row; an unknown or empty value names its line. */
export function splitsFromColumn(table: LabelTable, column: number): Split[] {
  return table.rows.map((row) => {
    const cell = row.cells[column]!;
    const split = NAMES[cell.toLowerCase()];
    if (split === undefined) {
      throw new RangeError(
        `Cannot split images: label file "${table.file}", line ${row.line}, ` +
          `${table.columnLabel(column)} holds "${cell}", expected train, val or test`,
      );
    }
    return split;
  });
}

export interface DrawOptions {
  readonly valFraction: number;
  readonly testFraction: number;
  readonly seed: number;
}

/**
 * A drawn split per image. `strata` gives each image its group (-1 = none known); images are
 * dealt in group order, so each group's share of val and test follows the fractions.
 */
export function drawSplits(strata: Int32Array, opts: DrawOptions): Split[] {
  const { valFraction: vf, testFraction: tf } = opts;
  if (!(vf >= 0 && tf >= 0 && vf + tf < 1)) {
    throw new RangeError(
      `Cannot split images: val_fraction ${vf} + test_fraction ${tf}, expected fractions >= 0 ` +
        `that leave some images to train`,
    );
  }
  const rng = Rng.derive(opts.seed, "images", "split");
  const key = Float64Array.from(strata, () => rng.next());
  const order = Array.from(strata, (_, i) => i)
    .sort((a, b) => strata[a]! - strata[b]! || key[a]! - key[b]!);
  const out = new Array<Split>(strata.length);
  const held = vf + tf;
  let heldOut = 0;
  order.forEach((image, k) => {
    // Positions where floor(k * held) steps are held out; of those, a tf / held share is test.
    if (steps(k, held)) {
      const toTest = steps(heldOut, tf / held);
      out[image] = toTest ? "test" : "val";
      heldOut++;
    } else {
      out[image] = "train";
    }
  });
  return out;
}

/** Whether floor(x * rate) steps up from k to k + 1 (with slack for 0.1 + 0.2). */
function steps(k: number, rate: number): boolean {
  return Math.floor((k + 1) * rate + 1e-9) > Math.floor(k * rate + 1e-9);
}
