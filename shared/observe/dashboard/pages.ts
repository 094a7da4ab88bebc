/**
 * The dashboard's HTML pages. Each is complete without scripts (charts rendered on the
 * server); /static/live_client.js then keeps the charts live from the event stream. The page's
 * settings travel as JSON in a non-executed script element (no inline code, so the strict
 * Content-Security-Policy holds).
 */
import { chartsHtml, compareChartSpecs, runChartSpecs } from "../../charts/run_charts.js";
import { escapeHtml } from "../../charts/html_escape.js";
import { compareTestTableHtml, testTableHtml } from "../../charts/test_table.js";
import { PAGE_CSS } from "../page_style.ts";
import { stagesTableHtml } from "../report_html.ts";
import { testMetrics } from "../run_summary.ts";
import type { RunData } from "./run_overview.ts";
import { paramsCompareHtml, runsTableHtml } from "./runs_table.ts";

function page(title: string, body: string, config?: unknown, script?: string): string {
  const settings = config === undefined
    ? (script ? `<script type="module" src="/static/${script}"></script>` : "")
    : `<script type="application/json" id="dashboard-config">${
      JSON.stringify(config).replace(/</g, "\\u003c")
    }</script>\n<script type="module" src="/static/live_client.js"></script>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<style>${PAGE_CSS}</style>
</head>
<body>
${body}
${settings}
</body>
</html>
`;
}

export function indexPage(runs: RunData[]): string {
  const table = runs.length === 0
    ? `<p class="empty">No runs yet: run a pipeline (deno task pipeline full) and reload.</p>`
    : runsTableHtml(runs);
  return page(
    "csn runs",
    `<header><h1>csn runs</h1></header>\n${table}`,
    undefined,
    "runs_table.js",
  );
}

/** Smoothing and log-y controls; live_client.js redraws the charts when they change. */
const VIEW_CONTROLS =
  `<p class="controls"><label>Smoothing <input type="range" id="smoothing" min="0" max="0.99" step="0.01" value="0"></label> <output id="smoothing-value">0</output>
<label><input type="checkbox" id="log-y"> log y axis</label></p>`;

export function runPage(run: RunData): string {
  const body = `<header><h1>Run ${escapeHtml(run.name)}</h1>
<p class="meta"><a href="/">all runs</a> · pipeline ${
    escapeHtml(run.record?.pipeline ?? "–")
  } · <a href="/api/runs/${encodeURIComponent(run.name)}/records">records (JSON)</a></p>
<p class="status" id="status">${run.records.length} metrics lines</p>
${problemsHtml(run.problems)}</header>
<section><h2>Test metrics</h2><div id="test-metrics">${
    testTableHtml(testMetrics(run.record, run.records))
  }</div></section>
<section><h2>Training and validation</h2>${VIEW_CONTROLS}<div class="grid" id="charts">${
    chartsHtml(runChartSpecs(run.records))
  }</div></section>
<section><h2>Stages</h2>${stagesTableHtml(run.record)}</section>`;
  return page(`csn run ${run.name}`, body, {
    mode: "run",
    runs: [run.name],
    recordTest: { [run.name]: run.record ? testMetrics(run.record, []) ?? null : null },
  });
}

export function comparePage(runs: RunData[]): string {
  const names = runs.map((r) => r.name);
  const body = `<header><h1>Compare ${names.map(escapeHtml).join(", ")}</h1>
<p class="meta"><a href="/">all runs</a></p><p class="status" id="status"></p>
${problemsHtml(runs.flatMap((r) => r.problems))}</header>
<section><h2>Test accuracy</h2><div id="test-metrics">${
    compareTestTableHtml(
      runs.map((r) => ({ name: r.name, metrics: testMetrics(r.record, r.records) })),
    )
  }</div></section>
<section><h2>Params</h2>${paramsCompareHtml(runs)}</section>
<section><h2>Training and validation</h2>${VIEW_CONTROLS}<div class="grid" id="charts">${
    chartsHtml(compareChartSpecs(runs.map((r) => ({ name: r.name, records: r.records }))))
  }</div></section>`;
  return page(`csn compare ${names.join(", ")}`, body, {
    mode: "compare",
    runs: names,
    recordTest: Object.fromEntries(
      runs.map((r) => [r.name, r.record ? testMetrics(r.record, []) ?? null : null]),
    ),
  });
}

function problemsHtml(problems: string[]): string {
  return problems.length === 0
    ? ""
    : `<ul class="problems">${problems.map((p) => `<li>${escapeHtml(p)}</li>`).join("")}</ul>`;
}
