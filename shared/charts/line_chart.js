// @ts-check
/**
 * A small SVG line chart (axes, nice ticks, grid, legend) rendered to a string, with no
 * dependencies, so the static report and the dashboard page draw the same pictures.
 */
import { escapeHtml } from "./html_escape.js";

export const PALETTE = [
  "#4e79a7",
  "#f28e2b",
  "#e15759",
  "#76b7b2",
  "#59a14f",
  "#edc948",
  "#b07aa1",
  "#ff9da7",
  "#9c755f",
  "#79706e",
];

/**
 * @typedef {{ name: string, points: Array<[number, number]> }} Series
 * @typedef {{ title: string, xLabel?: string, yLabel?: string, series: Series[],
 *   width?: number, height?: number, maxPoints?: number, logY?: boolean }} LineChartSpec
 */

/**
 * Ticks at 1, 2 or 5 times a power of ten, about `count` of them, and the domain widened to
 * whole ticks.
 * @param {number} min
 * @param {number} max
 * @param {number} [count]
 */
export function niceTicks(min, max, count = 5) {
  if (!(max > min)) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    return niceTicks(min - pad, max + pad, count);
  }
  const raw = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const ratio = raw / magnitude;
  const step = (ratio >= 7.5 ? 10 : ratio >= 3.5 ? 5 : ratio >= 1.5 ? 2 : 1) * magnitude;
  const lo = Math.floor(min / step + 1e-9) * step;
  const hi = Math.ceil(max / step - 1e-9) * step;
  /** @type {number[]} */
  const ticks = [];
  for (let i = 0; lo + i * step <= hi + step * 1e-9; i++) ticks.push(roundTo(lo + i * step, step));
  // Rounded ends, never inside the data (50 * 1e-6 is 4.9999999999999996e-5).
  return {
    min: Math.min(roundTo(lo, step), min),
    max: Math.max(roundTo(hi, step), max),
    step,
    ticks,
  };
}

/** Removes float noise (0.30000000000000004) at the tick's precision. @param {number} v @param {number} step */
function roundTo(v, step) {
  const digits = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  return Number(v.toFixed(Math.min(digits, 20)));
}

/**
 * Tick labels in one style for the whole axis: fixed decimals at the step's precision, or
 * exponent form when every tick is tiny (learning rates) or huge.
 * @param {number[]} ticks @param {number} step
 */
export function formatTicks(ticks, step) {
  const largest = Math.max(...ticks.map(Math.abs));
  const exponent = largest > 0 && (largest < 1e-2 || largest >= 1e6);
  return ticks.map((value) => {
    if (value === 0) return "0";
    if (exponent) {
      const digits = Math.floor(Math.log10(Math.abs(value))) - Math.floor(Math.log10(step) + 1e-9);
      return value.toExponential(Math.min(Math.max(digits, 0), 6)).replace("e+", "e");
    }
    return value.toFixed(Math.max(0, -Math.floor(Math.log10(step) + 1e-9)));
  });
}

/**
 * Labels of a log axis whose ticks are exponents: 10^t with the fewest significant digits
 * (2 to 6) that keep the labels distinct.
 * @param {number[]} ticks
 */
export function formatLogTicks(ticks) {
  const values = ticks.map((t) => 10 ** t);
  let labels = values.map(String);
  for (let digits = 2; digits <= 6; digits++) {
    labels = values.map((v) => String(Number(v.toPrecision(digits))));
    if (new Set(labels).size === labels.length) break;
  }
  return labels;
}

/**
 * Maps [d0, d1] onto [r0, r1].
 * @param {number} d0 @param {number} d1 @param {number} r0 @param {number} r1
 */
export function scaleLinear(d0, d1, r0, r1) {
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  /** @param {number} v */
  return (v) => r0 + (v - d0) * k;
}

/**
 * At most `max` points, evenly strided, always keeping the last.
 * @param {Array<[number, number]>} points @param {number} max
 */
export function thin(points, max) {
  if (points.length <= max) return points;
  const stride = Math.ceil(points.length / max);
  const out = points.filter((_, i) => i % stride === 0);
  const last = points[points.length - 1];
  if (last && out[out.length - 1] !== last) out.push(last);
  return out;
}

/** @param {number} v */
const r1 = (v) => Math.round(v * 10) / 10;

/** @param {LineChartSpec} spec */
export function lineChartSvg(spec) {
  const width = spec.width ?? 600;
  const height = spec.height ?? 300;
  // On a log axis the points are drawn at log10(y); values <= 0 have no place there.
  const logY = Boolean(spec.logY);
  const series = spec.series.map((s) => ({
    name: s.name,
    points: thin(
      s.points
        .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!logY || y > 0))
        .map(([x, y]) => /** @type {[number, number]} */ ([x, logY ? Math.log10(y) : y])),
      spec.maxPoints ?? 1500,
    ),
  }));
  const all = series.flatMap((s) => s.points);
  const legend = layoutLegend(series.map((s) => s.name), width - 20);
  const margin = { top: 30 + legend.height, right: 16, bottom: 42, left: 72 };
  const plot = {
    x0: margin.left,
    x1: width - margin.right,
    y0: height - margin.bottom,
    y1: margin.top,
  };
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${
      escapeHtml(spec.title)
    }" data-n="${all.length}"${
      logY ? ' data-log-y="1"' : ""
    } font-family="system-ui, sans-serif" font-size="11">`,
    `<title>${escapeHtml(spec.title)}</title>`,
    `<text x="10" y="18" font-size="13" font-weight="600" fill="#222">${
      escapeHtml(spec.title)
    }</text>`,
  ];
  legend.items.forEach((item, i) => {
    const color = PALETTE[i % PALETTE.length];
    parts.push(
      `<g class="legend-item"><rect x="${item.x + 10}" y="${
        item.y + 26
      }" width="12" height="3" fill="${color}"/>` +
        `<text x="${item.x + 26}" y="${item.y + 31}" fill="#333">${
          escapeHtml(item.label)
        }</text></g>`,
    );
  });
  parts.push(
    `<rect x="${plot.x0}" y="${plot.y1}" width="${plot.x1 - plot.x0}" height="${
      plot.y0 - plot.y1
    }" fill="none" stroke="#bbb"/>`,
  );
  if (all.length === 0) {
    parts.push(
      `<text class="empty" x="${(plot.x0 + plot.x1) / 2}" y="${
        (plot.y0 + plot.y1) / 2
      }" text-anchor="middle" fill="#888">no data yet</text></svg>`,
    );
    return parts.join("");
  }
  const xs = niceTicks(Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0])), 6);
  const ys = niceTicks(Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1])), 5);
  const sx = scaleLinear(xs.min, xs.max, plot.x0, plot.x1);
  const sy = scaleLinear(ys.min, ys.max, plot.y0, plot.y1);
  const yLabels = logY ? formatLogTicks(ys.ticks) : formatTicks(ys.ticks, ys.step);
  ys.ticks.forEach((t, i) => {
    const y = r1(sy(t));
    parts.push(
      `<line x1="${plot.x0}" x2="${plot.x1}" y1="${y}" y2="${y}" stroke="#eee"/>` +
        `<text x="${plot.x0 - 6}" y="${y + 4}" text-anchor="end" fill="#555">${yLabels[i]}</text>`,
    );
  });
  const xLabels = formatTicks(xs.ticks, xs.step);
  xs.ticks.forEach((t, i) => {
    const x = r1(sx(t));
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${plot.y0}" y2="${plot.y0 + 4}" stroke="#888"/>` +
        `<text x="${x}" y="${plot.y0 + 16}" text-anchor="middle" fill="#555">${xLabels[i]}</text>`,
    );
  });
  if (spec.xLabel) {
    parts.push(
      `<text x="${(plot.x0 + plot.x1) / 2}" y="${height - 6}" text-anchor="middle" fill="#333">${
        escapeHtml(spec.xLabel)
      }</text>`,
    );
  }
  if (spec.yLabel) {
    const cy = (plot.y0 + plot.y1) / 2;
    parts.push(
      `<text transform="translate(13 ${cy}) rotate(-90)" text-anchor="middle" fill="#333">${
        escapeHtml(spec.yLabel)
      }</text>`,
    );
  }
  series.forEach((s, i) => {
    if (s.points.length === 0) return;
    const color = PALETTE[i % PALETTE.length];
    const d = s.points.map(([x, y], j) => `${j === 0 ? "M" : "L"}${r1(sx(x))} ${r1(sy(y))}`).join(
      "",
    );
    parts.push(
      `<path class="line" d="${d}" fill="none" stroke="${color}" stroke-width="1.6" stroke-linejoin="round" data-series="${
        escapeHtml(s.name)
      }" data-n="${s.points.length}"/>`,
    );
    const last = s.points[s.points.length - 1];
    if (last && s.points.length === 1) {
      parts.push(`<circle cx="${r1(sx(last[0]))}" cy="${r1(sy(last[1]))}" r="3" fill="${color}"/>`);
    }
  });
  parts.push("</svg>");
  return parts.join("");
}

/**
 * Legend items flowed left to right in rows (text width estimated at 6.2 px a character).
 * @param {string[]} labels @param {number} width
 */
function layoutLegend(labels, width) {
  /** @type {Array<{label: string, x: number, y: number}>} */
  const items = [];
  if (labels.length <= 1) return { items, height: 0 };
  let x = 0;
  let y = 0;
  for (const raw of labels) {
    const label = raw.length > 40 ? `${raw.slice(0, 39)}…` : raw;
    const w = 24 + label.length * 6.2;
    if (x > 0 && x + w > width) {
      x = 0;
      y += 15;
    }
    items.push({ label, x, y });
    x += w;
  }
  return { items, height: y + 18 };
}
