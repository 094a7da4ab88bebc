/**
 * Range checks shared by the decoded-artefact reader and the shard reader: triplet quads
 * index real images and real conditions; labels index their notion's values.
 */

/** Notion names become file names (labels/<name>.i32), so keep them plain. */
const NOTION_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

export function checkNotionName(name: string, file: string): void {
  if (!NOTION_NAME.test(name)) {
    throw new SyntaxError(
      `Cannot use notion name ${JSON.stringify(name)} in "${file}": expected letters, digits, ` +
        `"_", "-" or "." (it names a labels file)`,
    );
  }
}

/** Throws naming `file` and the first bad quad when a triplet is out of range. */
export function checkTriplets(
  table: Int32Array,
  imageCount: number,
  notionCount: number,
  file: string,
): void {
  if (table.length % 4 !== 0) {
    throw new RangeError(
      `Cannot use triplet file "${file}": ${table.length} values is not a whole number of ` +
        `(anchor, far, close, condition) quads`,
    );
  }
  const fields = ["anchor", "far", "close"] as const;
  for (let t = 0; t < table.length; t += 4) {
    for (let k = 0; k < 3; k++) {
      const v = table[t + k]!;
      if (v < 0 || v >= imageCount) {
        throw new RangeError(
          `Cannot use triplet file "${file}": triplet ${t / 4} field ${fields[k]} = ${v}, ` +
            `expected an image index in [0, ${imageCount})`,
        );
      }
    }
    const c = table[t + 3]!;
    if (c < 0 || c >= notionCount) {
      throw new RangeError(
        `Cannot use triplet file "${file}": triplet ${t / 4} field condition = ${c}, ` +
          `expected a condition id in [0, ${notionCount})`,
      );
    }
  }
}

/** Labels are -1 (unknown) or an index into `valueCount` names (any id >= -1 when unnamed). */
export function checkLabels(labels: Int32Array, valueCount: number, file: string): void {
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i]!;
    if (v < -1 || (valueCount > 0 && v >= valueCount)) {
      const expected = valueCount > 0 ? `-1 or an id in [0, ${valueCount})` : `-1 or an id >= 0`;
      throw new RangeError(
        `Cannot use labels file "${file}": image ${i} has label ${v}, expected ${expected}`,
      );
    }
  }
}
