// @ts-check
/// <reference lib="dom" />
/**
 * The dashboard page's live part: one EventSource per run, records accumulated as they
 * arrive, and the charts and test table redrawn (at most every 250 ms, and when the smoothing
 * or log-y control changes) with the same functions the server and the static report use.
 */
import { chartsHtml, compareChartSpecs, runChartSpecs } from "./run_charts.js";
import { compareTestTableHtml, testMetricsFromRecords, testTableHtml } from "./test_table.js";

/**
 * @typedef {import("../artefacts/metrics_log.ts").MetricsRecord} MetricsRecord
 * @typedef {import("./test_table.js").TestMetrics} TestMetrics
 * @typedef {{ mode: "run" | "compare", runs: string[], recordTest: Record<string, TestMetrics | null> }} Config
 * @typedef {{ name: string, records: MetricsRecord[], synced: boolean, problems: string[],
 *   connected: boolean }} RunState
 */

const configElement = document.getElementById("dashboard-config");
/** @type {Config} */
const config = JSON.parse(configElement?.textContent ?? "{}");

/** @type {RunState[]} */
const runs = config.runs.map((name) => ({
  name,
  records: [],
  synced: false,
  problems: [],
  connected: false,
}));
let scheduled = false;

for (const run of runs) {
  const source = new EventSource(`/api/runs/${encodeURIComponent(run.name)}/events`);
  source.addEventListener("open", () => {
    run.connected = true;
    schedule();
  });
  source.addEventListener("record", (event) => {
    run.records.push(JSON.parse(/** @type {MessageEvent} */ (event).data));
    schedule();
  });
  source.addEventListener("reset", () => {
    run.records = [];
    schedule();
  });
  source.addEventListener("synced", () => {
    run.synced = true;
    schedule();
  });
  source.addEventListener("problem", (event) => {
    run.problems = [
      ...run.problems.slice(-4),
      JSON.parse(/** @type {MessageEvent} */ (event).data).message,
    ];
    schedule();
  });
  source.addEventListener("error", () => {
    // EventSource reconnects by itself and resumes after the last record (Last-Event-ID).
    run.connected = false;
    schedule();
  });
}

function schedule() {
  if (scheduled) return;
  scheduled = true;
  setTimeout(() => {
    scheduled = false;
    render();
  }, 250);
}

/** @param {RunState} run */
function testOf(run) {
  return config.recordTest[run.name] ?? testMetricsFromRecords(run.records);
}

const smoothing = /** @type {HTMLInputElement | null} */ (document.getElementById("smoothing"));
const logY = /** @type {HTMLInputElement | null} */ (document.getElementById("log-y"));
const smoothingValue = document.getElementById("smoothing-value");
smoothing?.addEventListener("input", render);
logY?.addEventListener("change", render);

/** The chart view the controls ask for. @returns {import("./chart_view.js").View} */
function view() {
  const w = Number(smoothing?.value ?? 0);
  if (smoothingValue) smoothingValue.textContent = String(w);
  return { smoothing: Number.isFinite(w) ? w : 0, logY: Boolean(logY?.checked) };
}

function render() {
  if (!runs.every((run) => run.synced)) return; // draw once the backlog is in, then per update
  const charts = document.getElementById("charts");
  const test = document.getElementById("test-metrics");
  const status = document.getElementById("status");
  const first = runs[0];
  if (config.mode === "run" && first) {
    if (charts) charts.innerHTML = chartsHtml(runChartSpecs(first.records), view());
    if (test) test.innerHTML = testTableHtml(testOf(first));
  } else {
    if (charts) charts.innerHTML = chartsHtml(compareChartSpecs(runs), view());
    if (test) {
      test.innerHTML = compareTestTableHtml(
        runs.map((run) => ({ name: run.name, metrics: testOf(run) })),
      );
    }
  }
  if (status) {
    status.textContent = runs
      .map((run) => {
        const last = run.records.at(-1);
        const state = run.connected ? "live" : "reconnecting…";
        const problems = run.problems.length > 0 ? ` · ${run.problems.at(-1)}` : "";
        return `${runs.length > 1 ? `${run.name}: ` : ""}${run.records.length} metrics lines${
          last ? ` · last ${last.time}` : ""
        } · ${state}${problems}`;
      })
      .join(" | ");
    status.dataset.lines = String(runs.reduce((n, run) => n + run.records.length, 0));
  }
}
