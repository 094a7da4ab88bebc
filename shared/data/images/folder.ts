/**
 * The image folder: its image files at any depth, the label rows matched to them by path, or,
 * with no label file, a table made from the folder levels (ImageFolder style:
 * `Boots/Mid-Calf/x.jpg` has level_1 "Boots" and level_2 "Mid-Calf").
 */
import { join } from "node:path";
import { closest } from "../../util/closest.ts";
import type { LabelTable } from "./table.ts";

export const IMAGE_EXTENSIONS = [
  ".jpg",
  ".jpeg",
  ".png",
  ".webp",
  ".tif",
  ".tiff",
  ".avif",
  ".gif",
] as const;

export function isImageName(name: string): boolean {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

/**
 * The image files under `root` as sorted POSIX relative paths; hidden files and folders
 * (".DS_Store", ".git") and other files are skipped, links followed. Empty: an error.
 */
export async function listImages(root: string): Promise<string[]> {
  const found: string[] = [];
  async function walk(rel: string): Promise<void> {
    for await (const entry of Deno.readDir(rel ? join(root, rel) : root)) {
      if (entry.name.startsWith(".")) continue;
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      const info = entry.isSymlink ? await Deno.stat(join(root, child)) : entry;
      if (info.isDirectory) await walk(child);
      else if (info.isFile && isImageName(entry.name)) found.push(child);
    }
  }
  try {
    await walk("");
  } catch (error) {
    throw new Error(`Cannot list images in "${root}": ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (found.length === 0) {
    throw new RangeError(
      `Cannot list images in "${root}": the folder holds no image files, expected files ` +
        `ending in ${IMAGE_EXTENSIONS.join(", ")} at any depth`,
    );
  }
  return found.sort();
}

/** The index of column `name` in `table`, or an error suggesting the nearest name. */
export function columnIndex(table: LabelTable, name: string, what: string): number {
  const index = table.columns.indexOf(name);
  if (index < 0) {
    const hint = closest(name, table.columns);
    throw new RangeError(
      `Cannot use ${what} "${name}": label file "${table.file}" has no such column` +
        (hint ? `; did you mean "${hint}"?` : "") + ` Columns: ${table.columns.join(", ")}`,
    );
  }
  return index;
}

/** A path cell as a POSIX path relative to the folder: "./a\\b.jpg" -> "a/b.jpg". */
function normalisePath(cell: string): string {
  return cell.replaceAll("\\", "/").replace(/^(\.\/)+/, "").replace(/\/{2,}/g, "/");
}

export interface MatchedRows {
  /** Per row of the table, the image's path in the folder. */
  readonly paths: readonly string[];
  /** Images in the folder that no row names (left out, reported). */
  readonly unlabelled: readonly string[];
}

/**
 * Matches each row's path cell to an image in the folder. A missing, repeated or unsafe path
 * is an error naming the line and column; images with no row are returned, not an error.
 */
export function matchRows(
  table: LabelTable,
  pathColumn: string,
  images: readonly string[],
  folder: string,
): MatchedRows {
  const column = columnIndex(table, pathColumn, "path column");
  const where = (line: number) =>
    `label file "${table.file}": line ${line}, ${table.columnLabel(column)}`;
  // By NFC form: macOS stores "é" decomposed, a spreadsheet writes it composed.
  const inFolder = new Map(images.map((p) => [p.normalize("NFC"), p]));
  const seen = new Map<string, number>();
  const paths = table.rows.map((row) => {
    const path = normalisePath(row.cells[column]!).normalize("NFC");
    if (path === "") throw new RangeError(`Cannot match ${where(row.line)}: the path is empty`);
    if (path.startsWith("/") || /^[a-z]:/i.test(path) || path.split("/").includes("..")) {
      throw new RangeError(
        `Cannot match ${where(row.line)}: "${path}" leaves the folder, expected a path ` +
          `relative to "${folder}"`,
      );
    }
    const earlier = seen.get(path);
    if (earlier !== undefined) {
      throw new RangeError(
        `Cannot match ${where(row.line)}: "${path}" is named on line ${earlier} too, ` +
          `expected one row per image`,
      );
    }
    seen.set(path, row.line);
    const file = inFolder.get(path);
    if (file === undefined) {
      throw new RangeError(
        `Cannot match ${where(row.line)}: "${path}" is not an image in "${folder}" ` +
          `(${images.length} images there)`,
      );
    }
    return file;
  });
  const named = new Set(paths);
  return { paths, unlabelled: images.filter((p) => !named.has(p)) };
}

/** With no label file: a path column and one column per folder level ("" when shallower). */
export function folderTable(images: readonly string[], pathColumn: string): LabelTable {
  const depth = Math.max(...images.map((p) => p.split("/").length - 1));
  if (depth === 0) {
    throw new RangeError(
      `Cannot label images by folder: all ${images.length} images lie in the top folder, ` +
        `expected sub-folders (Boots/Mid-Calf/x.jpg) or a label file (fetch.labels)`,
    );
  }
  const levels = Array.from({ length: depth }, (_, i) => `level_${i + 1}`);
  const columns = [pathColumn, ...levels];
  const rows = images.map((path, i) => {
    const folders = path.split("/").slice(0, -1);
    return { line: i + 1, cells: [path, ...levels.map((_, l) => folders[l] ?? "")] };
  });
  return { file: "(folder levels)", columns, rows, columnLabel: (i) => `"${columns[i]}"` };
}
