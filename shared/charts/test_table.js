// @ts-check
/**
 * The test metrics as tables: triplet accuracy overall and per notion, with the retrieval
 * metrics of each notion beside it; and a comparison of several runs' test accuracies.
 * The shape of `retrieval` is taken loosely: `{notion: {metric: number | {k: number}}}` gives
 * one row per notion; numbers directly under `retrieval` belong to the overall row.
 */
import { escapeHtml, formatNumber } from "./html_escape.js";

/**
 * @typedef {{ accuracy?: unknown, per_condition?: unknown, retrieval?: unknown,
 *   [key: string]: unknown }} TestMetrics
 * @typedef {import("../artefacts/metrics_log.ts").MetricsRecord} MetricsRecord
 */

/** @param {unknown} v @returns {v is Record<string, unknown>} */
function isObject(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/**
 * Numeric leaves of `value` keyed by dotted path (recall_at_k.1, ...).
 * @param {unknown} value @param {string} prefix @param {Map<string, number>} out
 */
function leaves(value, prefix, out) {
  if (typeof value === "number") out.set(prefix, value);
  else if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) leaves(v, prefix ? `${prefix}.${k}` : k, out);
  }
  return out;
}

/** The test metrics of the last `test` line, in record.json's shape. @param {MetricsRecord[]} records */
export function testMetricsFromRecords(records) {
  const last = records.filter((r) => r.kind === "test").at(-1);
  if (!last) return undefined;
  /** @type {TestMetrics} */
  const metrics = { ...(last.extra ?? {}) };
  if (last.accuracy !== undefined) metrics.accuracy = last.accuracy;
  if (last.per_condition !== undefined) metrics.per_condition = last.per_condition;
  return metrics;
}

/**
 * Rows (overall, then each notion) x columns (accuracy, then retrieval metrics).
 * @param {TestMetrics} metrics
 */
export function testTableModel(metrics) {
  /** @type {Map<string, Map<string, number>>} */
  const rows = new Map([["overall", new Map()]]);
  /** @param {string} name */
  const row = (name) => {
    const found = rows.get(name);
    if (found) return found;
    const created = new Map();
    rows.set(name, created);
    return created;
  };
  if (typeof metrics.accuracy === "number") row("overall").set("accuracy", metrics.accuracy);
  if (isObject(metrics.per_condition)) {
    for (const [notion, value] of Object.entries(metrics.per_condition)) {
      if (typeof value === "number") row(notion).set("accuracy", value);
    }
  }
  if (isObject(metrics.retrieval)) {
    for (const [key, value] of Object.entries(metrics.retrieval)) {
      const target = isObject(value) ? row(key) : row("overall");
      for (const [metric, v] of leaves(value, isObject(value) ? "" : key, new Map())) {
        target.set(metric, v);
      }
    }
  }
  const columns = ["accuracy", ...new Set([...rows.values()].flatMap((m) => [...m.keys()]))];
  /** Other top-level numbers (triplet counts, seconds) shown under the table. */
  const other = [...leaves(
    Object.fromEntries(
      Object.entries(metrics).filter(([k]) =>
        !["accuracy", "per_condition", "retrieval"].includes(k)
      ),
    ),
    "",
    new Map(),
  )];
  return { columns: [...new Set(columns)], rows: [...rows], other };
}

/** @param {TestMetrics | undefined} metrics */
export function testTableHtml(metrics) {
  if (!metrics) return `<p class="empty">No test metrics yet.</p>`;
  const model = testTableModel(metrics);
  const head = model.columns.map((c) =>
    `<th>${escapeHtml(c === "accuracy" ? "triplet accuracy" : c)}</th>`
  ).join("");
  const body = model.rows
    .map(([name, values]) =>
      `<tr><th scope="row">${escapeHtml(name)}</th>${
        model.columns.map((c) => `<td>${formatNumber(values.get(c))}</td>`).join("")
      }</tr>`
    )
    .join("");
  const other = model.other.length === 0
    ? ""
    : `<p class="facts">${
      model.other.map(([k, v]) => `${escapeHtml(k)}: ${formatNumber(v)}`).join(" · ")
    }</p>`;
  return `<table class="metrics" data-table="test"><thead><tr><th>notion</th>${head}</tr></thead><tbody>${body}</tbody></table>${other}`;
}

/**
 * Test accuracy of several runs side by side: one row per run, overall then each notion.
 * @param {Array<{ name: string, metrics: TestMetrics | undefined }>} runs
 */
export function compareTestTableHtml(runs) {
  const models = runs.map((run) => ({
    name: run.name,
    model: run.metrics ? testTableModel(run.metrics) : undefined,
  }));
  const notions = [...new Set(models.flatMap((m) => m.model?.rows.map(([name]) => name) ?? []))];
  const head = notions.map((n) => `<th>${escapeHtml(n)}</th>`).join("");
  const body = models
    .map(({ name, model }) => {
      const byNotion = new Map(model?.rows ?? []);
      return `<tr><th scope="row">${escapeHtml(name)}</th>${
        notions.map((n) => `<td>${formatNumber(byNotion.get(n)?.get("accuracy"))}</td>`).join("")
      }</tr>`;
    })
    .join("");
  return `<table class="metrics" data-table="compare"><thead><tr><th>run</th>${head}</tr></thead><tbody>${body}</tbody></table>`;
}
