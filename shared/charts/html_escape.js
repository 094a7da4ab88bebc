// @ts-check
/**
 * Escaping for text placed in HTML or SVG (element content and quoted attributes). Plain JS so
 * the same file runs in Deno (static report) and, served as is, in the dashboard's browser page.
 */

/** @type {Record<string, string>} */
const ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** @param {unknown} value */
export function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/**
 * A number for a table cell or a tooltip: 3 decimals in [0.001, 1e5), else 3 significant
 * digits in exponent form; non-numbers as a dash.
 * @param {unknown} value
 */
export function formatNumber(value) {
  if (typeof value !== "number") return "–";
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  const abs = Math.abs(value);
  return abs !== 0 && (abs < 1e-3 || abs >= 1e5) ? value.toExponential(2) : value.toFixed(3);
}
