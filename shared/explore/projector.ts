/**
 * TensorBoard Embedding Projector files for a set of embeddings:
 *   tensors.tsv             the full embedding, one row per image, tab-separated;
 *   tensors_<notion>.tsv    each notion's masked subspace: e * m over the dims m keeps (> 0);
 *   metadata.tsv            a header row (name, then one column per notion), then one row per
 *                           image with the notion's value name ("" where unknown); without
 *                           notions just the names, headerless, as the projector expects;
 *   projector_config.pbtxt  one `embeddings { ... }` block per tensor file, all sharing the
 *                           metadata (ProjectorConfig in protobuf text format).
 * `projectorFiles` is pure (file name -> text); `writeProjector` writes them to a folder.
 */
import { join } from "node:path";
import type { Notion } from "../data/dataset.ts";
import { activeDims, checkEmbeddings, checkFinite, rowsOf } from "../eval/masked.ts";

export interface ProjectorInput {
  readonly embeddings: Float32Array;
  readonly d: number;
  /** conditions x d, already ReLU'd; row c is the subspace of `maskNames[c]`. */
  readonly masks: Float32Array;
  /** Name of each mask row; default the notion names (their counts must then agree). */
  readonly maskNames?: readonly string[];
  /** Notions with labels become metadata columns. */
  readonly notions: readonly Notion[];
  readonly labels: Readonly<Record<string, Int32Array>>;
  /** Image names for the first metadata column; default the image index. */
  readonly names?: readonly string[];
}

/** Tabs and line breaks would split a TSV cell; a projector label loses nothing by a space. */
function cell(text: string): string {
  return text.replace(/[\t\r\n]+/g, " ");
}

/** File-name-safe form of a notion name. */
function slug(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]+/g, "_");
}

/** Protobuf text-format string literal. */
function quote(text: string): string {
  return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}

/** Shortest decimal that reads back as the same float32 (the projector parses with Number). */
function number(v: number): string {
  for (let digits = 6; digits < 9; digits++) {
    const text = v.toPrecision(digits);
    if (Math.fround(Number(text)) === v) return String(Number(text));
  }
  return String(v);
}

function tensorTsv(e: Float32Array, d: number, n: number, dims: Int32Array, mask?: Float32Array) {
  const lines: string[] = [];
  const row: string[] = new Array(dims.length);
  for (let i = 0; i < n; i++) {
    dims.forEach((
      k,
      j,
    ) => (row[j] = number(mask ? Math.fround(e[i * d + k]! * mask[k]!) : e[i * d + k]!)));
    lines.push(row.join("\t"));
  }
  return lines.join("\n") + "\n";
}

function metadataTsv(n: number, input: ProjectorInput): string {
  const columns = input.notions.filter((notion) => input.labels[notion.name]);
  for (const notion of columns) {
    const labels = input.labels[notion.name]!;
    if (labels.length !== n) {
      throw new RangeError(
        `Cannot write projector metadata: labels "${notion.name}" have ${labels.length} entries, ` +
          `expected ${n}`,
      );
    }
  }
  if (input.names && input.names.length !== n) {
    throw new RangeError(
      `Cannot write projector metadata: names have ${input.names.length} entries, expected ${n}`,
    );
  }
  // The projector reads a header row only when there are two or more columns.
  const header = [input.names ? "name" : "index", ...columns.map((c) => c.name)];
  const lines = columns.length ? [header.map(cell).join("\t")] : [];
  for (let i = 0; i < n; i++) {
    const row = [input.names ? input.names[i]! : String(i)];
    for (const notion of columns) {
      const label = input.labels[notion.name]![i]!;
      row.push(label < 0 ? "" : notion.values[label] ?? String(label));
    }
    lines.push(row.map(cell).join("\t"));
  }
  return lines.join("\n") + "\n";
}

function configBlock(tensorName: string, tensorPath: string, n: number, dims: number): string {
  return [
    "embeddings {",
    `  tensor_name: ${quote(tensorName)}`,
    `  tensor_shape: ${n}`,
    `  tensor_shape: ${dims}`,
    `  tensor_path: ${quote(tensorPath)}`,
    `  metadata_path: ${quote("metadata.tsv")}`,
    "}",
  ].join("\n");
}

/** The projector files as name -> content, in a stable order. */
export function projectorFiles(input: ProjectorInput): Map<string, string> {
  const { embeddings, d, masks } = input;
  const n = checkEmbeddings(embeddings, d);
  const rows = rowsOf("masks", masks, d);
  checkFinite("masks", masks, d);
  const maskNames = input.maskNames ?? input.notions.map((notion) => notion.name);
  if (maskNames.length !== rows) {
    throw new RangeError(
      `Cannot write projector files: ${maskNames.length} mask names, expected ${rows} ` +
        `(one per mask row)`,
    );
  }
  const files = new Map<string, string>();
  const all = Int32Array.from({ length: d }, (_, k) => k);
  files.set("tensors.tsv", tensorTsv(embeddings, d, n, all));
  const blocks = [configBlock("full", "tensors.tsv", n, d)];
  maskNames.forEach((name, c) => {
    const mask = masks.subarray(c * d, (c + 1) * d).map((m) => Math.max(0, m));
    const dims = activeDims(mask);
    if (dims.length === 0) return; // an empty subspace has nothing to show
    const path = `tensors_${slug(name)}.tsv`;
    if (files.has(path)) {
      throw new RangeError(
        `Cannot write projector files: mask name "${name}" collides with another as file ${path}`,
      );
    }
    files.set(path, tensorTsv(embeddings, d, n, dims, mask));
    blocks.push(configBlock(name, path, n, dims.length));
  });
  files.set("metadata.tsv", metadataTsv(n, input));
  files.set("projector_config.pbtxt", blocks.join("\n") + "\n");
  return files;
}

/** Writes the projector files into `dir` (created if missing); returns the file names. */
export async function writeProjector(dir: string, input: ProjectorInput): Promise<string[]> {
  const files = projectorFiles(input);
  await Deno.mkdir(dir, { recursive: true });
  for (const [name, text] of files) await Deno.writeTextFile(join(dir, name), text);
  return [...files.keys()];
}
