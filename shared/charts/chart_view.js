// @ts-check
/**
 * How the dashboard's line charts are viewed: TensorBoard-style EMA smoothing (debiased, so
 * the first points are not pulled to zero), a log-scaled y axis, and a curve as CSV. Pure
 * functions on chart specs, shared by the server-side pages and the live client.
 */

/**
 * @typedef {import("./chart_spec.js").ChartSpec} ChartSpec
 * @typedef {import("./chart_spec.js").LineSpec} LineSpec
 * @typedef {{ smoothing?: number, logY?: boolean }} View
 */

/**
 * Exponential moving average with weight `w` in [0, 1): s_t = w s_{t-1} + (1 - w) y_t,
 * divided by 1 - w^t so early values are unbiased (as TensorBoard smooths).
 * @param {Array<[number, number]>} points @param {number} w
 * @returns {Array<[number, number]>}
 */
export function emaSmooth(points, w) {
  if (!(w > 0)) return points;
  const weight = Math.min(w, 0.999);
  let last = 0;
  let n = 0;
  return points.map(([x, y]) => {
    if (!Number.isFinite(y)) return [x, y];
    n++;
    last = last * weight + (1 - weight) * y;
    return [x, last / (1 - weight ** n)];
  });
}

/** The specs as viewed: smoothed lines, `logY` flags on line charts. @param {ChartSpec[]} specs @param {View} view @returns {ChartSpec[]} */
export function applyView(specs, view) {
  const w = view.smoothing ?? 0;
  return specs.map((spec) =>
    spec.type !== "line" ? spec : {
      ...spec,
      logY: Boolean(view.logY),
      series: spec.series.map((s) => ({ ...s, points: emaSmooth(s.points, w) })),
    }
  );
}

/** @param {string} s */
function csvField(s) {
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/**
 * A line chart's curves as CSV, one row per point: series, step, value (and the smoothed
 * value when smoothing is on).
 * @param {LineSpec} spec @param {number} [smoothing]
 */
export function curveCsv(spec, smoothing = 0) {
  const header = smoothing > 0 ? "series,step,value,smoothed" : "series,step,value";
  const rows = [header];
  for (const series of spec.series) {
    const smooth = emaSmooth(series.points, smoothing);
    series.points.forEach(([x, y], i) => {
      const extra = smoothing > 0 ? `,${smooth[i]?.[1]}` : "";
      rows.push(`${csvField(series.name)},${x},${y}${extra}`);
    });
  }
  return rows.join("\n") + "\n";
}
