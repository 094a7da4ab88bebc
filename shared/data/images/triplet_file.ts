/**
 * The user's own triplet judgements for one notion, `<notion>.txt`: one triplet a line in the
 * CSN order `anchor far close` (anchor is nearer close than far). An image is named by its
 * path (as in the label file) or by its row number (0-based, the label file's row order).
 * Fields are tab-separated when the line holds a tab (paths with spaces), else by whitespace.
 * Blank lines and lines starting with # are skipped.
 */

export function parseTripletFile(
  text: string,
  file: string,
  paths: readonly string[],
): Int32Array {
  const byPath = new Map(paths.map((p, i) => [p.normalize("NFC"), i]));
  const out: number[] = [];
  text.replace(/^\uFEFF/, "").split(/\r?\n/).forEach((source, i) => {
    const line = source.trim();
    if (line === "" || line.startsWith("#")) return;
    const fields = line.includes("\t") ? line.split("\t").map((f) => f.trim()) : line.split(/\s+/);
    if (fields.length !== 3) {
      throw new SyntaxError(
        `Cannot read triplet file "${file}": line ${i + 1} has ${fields.length} fields, ` +
          `expected 3 (anchor far close)`,
      );
    }
    const ids = fields.map((field, f) => {
      const id = /^\d+$/.test(field)
        ? Number(field)
        : byPath.get(field.replace(/^\.\//, "").normalize("NFC"));
      if (id === undefined || id >= paths.length) {
        throw new RangeError(
          `Cannot read triplet file "${file}": line ${i + 1}, field ${f + 1} "${field}" is ` +
            (id === undefined
              ? "not a path in the label file"
              : `row ${id}, expected a row below ${paths.length}`),
        );
      }
      return id;
    });
    if (new Set(ids).size !== 3) {
      throw new RangeError(
        `Cannot read triplet file "${file}": line ${i + 1} names one image twice, expected ` +
          `three different images`,
      );
    }
    out.push(...ids);
  });
  if (out.length === 0) {
    throw new RangeError(`Cannot read triplet file "${file}": it holds no triplets`);
  }
  return Int32Array.from(out);
}
