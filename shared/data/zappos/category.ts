/**
 * The category of a UT Zappos50K image is the first folder of its path (Boots, Sandals, Shoes,
 * Slippers): the shoe type that the CSN "class" condition's triplets are drawn from. As a label
 * it gives the class notion retrieval metrics.
 */

export interface CategoryLabels {
  /** Category names, sorted; index = label id. */
  readonly values: string[];
  /** A label id per name; -1 for a path with no folder. */
  readonly labels: Int32Array;
}

/** First folder of each image path, as sorted value names and per-image label ids. */
export function categoryLabels(names: readonly string[]): CategoryLabels {
  const folders = names.map((name) => {
    const slash = name.indexOf("/");
    return slash > 0 ? name.slice(0, slash) : undefined;
  });
  const values = [...new Set(folders.filter((f) => f !== undefined))].sort();
  const ids = new Map(values.map((v, i) => [v, i]));
  const labels = Int32Array.from(folders, (f) => f === undefined ? -1 : ids.get(f)!);
  return { values, labels };
}
