// @ts-check
/**
 * The runs table's filter language: whitespace-separated terms that must all hold. A term
 * `key=value`, `key>number` or `key<number` tests that column (keys as in the header, e.g.
 * `train.lr<0.001`, `test.accuracy>0.8`); any other term is a case-insensitive substring of
 * the row's text.
 */

/**
 * @param {string} query @param {Record<string, string>} values the row's cells by column key
 * @param {string} text the row's visible text
 */
export function rowMatches(query, values, text) {
  const haystack = text.toLowerCase();
  return query.trim().split(/\s+/).filter((t) => t !== "").every((term) => {
    const m = /^([^=<>]+)([=<>])(.*)$/.exec(term);
    const [, key = "", op = "", want = ""] = m ?? [];
    if (!m || !(key in values)) return haystack.includes(term.toLowerCase());
    const have = values[key] ?? "";
    if (op === "=") return have === want || (have !== "" && Number(have) === Number(want));
    const [x, y] = [Number(have), Number(want)];
    if (have === "" || !Number.isFinite(x) || !Number.isFinite(y)) return false;
    return op === ">" ? x > y : x < y;
  });
}
