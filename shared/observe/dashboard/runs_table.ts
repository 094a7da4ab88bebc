/**
 * The dashboard's runs table (params x metrics, one row per run) and the side-by-side params
 * of compared runs. Cells carry `data-value` (numbers as numbers) so /static/runs_table.js
 * can sort and filter without reparsing text; params equal in every run are marked
 * `constant` and hidden until asked for, so the columns that tell runs apart stand out.
 */
import { escapeHtml, formatNumber } from "../../charts/html_escape.js";
import { testMetrics } from "../run_summary.ts";
import type { RunData } from "./run_overview.ts";

type Cell = number | string | boolean | undefined;

/** Nested params as dotted keys ("train.lr"); arrays and other leaves as JSON. */
export function flattenParams(value: unknown, prefix = "", out: Record<string, Cell> = {}) {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    for (const [key, child] of Object.entries(value)) {
      flattenParams(child, prefix ? `${prefix}.${key}` : key, out);
    }
  } else if (prefix !== "") {
    const leaf = typeof value === "number" || typeof value === "string" ||
        typeof value === "boolean"
      ? value
      : JSON.stringify(value);
    out[prefix] = leaf;
  }
  return out;
}

/** Test accuracy overall and per notion, and the best validation accuracy. */
export function runMetrics(run: RunData): Record<string, number | undefined> {
  const test = testMetrics(run.record, run.records);
  const out: Record<string, number | undefined> = {};
  if (typeof test?.accuracy === "number") out["test.accuracy"] = test.accuracy;
  const per = test?.per_condition;
  if (per && typeof per === "object") {
    for (const [notion, v] of Object.entries(per)) {
      if (typeof v === "number") out[`test.accuracy.${notion}`] = v;
    }
  }
  const val = run.records.filter((r) => r.kind === "val" && typeof r.accuracy === "number");
  if (val.length > 0) out["val.best_accuracy"] = Math.max(...val.map((r) => r.accuracy!));
  return out;
}

function cell(value: Cell, className = ""): string {
  const cls = className ? ` class="${className}"` : "";
  if (value === undefined) return `<td${cls} data-value="">–</td>`;
  if (typeof value === "number") {
    return `<td${cls} data-value="${value}">${escapeHtml(formatNumber(value))}</td>`;
  }
  const text = String(value);
  const textCls = ` class="text${className ? ` ${className}` : ""}"`;
  return `<td${textCls} data-value="${escapeHtml(text)}">${escapeHtml(text)}</td>`;
}

function unionKeys(rows: Record<string, unknown>[]): string[] {
  return [...new Set(rows.flatMap((r) => Object.keys(r)))].sort();
}

export function runsTableHtml(runs: RunData[]): string {
  const params = runs.map((r) => flattenParams(r.params));
  const metrics = runs.map(runMetrics);
  const paramKeys = unionKeys(params);
  const metricKeys = unionKeys(metrics);
  const constant = new Set(
    paramKeys.filter((k) =>
      runs.length > 1 && new Set(params.map((p) => JSON.stringify(p[k]))).size === 1
    ),
  );
  const head = (key: string, kind: string) =>
    `<th class="${kind}${constant.has(key) ? " constant" : ""}" data-key="${
      escapeHtml(key)
    }"><button type="button" class="sort">${escapeHtml(key)}</button></th>`;
  const header = [
    `<th></th>`,
    head("run", "text"),
    head("pipeline", "text"),
    head("updated", "text"),
    ...metricKeys.map((k) => head(k, "metric")),
    ...paramKeys.map((k) => head(k, "param")),
    `<th>problems</th>`,
  ].join("");
  const rows = runs.map((run, i) => {
    const name = escapeHtml(run.name);
    return `<tr data-run="${name}"><td class="text"><input type="checkbox" name="runs" value="${name}" aria-label="compare ${name}"></td><th scope="row" data-value="${name}"><a href="/run/${
      encodeURIComponent(run.name)
    }">${name}</a></th>${cell(run.record?.pipeline)}${cell(run.updated?.toISOString())}${
      metricKeys.map((k) => cell(metrics[i]![k])).join("")
    }${paramKeys.map((k) => cell(params[i]![k], constant.has(k) ? "constant" : "")).join("")}${
      cell(run.problems.join("; ") || undefined)
    }</tr>`;
  });
  return `<p class="controls"><label>Filter <input type="search" id="runs-filter" placeholder="text, key=value, key>number" size="40"></label>
<label><input type="checkbox" id="runs-all-params"> show params equal in every run (${constant.size})</label>
<span id="runs-shown" class="meta">${runs.length} of ${runs.length} runs</span></p>
<form action="/compare" method="get"><table data-table="runs" class="runs"><thead><tr>${header}</tr></thead><tbody>${
    rows.join("")
  }</tbody></table><p><button type="submit">Compare selected runs</button></p></form>`;
}

/** The params of compared runs side by side; rows whose values differ are marked. */
export function paramsCompareHtml(runs: RunData[]): string {
  const params = runs.map((r) => flattenParams(r.params));
  const keys = unionKeys(params);
  if (keys.length === 0) return `<p class="empty">No params.json in these runs.</p>`;
  const rows = keys.map((key) => {
    const values = params.map((p) => p[key]);
    const differs = new Set(values.map((v) => JSON.stringify(v))).size > 1;
    return `<tr data-key="${escapeHtml(key)}"${differs ? ` class="differs"` : ""}><th scope="row">${
      escapeHtml(key)
    }</th>${values.map((v) => cell(v)).join("")}</tr>`;
  });
  return `<table data-table="params"><thead><tr><th>param</th>${
    runs.map((r) => `<th>${escapeHtml(r.name)}</th>`).join("")
  }</tr></thead><tbody>${rows.join("")}</tbody></table>`;
}
