/**
 * The static report of a run: one self-contained HTML file (inline CSS and SVG, no scripts,
 * no network) with the training curves, mask heat maps, test metrics, stages and params.
 */
import { chartsHtml, runChartSpecs } from "../charts/run_charts.js";
import { escapeHtml, formatNumber } from "../charts/html_escape.js";
import { testTableHtml } from "../charts/test_table.js";
import type { MetricsRecord } from "../artefacts/metrics_log.ts";
import { PAGE_CSS } from "./page_style.ts";
import { type RunSummary, testMetrics } from "./run_summary.ts";

export interface ReportInput {
  name: string;
  records: readonly MetricsRecord[];
  /** runs/NAME/record.json, read with `parseRunSummary`. */
  record?: RunSummary;
  /** runs/NAME/params.json as parsed JSON. */
  params?: unknown;
  /** When the report was made (default: now). */
  generated?: Date;
}

export function renderReport(run: ReportInput): string {
  const records = [...run.records];
  const last = records.at(-1);
  const meta = [
    run.record?.pipeline ? `pipeline ${escapeHtml(run.record.pipeline)}` : undefined,
    `${records.length} metrics lines`,
    last ? `last line ${escapeHtml(last.time)}` : undefined,
    `generated ${(run.generated ?? new Date()).toISOString()}`,
  ].filter(Boolean).join(" · ");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>csn run ${escapeHtml(run.name)}</title>
<style>${PAGE_CSS}</style>
</head>
<body>
<header><h1>Run ${escapeHtml(run.name)}</h1><p class="meta">${meta}</p></header>
<section><h2>Test metrics</h2>
${testTableHtml(testMetrics(run.record, records))}
</section>
<section><h2>Training and validation</h2>
<div class="grid">
${chartsHtml(runChartSpecs(records))}
</div>
</section>
<section><h2>Stages</h2>
${stagesTableHtml(run.record)}
</section>
<section><h2>Params</h2>
${paramsHtml(run.params)}
</section>
</body>
</html>
`;
}

export function stagesTableHtml(record: RunSummary | undefined): string {
  const stages = Object.entries(record?.stages ?? {});
  if (stages.length === 0) return `<p class="empty">No stage record (record.json) yet.</p>`;
  const rows = stages.map(([name, stage]) => {
    const outputs = Object.entries(stage.outputs ?? {})
      .map(([out, id]) => `${escapeHtml(out)} <code>${escapeHtml(id.slice(0, 12))}</code>`)
      .join(", ");
    return `<tr><th scope="row">${escapeHtml(name)}</th><td class="text">${
      escapeHtml(stage.uses ?? name)
    }</td><td>${formatNumber(stage.seconds)}</td><td class="text">${outputs}</td><td class="text">${
      escapeHtml(stage.finished ?? "")
    }</td></tr>`;
  });
  return `<table data-table="stages"><thead><tr><th>stage</th><th>uses</th><th>seconds</th><th>outputs</th><th>finished</th></tr></thead><tbody>${
    rows.join("")
  }</tbody></table>`;
}

function paramsHtml(params: unknown): string {
  if (params === undefined) return `<p class="empty">No params.json.</p>`;
  return `<details><summary>Resolved params</summary><pre><code>${
    escapeHtml(JSON.stringify(params, null, 2))
  }</code></pre></details>`;
}
