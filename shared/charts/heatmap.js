// @ts-check
/**
 * An SVG heat map of a matrix (here: mask rows, conditions x embedding dimensions), one cell
 * per entry with a tooltip, a viridis-like colour ramp and a small colour bar.
 */
import { escapeHtml, formatNumber } from "./html_escape.js";

/** @typedef {{ title: string, rowNames: string[], matrix: number[][], min?: number, max?: number,
 *   width?: number, id?: string }} HeatmapSpec */

const RAMP = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];

/** Colour of t in [0, 1] along the ramp. @param {number} t */
export function rampColor(t) {
  const u = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(u));
  const a = RAMP[i] ?? [0, 0, 0];
  const b = RAMP[i + 1] ?? a;
  const f = u - i;
  const c = a.map((v, k) => Math.round(v + ((b[k] ?? v) - v) * f));
  return `rgb(${c.join(",")})`;
}

/** @param {HeatmapSpec} spec */
export function heatmapSvg(spec) {
  const width = spec.width ?? 600;
  const rows = spec.matrix.length;
  const cols = Math.max(0, ...spec.matrix.map((row) => row.length));
  const values = spec.matrix.flat().filter(Number.isFinite);
  const min = spec.min ?? Math.min(0, ...values);
  const max = spec.max ?? Math.max(min + 1e-9, ...values);
  const labelWidth = 92;
  const cellW = cols > 0 ? (width - labelWidth - 12) / cols : 0;
  const cellH = 16;
  const top = 26;
  const height = top + rows * cellH + 34;
  const id = escapeHtml(spec.id ?? "heat");
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="heatmap" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${
      escapeHtml(spec.title)
    }" data-n="${values.length}" font-family="system-ui, sans-serif" font-size="11">`,
    `<title>${escapeHtml(spec.title)}</title>`,
    `<text x="10" y="17" font-size="12" font-weight="600" fill="#222">${
      escapeHtml(spec.title)
    }</text>`,
  ];
  spec.matrix.forEach((row, r) => {
    const name = spec.rowNames[r] ?? `condition ${r}`;
    const y = top + r * cellH;
    parts.push(
      `<text x="${labelWidth - 6}" y="${y + 12}" text-anchor="end" fill="#333">${
        escapeHtml(name)
      }</text>`,
    );
    row.forEach((value, c) => {
      const x = labelWidth + c * cellW;
      const fill = rampColor((value - min) / (max - min));
      parts.push(
        `<rect class="cell" x="${x.toFixed(1)}" y="${y}" width="${
          (cellW + 0.3).toFixed(1)
        }" height="${cellH - 1}" fill="${fill}"><title>${escapeHtml(name)}, dim ${c}: ${
          formatNumber(value)
        }</title></rect>`,
      );
    });
  });
  const axisY = top + rows * cellH + 12;
  const tickEvery = cols > 32 ? 8 : cols > 8 ? 4 : 1;
  for (let c = 0; c < cols; c += tickEvery) {
    parts.push(
      `<text x="${
        (labelWidth + (c + 0.5) * cellW).toFixed(1)
      }" y="${axisY}" text-anchor="middle" fill="#666">${c}</text>`,
    );
  }
  const barX = width - 172;
  const barY = axisY + 8;
  parts.push(
    `<defs><linearGradient id="${id}-ramp">${
      [0, 0.25, 0.5, 0.75, 1].map((t) => `<stop offset="${t}" stop-color="${rampColor(t)}"/>`).join(
        "",
      )
    }</linearGradient></defs>`,
    `<text x="${barX - 4}" y="${barY + 8}" text-anchor="end" fill="#555">${
      formatNumber(min)
    }</text>`,
    `<rect x="${barX}" y="${barY}" width="120" height="9" fill="url(#${id}-ramp)"/>`,
    `<text x="${barX + 124}" y="${barY + 8}" fill="#555">${formatNumber(max)}</text>`,
    `<text x="${labelWidth}" y="${barY + 8}" fill="#666">dimension</text>`,
    "</svg>",
  );
  return parts.join("");
}
