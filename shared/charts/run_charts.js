// @ts-check
/**
 * Which charts a run's metrics lines make (and an overlay of several runs), as chart specs,
 * and their HTML. Shared by the static report (Deno) and the live dashboard (browser).
 */
import { applyView, curveCsv } from "./chart_view.js";
import { heatmapSvg } from "./heatmap.js";
import { escapeHtml } from "./html_escape.js";
import { lineChartSvg } from "./line_chart.js";

/**
 * @typedef {import("../artefacts/metrics_log.ts").MetricsRecord} MetricsRecord
 * @typedef {import("./line_chart.js").Series} Series
 * @typedef {import("./heatmap.js").HeatmapSpec} HeatmapSpec
 * @typedef {import("./chart_spec.js").LineSpec} LineSpec
 * @typedef {import("./chart_spec.js").MasksSpec} MasksSpec
 * @typedef {import("./chart_spec.js").ChartSpec} ChartSpec
 * @typedef {"lr" | "loss" | "accuracy" | "embed_norm" | "mask_norm" | "triplets_per_s"} Field
 */

/** Up to this many epochs of masks are drawn, evenly spread, first and last included. */
export const MASK_PANELS = 6;

/** @param {MetricsRecord[]} records */
function seriesNames(records) {
  return [...new Set(records.map((r) => r.series ?? "train"))];
}

/** @param {MetricsRecord[]} records @param {string} series */
function ofSeries(records, series) {
  return records.filter((r) => (r.series ?? "train") === series);
}

/**
 * Training values of `field`: from step lines when any carry it, else from epoch lines.
 * @param {MetricsRecord[]} records @param {Field} field
 */
function trainSource(records, field) {
  const steps = records.filter((r) => r.kind === "step" && typeof r[field] === "number");
  return steps.length > 0 ? steps : records.filter((r) => r.kind === "epoch");
}

/** Validation lines are per epoch, so their charts run over epochs, not steps. */
/** @param {MetricsRecord} r */
const byEpoch = (r) => r.epoch;

/**
 * @param {MetricsRecord[]} records
 * @param {(r: MetricsRecord) => number | undefined} get
 * @param {(r: MetricsRecord) => number} x
 * @returns {Array<[number, number]>}
 */
function points(records, get, x = (r) => r.step) {
  /** @type {Array<[number, number]>} */
  const out = [];
  for (const r of records) {
    const y = get(r);
    if (typeof y === "number") out.push([x(r), y]);
  }
  return out;
}

/**
 * Overall accuracy plus one line per notion, for each series.
 * @param {MetricsRecord[]} records @param {(series: string, what: string) => string} label
 * @param {(r: MetricsRecord) => number} [x]
 * @returns {Series[]}
 */
function accuracySeries(records, label, x) {
  /** @type {Series[]} */
  const out = [];
  for (const series of seriesNames(records)) {
    const mine = ofSeries(records, series);
    const overall = points(mine, (r) => r.accuracy, x);
    if (overall.length > 0) out.push({ name: label(series, "overall"), points: overall });
    const notions = [...new Set(mine.flatMap((r) => Object.keys(r.per_condition ?? {})))];
    for (const notion of notions) {
      out.push({
        name: label(series, notion),
        points: points(mine, (r) => r.per_condition?.[notion], x),
      });
    }
  }
  return out;
}

/** @type {Array<{ field: Field, id: string, title: string, yLabel: string }>} */
const SCALAR_CHARTS = [
  { field: "lr", id: "lr", title: "Learning rate", yLabel: "lr" },
  { field: "loss", id: "loss", title: "Training loss", yLabel: "loss" },
  { field: "embed_norm", id: "embed_norm", title: "Embedding norm", yLabel: "‖E‖₂ / √batch" },
  { field: "mask_norm", id: "mask_norm", title: "Mask norm", yLabel: "‖M‖₁ / batch" },
  { field: "triplets_per_s", id: "throughput", title: "Throughput", yLabel: "triplets / s" },
];

/** @param {MetricsRecord[]} records @returns {ChartSpec[]} */
export function runChartSpecs(records) {
  const multi = seriesNames(records).length > 1;
  /** @param {string} series @param {string} what */
  const label = (series, what) => (multi ? `${series} · ${what}` : what);
  /** @param {Field} field @returns {Series[]} */
  const scalar = (field) =>
    seriesNames(records).map((series) => ({
      name: series,
      points: points(trainSource(ofSeries(records, series), field), (r) => r[field]),
    }));
  /** @type {ChartSpec[]} */
  const specs = [];
  const [lr, loss, ...norms] = SCALAR_CHARTS.map((c) => ({
    id: c.id,
    type: /** @type {const} */ ("line"),
    title: c.title,
    xLabel: "step",
    yLabel: c.yLabel,
    series: scalar(c.field),
  }));
  if (lr) specs.push(lr);
  if (loss) specs.push(loss);
  const train = records.filter((r) => r.kind === "step");
  specs.push({
    id: "train_accuracy",
    type: "line",
    title: "Training accuracy (overall and per notion)",
    xLabel: "step",
    yLabel: "triplet accuracy",
    series: accuracySeries(
      train.some((r) => r.accuracy !== undefined)
        ? train
        : records.filter((r) => r.kind === "epoch"),
      label,
    ),
  });
  specs.push({
    id: "val_accuracy",
    type: "line",
    title: "Validation accuracy (overall and per notion)",
    xLabel: "epoch",
    yLabel: "triplet accuracy",
    series: accuracySeries(records.filter((r) => r.kind === "val"), label, byEpoch),
  });
  for (const spec of norms) {
    // Throughput is optional; the norms are always shown so a missing one is visible.
    if (spec.id !== "throughput" || spec.series.some((s) => s.points.length > 0)) specs.push(spec);
  }
  specs.push({
    id: "masks",
    type: "masks",
    title: "Masks per epoch",
    panels: maskPanels(records, multi),
  });
  return specs;
}

/** @param {MetricsRecord[]} records @param {boolean} multi @returns {HeatmapSpec[]} */
function maskPanels(records, multi) {
  const withMasks = records.filter((r) => r.kind === "epoch" && Array.isArray(r.masks));
  /** @type {HeatmapSpec[]} */
  const panels = [];
  for (const series of seriesNames(withMasks)) {
    const mine = ofSeries(withMasks, series);
    const picks = new Set(
      Array.from(
        { length: Math.min(MASK_PANELS, mine.length) },
        (_, i) =>
          Math.round((i * (mine.length - 1)) / Math.max(1, Math.min(MASK_PANELS, mine.length) - 1)),
      ),
    );
    for (const i of [...picks].sort((a, b) => a - b)) {
      const r = mine[i];
      if (!r || !r.masks) continue;
      panels.push({
        id: `mask-${panels.length}`,
        title: `${multi ? `${series} · ` : ""}epoch ${r.epoch} (step ${r.step})`,
        rowNames: r.condition_names ?? r.masks.map((_, k) => `condition ${k}`),
        matrix: r.masks,
      });
    }
  }
  const max = Math.max(1e-9, ...panels.flatMap((p) => p.matrix.flat()).filter(Number.isFinite));
  return panels.map((p) => ({ ...p, min: 0, max }));
}

/**
 * Several runs overlaid: the scalar curves, overall accuracies, and validation accuracy per
 * notion (one chart per notion).
 * @param {Array<{ name: string, records: MetricsRecord[] }>} runs
 * @returns {ChartSpec[]}
 */
export function compareChartSpecs(runs) {
  /** @param {(records: MetricsRecord[]) => MetricsRecord[]} pick @param {(r: MetricsRecord) => number | undefined} get @param {(r: MetricsRecord) => number} [x] @returns {Series[]} */
  const overlay = (pick, get, x) =>
    runs.flatMap((run) => {
      const names = seriesNames(run.records);
      return names.map((series) => ({
        name: names.length > 1 ? `${run.name} · ${series}` : run.name,
        points: points(pick(ofSeries(run.records, series)), get, x),
      }));
    });
  /** @param {string} id @param {string} title @param {string} yLabel @param {Series[]} series @param {string} [xLabel] @returns {ChartSpec} */
  const line = (id, title, yLabel, series, xLabel = "step") => ({
    id,
    type: "line",
    title,
    xLabel,
    yLabel,
    series,
  });
  /** @type {ChartSpec[]} */
  const specs = SCALAR_CHARTS.filter((c) => c.field !== "triplets_per_s").map((c) =>
    line(c.id, c.title, c.yLabel, overlay((rs) => trainSource(rs, c.field), (r) => r[c.field]))
  );
  specs.splice(
    2,
    0,
    line(
      "train_accuracy",
      "Training accuracy",
      "triplet accuracy",
      overlay((rs) => trainSource(rs, "accuracy"), (r) => r.accuracy),
    ),
    line(
      "val_accuracy",
      "Validation accuracy",
      "triplet accuracy",
      overlay((rs) => rs.filter((r) => r.kind === "val"), (r) => r.accuracy, byEpoch),
      "epoch",
    ),
  );
  const notions = [
    ...new Set(
      runs.flatMap((run) =>
        run.records.filter((r) => r.kind === "val").flatMap((r) =>
          Object.keys(r.per_condition ?? {})
        )
      ),
    ),
  ];
  for (const notion of notions) {
    specs.push(
      line(
        `val_accuracy_${notion}`,
        `Validation accuracy: ${notion}`,
        "triplet accuracy",
        overlay(
          (rs) => rs.filter((r) => r.kind === "val"),
          (r) => r.per_condition?.[notion],
          byEpoch,
        ),
        "epoch",
      ),
    );
  }
  return specs;
}

/** @param {ChartSpec} spec */
export function chartSvg(spec) {
  if (spec.type === "line") return lineChartSvg(spec);
  if (spec.panels.length === 0) {
    return `<p class="empty">No masks recorded yet (epoch lines carry them).</p>`;
  }
  return spec.panels.map(heatmapSvg).join("");
}

/**
 * The charts as figures; `data-chart` names each for scripts and tests. `view` smooths the
 * lines and sets a log y axis; each line chart with data links its raw curve as CSV.
 * @param {ChartSpec[]} specs @param {import("./chart_view.js").View} [view]
 */
export function chartsHtml(specs, view = {}) {
  const viewed = applyView(specs, view);
  return specs
    .map((spec, i) => {
      const shown = viewed[i] ?? spec;
      if (spec.type === "masks") {
        return `<figure class="figure wide" data-chart="${escapeHtml(spec.id)}"><figcaption>${
          escapeHtml(spec.title)
        } (after ReLU; conditions × embedding dimensions)</figcaption>${chartSvg(spec)}</figure>`;
      }
      const csv = spec.series.some((s) => s.points.length > 0)
        ? `<a class="csv" download="${escapeHtml(spec.id)}.csv" href="data:text/csv;charset=utf-8,${
          encodeURIComponent(curveCsv(spec, view.smoothing ?? 0))
        }">CSV</a>`
        : "";
      return `<figure class="figure" data-chart="${escapeHtml(spec.id)}">${
        chartSvg(shown)
      }${csv}</figure>`;
    })
    .join("\n");
}
