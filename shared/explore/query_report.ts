/** What `deno task query` prints: a header line and one table row per neighbour. */
import type { QueryResult } from "./query.ts";

export function formatQuery(result: QueryResult): string {
  const { query, notion } = result;
  const what = query.index === null
    ? `image "${query.image}"`
    : `${result.split} image ${query.index} "${query.name}"` +
      (query.value === null ? "" : ` (${notion}: ${query.value})`);
  const lines = [
    `Nearest ${result.neighbours.length} to ${what} under "${notion}", among the ` +
    `${result.gallery.images} ${result.split} images of run "${result.run}":`,
  ];
  const header = ["rank", "distance", "index", notion, "name"];
  const rows = result.neighbours.map((n) => [
    String(n.rank),
    n.distance.toFixed(4),
    String(n.index),
    n.value ?? "-",
    n.name,
  ]);
  const widths = header.map((h, col) => Math.max(h.length, ...rows.map((r) => r[col]!.length)));
  const right = [true, true, true, false, false];
  const line = (cells: string[]) =>
    cells.map((cell, col) =>
      col === cells.length - 1
        ? cell
        : right[col]
        ? cell.padStart(widths[col]!)
        : cell.padEnd(widths[col]!)
    ).join("  ");
  lines.push(line(header), ...rows.map(line));
  lines.push(`contact sheet: ${result.sheet}`);
  return lines.join("\n") + "\n";
}
