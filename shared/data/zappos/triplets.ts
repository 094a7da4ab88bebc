/** Parses and validates a CSN triplet list: one `anchor far close` line per triplet. */

/**
 * Returns the triplets as flat (anchor, far, close) triples. Every line is checked: exactly
 * three fields, each a non-negative integer below `imageCount`, anchor != close. Blank lines
 * are skipped. Errors name `file` and the 1-based line.
 */
export function parseTripletList(text: string, file: string, imageCount: number): Int32Array {
  let lines = 1;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) lines++;
  const out = new Int32Array(lines * 3);
  let n = 0;
  let start = 0;
  for (let lineNo = 1; start <= text.length; lineNo++) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end).trim();
    start = end + 1;
    if (line === "") continue;
    const where = `Cannot parse triplet file "${file}": line ${lineNo}`;
    const fields = line.split(/\s+/);
    if (fields.length !== 3) {
      throw new SyntaxError(
        `${where} has ${fields.length} fields, expected 3 (anchor far close)`,
      );
    }
    for (let f = 0; f < 3; f++) {
      const field = fields[f]!;
      if (!/^\d+$/.test(field)) {
        throw new SyntaxError(
          `${where}: field ${f + 1} is "${field}", expected a non-negative integer`,
        );
      }
      const index = Number(field);
      if (index >= imageCount) {
        throw new RangeError(
          `${where}: index ${index} is out of range, filenames.json lists ${imageCount} ` +
            `images (0 to ${imageCount - 1})`,
        );
      }
      out[n * 3 + f] = index;
    }
    if (out[n * 3] === out[n * 3 + 2]) {
      throw new RangeError(`${where}: anchor and close are the same image (${out[n * 3]})`);
    }
    n++;
  }
  return out.slice(0, n * 3);
}
