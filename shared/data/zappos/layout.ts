/** Names fixed by the UT Zappos50k and CSN triplet archives. */
import type { Split } from "../dataset.ts";

/** Conditions in the reference's id order: class=0, closure=1, gender=2, heel=3. */
export const ZAPPOS_CONDITIONS = ["class", "closure", "gender", "heel"] as const;
export type ZapposCondition = (typeof ZAPPOS_CONDITIONS)[number];

/** Top folder of ut-zap50k-images.zip; filenames.json paths are relative to it. */
export const IMAGES_ROOT = "ut-zap50k-images";
export const FILENAMES_FILE = "filenames.json";
export const TRIPLET_DIR = "tripletlists";
/** Default archive names, used when sources.json is absent. */
export const DEFAULT_IMAGES_ARCHIVE = "ut-zap50k-images.zip";
export const DEFAULT_TRIPLETS_ARCHIVE = "csn_zappos_triplets.zip";

/** e.g. `heel_tripletlist_val.txt`. */
export function tripletFileName(condition: ZapposCondition, split: Split): string {
  return `${condition}_tripletlist_${split}.txt`;
}

/** Checks a conditions list: non-empty, known names, no repeats; returns them in id order. */
export function checkConditions(conditions: readonly string[]): ZapposCondition[] {
  if (conditions.length === 0) {
    throw new RangeError(
      `Cannot use zappos conditions: expected at least one of ${ZAPPOS_CONDITIONS}`,
    );
  }
  const seen = new Set<string>();
  for (const condition of conditions) {
    if (!(ZAPPOS_CONDITIONS as readonly string[]).includes(condition)) {
      throw new RangeError(
        `Cannot use zappos conditions: unknown condition "${condition}", expected some of ` +
          ZAPPOS_CONDITIONS.join(", "),
      );
    }
    if (seen.has(condition)) {
      throw new RangeError(`Cannot use zappos conditions: "${condition}" is listed twice`);
    }
    seen.add(condition);
  }
  return ZAPPOS_CONDITIONS.filter((c) => seen.has(c));
}
