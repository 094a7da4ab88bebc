/**
 * The label file as a table: a header of column names and one row of text cells per image,
 * each with the line it came from, so every later error can name file, line and column.
 * CSV goes through csv-parse (quoted fields, a byte-order mark, CRLF); JSON Lines holds one
 * object per line, its keys the columns (a key a row lacks is an empty cell).
 */
import { parse } from "csv-parse/sync";

export interface LabelRow {
  /** 1-based line of the file where the row ends (a quoted field may span lines). */
  readonly line: number;
  /** One cell per column, "" where empty. */
  readonly cells: readonly string[];
}

export interface LabelTable {
  /** The file's name as the user gave it, for messages. */
  readonly file: string;
  readonly columns: readonly string[];
  readonly rows: readonly LabelRow[];
  /** "column 3" in CSV, `key "heel"` in JSON Lines: how messages name a column. */
  readonly columnLabel: (index: number) => string;
}

export type LabelFormat = "csv" | "jsonl";

/** The format a label file name implies, or undefined. */
export function labelFormatOf(name: string): LabelFormat | undefined {
  const lower = name.toLowerCase();
  if (lower.endsWith(".csv")) return "csv";
  if (lower.endsWith(".jsonl") || lower.endsWith(".ndjson")) return "jsonl";
  return undefined;
}

export function parseLabels(text: string, file: string, format: LabelFormat): LabelTable {
  return format === "csv" ? parseCsv(text, file) : parseJsonLines(text, file);
}

function parseCsv(text: string, file: string): LabelTable {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, {
      bom: true,
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
    }) as unknown as typeof records;
  } catch (error) {
    throw new SyntaxError(`Cannot read label file "${file}": ${(error as Error).message}`, {
      cause: error,
    });
  }
  const [header, ...body] = records;
  if (header === undefined) {
    throw new SyntaxError(`Cannot read label file "${file}": it is empty, expected a header row`);
  }
  const columns = header.record.map((c) => c.trim());
  columns.forEach((name, i) => {
    if (name === "") {
      throw new SyntaxError(
        `Cannot read label file "${file}": line ${header.info.lines}, column ${i + 1} of the ` +
          `header is empty, expected a column name`,
      );
    }
    const first = columns.indexOf(name);
    if (first !== i) {
      throw new SyntaxError(
        `Cannot read label file "${file}": line ${header.info.lines}, columns ${first + 1} ` +
          `and ${i + 1} are both named "${name}"`,
      );
    }
  });
  if (body.length === 0) {
    throw new SyntaxError(
      `Cannot read label file "${file}": it holds a header and no rows, expected one row per ` +
        `image`,
    );
  }
  const rows = body.map(({ record, info }) => {
    if (record.length !== columns.length) {
      throw new SyntaxError(
        `Cannot read label file "${file}": line ${info.lines} has ${record.length} fields, ` +
          `expected ${columns.length} (${columns.join(", ")})`,
      );
    }
    return { line: info.lines, cells: record.map((c) => c.trim()) };
  });
  return { file, columns, rows, columnLabel: (i) => `column ${i + 1} ("${columns[i]}")` };
}

function parseJsonLines(text: string, file: string): LabelTable {
  const objects: { line: number; value: Record<string, unknown> }[] = [];
  text.replace(/^\uFEFF/, "").split(/\r?\n/).forEach((source, i) => {
    if (source.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(source);
    } catch (error) {
      throw new SyntaxError(
        `Cannot read label file "${file}": line ${i + 1} is not JSON (${(error as Error).message})`,
      );
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new SyntaxError(
        `Cannot read label file "${file}": line ${i + 1} is not a JSON object, expected ` +
          `{"path": ..., "<column>": ...}`,
      );
    }
    objects.push({ line: i + 1, value: value as Record<string, unknown> });
  });
  if (objects.length === 0) {
    throw new SyntaxError(
      `Cannot read label file "${file}": it holds no rows, expected one JSON object per image`,
    );
  }
  const columns: string[] = [];
  for (const { value } of objects) {
    for (const key of Object.keys(value)) if (!columns.includes(key)) columns.push(key);
  }
  const rows = objects.map(({ line, value }) => ({
    line,
    cells: columns.map((key, c) => {
      const cell = value[key];
      if (cell === undefined || cell === null) return "";
      if (typeof cell === "string") return cell.trim();
      if (typeof cell === "number" || typeof cell === "boolean") return String(cell);
      throw new SyntaxError(
        `Cannot read label file "${file}": line ${line}, key "${columns[c]}" holds ` +
          `${JSON.stringify(cell)}, expected a string, number, boolean or null`,
      );
    }),
  }));
  return { file, columns, rows, columnLabel: (i) => `key "${columns[i]}"` };
}
