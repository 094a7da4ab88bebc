/**
 * Writes a shard set: images as fixed-size uint8 records in shards/images-NNNNN.rec
 * (records_per_shard each, the last one shorter), plus labels, triplets, names and
 * index.json with each shard's size and sha256. Pixels are copied as they are; any
 * normalisation happens at read time.
 */
import { createHash } from "node:crypto";
import { mkdir, open, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { DecodedDataset } from "../dataset.ts";
import { SPLITS } from "../dataset.ts";
import { writeInt32File } from "./int32_file.ts";
import {
  SHARD_FORMAT,
  type ShardEntry,
  type ShardIndex,
  shardIndex,
} from "../../artefacts/shard_index.ts";
import { checkNotionName } from "./validate.ts";

export const DEFAULT_RECORDS_PER_SHARD = 4096;

/** Where records come from: memory (a DecodedDataset) or a file (images.u8). */
export interface RecordSource {
  /** `count` records starting at record `first`, back to back. */
  read(first: number, count: number): Promise<Uint8Array>;
}

export type ShardSourceMeta = Omit<DecodedDataset, "pixels" | "report">;

export function memoryRecordSource(pixels: Uint8Array, recordBytes: number): RecordSource {
  return {
    read: (first, count) =>
      Promise.resolve(pixels.subarray(first * recordBytes, (first + count) * recordBytes)),
  };
}

/** Reads records from a raw file at offsets; call `close` when done. */
export async function fileRecordSource(
  path: string,
  recordBytes: number,
): Promise<RecordSource & { close(): Promise<void> }> {
  const handle = await open(path, "r");
  return {
    async read(first, count) {
      const out = new Uint8Array(count * recordBytes);
      let done = 0;
      while (done < out.length) {
        const { bytesRead } = await handle.read(
          out,
          done,
          out.length - done,
          first * recordBytes + done,
        );
        if (bytesRead === 0) {
          throw new RangeError(
            `Cannot read records ${first}..${first + count} from "${path}": file ends early`,
          );
        }
        done += bytesRead;
      }
      return out;
    },
    close: () => handle.close(),
  };
}

export function shardFileName(i: number): string {
  return `shards/images-${String(i).padStart(5, "0")}.rec`;
}

export interface WriteShardsOptions {
  recordsPerShard?: number;
  log?: (message: string) => void;
}

/** Largest chunk copied at once, so memory stays bounded whatever the shard size. */
const CHUNK_BYTES = 16 << 20;

export async function writeShards(
  source: RecordSource,
  meta: ShardSourceMeta,
  dir: string,
  options: WriteShardsOptions = {},
): Promise<ShardIndex> {
  const perShard = options.recordsPerShard ?? DEFAULT_RECORDS_PER_SHARD;
  if (!Number.isInteger(perShard) || perShard < 1) {
    throw new RangeError(
      `Cannot write shards: records_per_shard = ${perShard}, expected a positive integer`,
    );
  }
  const recordBytes = meta.height * meta.width * meta.channels;
  const count = meta.names.length;
  await mkdir(join(dir, "shards"), { recursive: true });
  await mkdir(join(dir, "labels"), { recursive: true });
  await mkdir(join(dir, "triplets"), { recursive: true });

  const chunkRecords = Math.max(1, Math.floor(CHUNK_BYTES / recordBytes));
  const shards: ShardEntry[] = [];
  for (let first = 0, i = 0; first < count; first += perShard, i++) {
    const n = Math.min(perShard, count - first);
    const file = shardFileName(i);
    const hash = createHash("sha256");
    const handle = await open(join(dir, file), "w");
    try {
      for (let r = first; r < first + n; r += chunkRecords) {
        const bytes = await source.read(r, Math.min(chunkRecords, first + n - r));
        hash.update(bytes);
        await handle.write(bytes);
      }
    } finally {
      await handle.close();
    }
    shards.push({ file, first, count: n, bytes: n * recordBytes, sha256: hash.digest("hex") });
    options.log?.(`wrote ${file} (${n} records)`);
  }

  const labels: ShardIndex["labels"] = {};
  for (const name of Object.keys(meta.labels).sort()) {
    checkNotionName(name, "labels");
    const file = `labels/${name}.i32`;
    await writeInt32File(join(dir, file), meta.labels[name]!);
    labels[name] = { file, count: meta.labels[name]!.length };
  }
  const triplets = {} as ShardIndex["triplets"];
  for (const split of SPLITS) {
    const file = `triplets/${split}.i32`;
    await writeInt32File(join(dir, file), meta.triplets[split]);
    triplets[split] = { file, count: meta.triplets[split].length / 4 };
  }
  await writeFile(join(dir, "names.json"), JSON.stringify(meta.names) + "\n");

  const index: ShardIndex = {
    format: SHARD_FORMAT,
    dataset: meta.dataset,
    ...(meta.facts === undefined ? {} : { facts: meta.facts }),
    shape: [meta.height, meta.width, meta.channels],
    dtype: "uint8",
    record_bytes: recordBytes,
    count,
    records_per_shard: perShard,
    shards,
    notions: meta.notions.map((n) => ({ name: n.name, values: [...n.values] })),
    labels,
    names: { file: "names.json", count },
    triplets,
  };
  await shardIndex.write(dir, index);
  return index;
}
