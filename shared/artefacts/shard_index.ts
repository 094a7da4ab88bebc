/**
 * index.json of a shard set (format "csn-shards/1"): image shape, shard files with their
 * record ranges, sizes and sha256, notions, the label, name and triplet files, and the
 * dataset's facts. `facts` came later: an index without it still reads (facts undefined), and
 * what needs a fact says so (train's flip "auto"). Written one space per level, as always.
 */
import { z } from "zod";
import { DatasetFactsSchema } from "./dataset_facts.ts";
import { jsonArtefact } from "./json_artefact.ts";

export const SHARD_FORMAT = "csn-shards/1";

const FileRef = z.object({ file: z.string().min(1), count: z.number().int().nonnegative() });

export const ShardEntry = z.object({
  file: z.string().min(1),
  /** Index of the first image (record) in this shard. */
  first: z.number().int().nonnegative(),
  count: z.number().int().positive(),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type ShardEntry = z.infer<typeof ShardEntry>;

export const ShardIndex = z.object({
  format: z.literal(SHARD_FORMAT),
  dataset: z.string().min(1),
  /** What the dataset's adapter says of its images (e.g. photos: flips are plausible). */
  facts: DatasetFactsSchema.optional(),
  /** [height, width, channels]; one record is one image, HWC, unnormalised. */
  shape: z.tuple([
    z.number().int().positive(),
    z.number().int().positive(),
    z.union([z.literal(1), z.literal(3)]),
  ]),
  dtype: z.literal("uint8"),
  record_bytes: z.number().int().positive(),
  count: z.number().int().nonnegative(),
  records_per_shard: z.number().int().positive(),
  shards: z.array(ShardEntry),
  notions: z.array(z.object({ name: z.string(), values: z.array(z.string()) })),
  /** Per notion with labels: an int32 per image. */
  labels: z.record(z.string(), FileRef),
  /** JSON array of image source names. */
  names: FileRef,
  triplets: z.object({ train: FileRef, val: FileRef, test: FileRef }),
});
export type ShardIndex = z.infer<typeof ShardIndex>;

export const shardIndex = jsonArtefact("index.json", ShardIndex, { indent: 1 });

/** Parses index.json text and checks the parts agree (shape vs record size, shard ranges). */
export function parseShardIndex(text: string, file: string): ShardIndex {
  const index = shardIndex.parse(text, file);
  const [h, w, c] = index.shape;
  if (index.record_bytes !== h * w * c) {
    throw new RangeError(
      `Cannot read shard index "${file}": record_bytes = ${index.record_bytes}, expected ` +
        `shape ${h}x${w}x${c} = ${h * w * c}`,
    );
  }
  let next = 0;
  for (const [i, s] of index.shards.entries()) {
    if (s.first !== next) {
      throw new RangeError(
        `Cannot read shard index "${file}": shards[${i}].first = ${s.first}, expected ${next}`,
      );
    }
    if (s.bytes !== s.count * index.record_bytes) {
      throw new RangeError(
        `Cannot read shard index "${file}": shards[${i}].bytes = ${s.bytes}, expected count * ` +
          `record_bytes = ${s.count * index.record_bytes}`,
      );
    }
    next += s.count;
  }
  if (next !== index.count) {
    throw new RangeError(
      `Cannot read shard index "${file}": shards hold ${next} records, expected count = ${index.count}`,
    );
  }
  if (index.names.count !== index.count) {
    throw new RangeError(
      `Cannot read shard index "${file}": names.count = ${index.names.count}, expected ${index.count}`,
    );
  }
  return index;
}
