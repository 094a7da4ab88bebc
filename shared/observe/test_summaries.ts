/**
 * What the test stage adds to a series' TensorBoard file beyond its scalars: a histogram of
 * embedding norms and, per labelled notion, a retrieval contact sheet (a few queries, each
 * followed by its nearest test images in that notion's masked subspace, captioned with their
 * label), so a glance at the Images tab shows whether neighbours share the notion's value.
 */
import { nearest } from "../eval/knn.ts";
import { contactSheet, enlarge, type SheetImage, sheetScale } from "../eval/contact_sheet.ts";
import type { ShardSet } from "../data/shards/reader.ts";
import type { SeriesEvents } from "./series_events.ts";

export interface TestEmbeddings {
  /** Image ids of the split, row i of each embedding array. */
  readonly ids: Int32Array;
  /** One [n x d] array per backbone (several for task-specific models). */
  readonly embeddings: Float32Array[];
  /** Masks as used (conditions x d). */
  readonly masks: Float32Array;
  readonly conditionNames: readonly string[];
}

/** Per query row: the query, then this many neighbours. */
const NEIGHBOURS = 7;
const QUERIES = 4;

/** L2 norm of every row of an [n x d] array. */
export function rowNorms(embeddings: Float32Array, d: number): Float64Array {
  const n = embeddings.length / d;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += embeddings[i * d + k]! ** 2;
    out[i] = Math.sqrt(s);
  }
  return out;
}

/** Width, height and channel count (1 gray, 3 RGB) from a PNG's IHDR chunk. */
export function pngSize(png: Uint8Array): { width: number; height: number; channels: number } {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const colorType = png[25];
  return {
    width: view.getUint32(16),
    height: view.getUint32(20),
    channels: colorType === 0 ? 1 : colorType === 2 ? 3 : colorType === 4 ? 2 : 4,
  };
}

/**
 * Which images one notion's sheet shows: QUERIES queries spread over the labelled test
 * images, each followed by its NEIGHBOURS nearest in the notion's masked subspace, with a
 * caption per image (rank and label value). Undefined when the notion has no labels.
 */
export function retrievalRows(
  shards: Pick<ShardSet, "labels" | "notions">,
  test: TestEmbeddings,
  condition: number,
): { ids: Int32Array; captions: string[] } | undefined {
  const name = test.conditionNames[condition]!;
  const labels = shards.labels[name];
  const notion = shards.notions.find((n) => n.name === name);
  if (!labels || !notion || notion.values.length === 0) return undefined;
  const rows = [...test.ids.keys()].filter((i) => labels[test.ids[i]!]! >= 0);
  if (rows.length < 2) return undefined;
  const d = test.masks.length / test.conditionNames.length;
  const mask = test.masks.subarray(condition * d, (condition + 1) * d);
  const emb = test.embeddings.length === 1 ? test.embeddings[0]! : test.embeddings[condition]!;
  const picked: number[] = [];
  const captions: string[] = [];
  const step = Math.max(1, Math.floor(rows.length / QUERIES));
  for (let q = 0; q < QUERIES && q * step < rows.length; q++) {
    const query = rows[q * step]!;
    const found = nearest(emb, d, mask, emb.subarray(query * d, (query + 1) * d), NEIGHBOURS, [
      query,
    ]);
    for (const [rank, row] of [query, ...found.indices].entries()) {
      picked.push(row);
      const value = notion.values[labels[test.ids[row]!]!] ?? "?";
      captions.push(rank === 0 ? `q ${value}` : `${rank} ${value}`);
    }
  }
  return { ids: Int32Array.from(picked, (row) => test.ids[row]!), captions };
}

/** The sheet of `rows` as PNG bytes, images enlarged for legible captions. */
export function retrievalSheet(
  shape: Pick<ShardSet, "height" | "width" | "channels">,
  rows: { ids: Int32Array; captions: string[] },
  pixels: Uint8Array,
): Uint8Array {
  const { height, width, channels } = shape;
  const factor = sheetScale(Math.max(height, width));
  const size = height * width * channels;
  const images: SheetImage[] = [...rows.ids].map((_, k) =>
    enlarge({ height, width, channels, pixels: pixels.subarray(k * size, (k + 1) * size) }, factor)
  );
  return contactSheet(images, NEIGHBOURS + 1, rows.captions);
}

export async function writeTestSummaries(
  events: SeriesEvents,
  shards: ShardSet,
  test: TestEmbeddings,
  /** The global step of the checkpoint tested (the test line's). */
  step = 0,
): Promise<void> {
  const d = test.masks.length / test.conditionNames.length;
  if (test.ids.length > 0) {
    await events.histogram("test/embed_norms", step, rowNorms(test.embeddings[0]!, d));
  }
  const reader = shards.records();
  try {
    for (let c = 0; c < test.conditionNames.length; c++) {
      const rows = retrievalRows(shards, test, c);
      if (!rows) continue;
      const pixels = new Uint8Array(rows.ids.length * shards.recordBytes);
      reader.readInto(rows.ids, pixels);
      const png = retrievalSheet(shards, rows, pixels);
      await events.image(`retrieval/${test.conditionNames[c]}`, step, png, pngSize(png));
    }
  } finally {
    reader.close();
  }
}
