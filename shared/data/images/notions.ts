/**
 * The label table's columns as notions: which columns (`conditions`, default every column but
 * the path and split), categorical ones as label ids over their sorted values, numeric ones as
 * numbers. An empty cell is unknown for that notion only. A column that cannot teach anything
 * (one value) or holds text where numbers are expected is an error naming file, line, column.
 */
import { columnIndex } from "./folder.ts";
import type { LabelTable } from "./table.ts";

export interface CategoricalNotion {
  readonly kind: "categorical";
  readonly name: string;
  /** The distinct values, sorted; label id = index. */
  readonly values: readonly string[];
  /** Per row, its value's id, or -1 where the cell is empty. */
  readonly labels: Int32Array;
}

export interface NumericNotion {
  readonly kind: "numeric";
  readonly name: string;
  /** Per row, its number, or NaN where the cell is empty. */
  readonly numbers: Float64Array;
}

/** A notion known only from the user's triplet file: no column. */
export interface JudgedNotion {
  readonly kind: "judged";
  readonly name: string;
}

export type ImageNotion = CategoricalNotion | NumericNotion | JudgedNotion;

export interface NotionOptions {
  readonly pathColumn: string;
  readonly splitColumn: string;
  /** Undefined: every column but the path and split column. */
  readonly conditions?: readonly string[];
  readonly numeric: readonly string[];
  readonly log: (message: string) => void;
}

export function chooseNotions(table: LabelTable, opts: NotionOptions): ImageNotion[] {
  const reserved = [opts.pathColumn, opts.splitColumn];
  const names = opts.conditions ??
    table.columns.filter((c) => !reserved.includes(c));
  if (names.length === 0) {
    throw new RangeError(
      `Cannot choose notions: label file "${table.file}" has no column besides ` +
        `${reserved.filter((c) => table.columns.includes(c)).join(" and ")}, expected one ` +
        `column per notion`,
    );
  }
  for (const name of names) {
    if (reserved.includes(name)) {
      throw new RangeError(
        `Cannot use condition "${name}": it is the ${
          name === opts.pathColumn ? "path" : "split"
        } column, not a notion`,
      );
    }
    columnIndex(table, name, "condition");
  }
  for (const name of opts.numeric) {
    columnIndex(table, name, "numeric column");
    if (!names.includes(name)) {
      throw new RangeError(
        `Cannot use numeric column "${name}": it is not one of the conditions ` +
          `(${names.join(", ")})`,
      );
    }
  }
  return names.map((name) => {
    const column = columnIndex(table, name, "condition");
    return opts.numeric.includes(name)
      ? numericNotion(table, name, column)
      : categoricalNotion(table, name, column, opts.log);
  });
}

function categoricalNotion(
  table: LabelTable,
  name: string,
  column: number,
  log: (message: string) => void,
): CategoricalNotion {
  const cells = table.rows.map((r) => r.cells[column]!);
  const values = [...new Set(cells.filter((c) => c !== ""))].sort();
  if (values.length < 2) {
    throw new RangeError(
      `Cannot use condition "${name}": label file "${table.file}", ${
        table.columnLabel(column)
      } holds ` +
        (values.length === 0 ? "no value" : `one value ("${values[0]}")`) +
        ` in all ${cells.length} rows, expected two or more`,
    );
  }
  const ids = new Map(values.map((v, i) => [v, i]));
  const labels = Int32Array.from(cells, (c) => c === "" ? -1 : ids.get(c)!);
  const numbers = values.filter((v) => Number.isFinite(Number(v)));
  if (numbers.length === values.length && values.length > 10) {
    // Not an error: class ids are numbers too. A hint for the user who meant a scale.
    log(
      `images: condition "${name}" holds ${values.length} distinct numbers; list it in ` +
        `preprocess.numeric if they are a scale (close = nearer value)`,
    );
  }
  return { kind: "categorical", name, values, labels };
}

function numericNotion(table: LabelTable, name: string, column: number): NumericNotion {
  const numbers = new Float64Array(table.rows.length);
  const seen = new Set<number>();
  table.rows.forEach((row, i) => {
    const cell = row.cells[column]!;
    if (cell === "") {
      numbers[i] = NaN;
      return;
    }
    const value = Number(cell);
    if (!Number.isFinite(value)) {
      throw new RangeError(
        `Cannot use numeric column "${name}": label file "${table.file}", line ${row.line}, ` +
          `${table.columnLabel(column)} holds "${cell}", expected a number (or an empty cell)`,
      );
    }
    numbers[i] = value;
    seen.add(value);
  });
  if (seen.size < 2) {
    throw new RangeError(
      `Cannot use numeric column "${name}": label file "${table.file}", ` +
        `${table.columnLabel(column)} holds ${
          seen.size === 0 ? "no number" : `one number (${[...seen][0]})`
        } in all ${table.rows.length} rows, expected two or more`,
    );
  }
  return { kind: "numeric", name, numbers };
}
