/**
 * Opens a shard set written by writer.ts: parses index.json, checks every shard file's size
 * (and, with verify "full", its sha256), and loads the small tables (labels, triplets).
 * Image records stay on disk; read them through `records()` or batches.ts.
 */
import { createHash } from "node:crypto";
import { open, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { type Notion, type Split, SPLITS } from "../dataset.ts";
import { parseShardIndex, type ShardIndex, shardIndex } from "../../artefacts/shard_index.ts";
import { readInt32File } from "./int32_file.ts";
import { DEFAULT_MAX_CACHED_SHARDS, RecordReader } from "./record_reader.ts";
import { checkLabels, checkNotionName, checkTriplets } from "./validate.ts";

export interface OpenShardsOptions {
  /** "size" (default) checks file sizes; "full" also rehashes every shard (slow). */
  verify?: "full" | "size";
}

export interface ShardSet {
  readonly dir: string;
  readonly index: ShardIndex;
  readonly height: number;
  readonly width: number;
  readonly channels: 1 | 3;
  readonly recordBytes: number;
  readonly count: number;
  readonly notions: readonly Notion[];
  readonly labels: Readonly<Record<string, Int32Array>>;
  readonly triplets: Readonly<Record<Split, Int32Array>>;
  /** Image source names (read on demand: they can be megabytes). */
  names(): Promise<string[]>;
  /** A record reader keeping at most `maxOpen` shard files open; close it when done. */
  records(maxOpen?: number): RecordReader;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  const handle = await open(path, "r");
  try {
    const chunk = new Uint8Array(8 << 20);
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      hash.update(chunk.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
  return hash.digest("hex");
}

export async function openShards(dir: string, options: OpenShardsOptions = {}): Promise<ShardSet> {
  const verify = options.verify ?? "size";
  const indexFile = join(dir, shardIndex.file);
  const index = parseShardIndex(await readFile(indexFile, "utf8"), indexFile);

  for (const s of index.shards) {
    const path = join(dir, s.file);
    const size = (await stat(path)).size;
    if (size !== s.bytes) {
      throw new RangeError(
        `Cannot open shard "${path}": it has ${size} bytes, index.json says ${s.bytes}`,
      );
    }
    if (verify === "full") {
      const actual = await sha256File(path);
      if (actual !== s.sha256) {
        throw new Error(
          `Cannot open shard "${path}": checksum mismatch, its sha256 is ${actual}, index.json ` +
            `expects ${s.sha256}`,
        );
      }
    }
  }

  const labels: Record<string, Int32Array> = {};
  for (const [name, ref] of Object.entries(index.labels)) {
    checkNotionName(name, indexFile);
    const notion = index.notions.find((n) => n.name === name);
    if (notion === undefined) {
      throw new RangeError(
        `Cannot read shard index "${indexFile}": labels.${name} is not a notion`,
      );
    }
    const path = join(dir, ref.file);
    labels[name] = await readInt32File(path, index.count);
    checkLabels(labels[name], notion.values.length, path);
  }
  const triplets = {} as Record<Split, Int32Array>;
  for (const split of SPLITS) {
    const ref = index.triplets[split];
    const path = join(dir, ref.file);
    triplets[split] = await readInt32File(path, ref.count * 4);
    checkTriplets(triplets[split], index.count, index.notions.length, path);
  }

  const [height, width, channels] = index.shape;
  return {
    dir,
    index,
    height,
    width,
    channels,
    recordBytes: index.record_bytes,
    count: index.count,
    notions: index.notions,
    labels,
    triplets,
    async names() {
      const path = join(dir, index.names.file);
      let names: unknown;
      try {
        names = JSON.parse(await readFile(path, "utf8"));
      } catch (e) {
        throw new SyntaxError(`Cannot parse names file "${path}": ${(e as Error).message}`);
      }
      if (
        !Array.isArray(names) || names.length !== index.count ||
        !names.every((n) => typeof n === "string")
      ) {
        throw new SyntaxError(
          `Cannot read names file "${path}": expected a JSON array of ${index.count} strings`,
        );
      }
      return names as string[];
    },
    records: (maxOpen = DEFAULT_MAX_CACHED_SHARDS) => new RecordReader(dir, index, maxOpen),
  };
}
