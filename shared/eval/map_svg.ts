/**
 * SVG scatter of a 2-D notion map, each point coloured by the notion's value, with a legend
 * when there are at most 20 values (beyond that the colours alone, unlabelled).
 */
import type { NotionMap } from "./map2d.ts";

export interface SvgOptions {
  /** Heading above the plot, e.g. "closure (learned masks)". */
  readonly title?: string;
  /** Side of the square plot area in pixels; default 600. */
  readonly size?: number;
  /** Point radius in pixels; default 2.5. */
  readonly radius?: number;
}

/** Twenty distinguishable colours (Tableau's 10, then lighter companions). */
// deno-fmt-ignore
const PALETTE = [
  "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
  "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94",
  "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
];

const LEGEND_MAX = PALETTE.length;

/** Colour of label `label` among `count` values: the palette, or spread hues beyond it. */
export function labelColour(label: number, count: number): string {
  if (count <= LEGEND_MAX) return PALETTE[label % PALETTE.length]!;
  const hue = (label * 137.508) % 360; // golden angle: neighbouring ids get distant hues
  return `hsl(${hue.toFixed(1)},65%,${label % 2 ? 42 : 58}%)`;
}

/** Escapes text for XML content and attribute values. */
export function xmlEscape(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => `&${{ "&": "amp", "<": "lt", ">": "gt", '"': "quot", "'": "apos" }[c]};`,
  );
}

/** The map as a standalone SVG document; `values` names the label ids. */
export function mapSvg(
  map: NotionMap,
  values: readonly string[],
  options: SvgOptions = {},
): string {
  const size = options.size ?? 600, radius = options.radius ?? 2.5;
  let count = values.length;
  for (const label of map.labels) count = Math.max(count, label + 1);
  const legend = count <= LEGEND_MAX;
  const pad = 10, top = options.title ? 34 : pad, legendWidth = legend ? 190 : 0;
  const width = pad + size + pad + legendWidth, height = top + size + pad;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
  ];
  if (options.title) {
    out.push(`<text x="${pad}" y="22" font-size="16">${xmlEscape(options.title)}</text>`);
  }
  out.push(`<g fill-opacity="0.75">`);
  for (let i = 0; i < map.labels.length; i++) {
    const x = pad + map.coords[2 * i]! * size, y = top + (1 - map.coords[2 * i + 1]!) * size;
    const label = map.labels[i]!;
    out.push(
      `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="${radius}" ` +
        `fill="${labelColour(label, count)}"><title>${
          xmlEscape(values[label] ?? String(label))
        }</title></circle>`,
    );
  }
  out.push("</g>");
  if (legend) {
    const x = pad + size + pad;
    out.push(`<g font-size="12">`);
    for (let label = 0; label < count; label++) {
      const y = top + 4 + label * 18;
      out.push(
        `<rect x="${x}" y="${y}" width="12" height="12" fill="${labelColour(label, count)}"/>`,
        `<text x="${x + 18}" y="${y + 10}">${xmlEscape(values[label] ?? String(label))}</text>`,
      );
    }
    out.push("</g>");
  }
  out.push("</svg>");
  return out.join("\n") + "\n";
}
