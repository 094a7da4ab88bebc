/**
 * The index stage's artefact (format "csn-index/1"): a catalog embedded under one checkpoint.
 * `index.json` names the checkpoint and the images (both artefacts), the notions and masks,
 * and each item's path and labels; `embeddings.f32` holds the embeddings, little-endian
 * float32, one count x d block per network (one network, or one per notion for task-specific
 * models), item i at row i.
 */
import { join } from "node:path";
import { z } from "zod";
import { ArtefactId, Count, MaskKindName, MaskRows, ModelMode } from "./fields.ts";
import { jsonArtefact } from "./json_artefact.ts";

export const INDEX_FORMAT = "csn-index/1";
export const EMBEDDINGS_FILE = "embeddings.f32";

export const IndexItemSchema = z.object({
  /** Shard record id of the image. */
  record: Count,
  /** The image's source path, as the dataset names it. */
  path: z.string(),
  /** Each notion's value for this image; null where the image has no label for it. */
  labels: z.record(z.string(), z.string().nullable()),
});

export const CatalogIndexSchema = z.object({
  format: z.literal(INDEX_FORMAT),
  /** The model artefact and the checkpoint file inside it. */
  model: ArtefactId,
  checkpoint: z.string(),
  /** The shards artefact the images come from. */
  shards: ArtefactId,
  /** Which of the shards' images: one split's (those its triplets use) or all. */
  split: z.enum(["all", "train", "val", "test"]),
  mode: ModelMode,
  masks: MaskKindName,
  d: z.number().int().positive(),
  networks: z.number().int().positive(),
  image: z.object({
    height: z.number().int().positive(),
    width: z.number().int().positive(),
    channels: z.union([z.literal(1), z.literal(3)]),
  }),
  /** The notions the model was trained on, in its condition order, with their values. */
  notions: z.array(z.object({ name: z.string(), values: z.array(z.string()) })),
  /** Masks as used in the forward pass, one row per notion. */
  mask_values: MaskRows,
  count: Count,
  items: z.array(IndexItemSchema),
}).superRefine((index, ctx) => {
  if (index.items.length !== index.count) {
    ctx.addIssue({
      code: "custom",
      path: ["items"],
      message: `holds ${index.items.length} items, expected count ${index.count}`,
    });
  }
  if (index.mask_values.length !== index.notions.length) {
    ctx.addIssue({
      code: "custom",
      path: ["mask_values"],
      message: `has ${index.mask_values.length} rows, expected one per notion ` +
        `(${index.notions.length})`,
    });
  }
});
export type CatalogIndex = z.output<typeof CatalogIndexSchema>;
export type IndexItem = z.output<typeof IndexItemSchema>;

export const catalogIndex = jsonArtefact("index.json", CatalogIndexSchema);

export interface IndexContents {
  readonly header: CatalogIndex;
  /** One count x d array per network. */
  readonly embeddings: Float32Array[];
}

/** Writes index.json and embeddings.f32 into an artefact folder being made. */
export async function writeCatalogIndex(dir: string, contents: IndexContents): Promise<void> {
  const { header, embeddings } = contents;
  const block = header.count * header.d;
  if (embeddings.length !== header.networks || embeddings.some((e) => e.length !== block)) {
    throw new RangeError(
      `Cannot write the index: expected ${header.networks} embedding blocks of ${block} ` +
        `values, got ${embeddings.map((e) => e.length).join(", ")}`,
    );
  }
  await catalogIndex.write(dir, header);
  const bytes = new Uint8Array(embeddings.length * block * 4);
  const view = new DataView(bytes.buffer);
  embeddings.forEach((e, net) => {
    for (let i = 0; i < block; i++) view.setFloat32((net * block + i) * 4, e[i]!, true);
  });
  await Deno.writeFile(join(dir, EMBEDDINGS_FILE), bytes);
}

/** Reads an index artefact folder, checking the embeddings file against the header. */
export async function readCatalogIndex(dir: string): Promise<IndexContents> {
  const header = await catalogIndex.read(dir);
  const path = join(dir, EMBEDDINGS_FILE);
  const bytes = await Deno.readFile(path);
  const block = header.count * header.d;
  if (bytes.length !== header.networks * block * 4) {
    throw new RangeError(
      `Cannot read "${path}": it has ${bytes.length} bytes, expected ${header.networks} x ` +
        `${header.count} items x ${header.d} dims x 4`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const embeddings = Array.from({ length: header.networks }, (_, net) => {
    const out = new Float32Array(block);
    for (let i = 0; i < block; i++) out[i] = view.getFloat32((net * block + i) * 4, true);
    return out;
  });
  return { header, embeddings };
}
