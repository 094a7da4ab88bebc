/**
 * Streaming batches from a shard set, normalised at read time.
 * - tripletBatches: one epoch of a split in a seeded shuffled order (same seed + epoch ->
 *   same order), each image flipped left-right with a seeded coin when `flip`, resumable
 *   at any batch (`startBatch`) with exactly the batches an uninterrupted epoch would give.
 * - imageBatches: every image once, in order (for embedding everything at evaluation).
 * Memory: the batch being built plus at most `maxCachedShards` open shard files.
 */
import type { Split } from "../dataset.ts";
import { normalisationTable, normaliseImage } from "./normalise.ts";
import { epochOrder, fixedSubset, flipBits, selectTriplets } from "./order.ts";
import type { RecordReader } from "./record_reader.ts";
import type { ShardSet } from "./reader.ts";

export interface TripletBatchOptions {
  split: Split;
  batchSize: number;
  seed: number;
  epoch: number;
  /** Random horizontal flip per image (training on photos; off for glyphs). */
  flip: boolean;
  mean: readonly number[];
  std: readonly number[];
  /** Keep only triplets of these condition ids (all when absent). */
  conditions?: readonly number[];
  /** Use only a fixed seeded subset of this many triplets, the same every epoch. */
  limit?: number;
  /** Shard files kept open at once (default 4); ignored when `records` is given. */
  maxCachedShards?: number;
  /** First batch to produce (resume); batches before it are skipped without reading. */
  startBatch?: number;
  /** Drop a last batch smaller than batchSize (default false). */
  dropLast?: boolean;
  /** Shuffle (default true); false keeps file order, e.g. for evaluation. */
  shuffle?: boolean;
  /** A reader to use (and leave open) instead of a private one. */
  records?: RecordReader;
  /**
   * Fill the same anchor/far/close arrays every batch (valid until the next one is asked
   * for). Saves ~3 x 38 MB of fresh, page-faulting memory per batch at 112x112x3.
   */
  reuseBuffers?: boolean;
}

export interface TripletBatch {
  epoch: number;
  /** Index of this batch within the epoch. */
  batchIndex: number;
  size: number;
  /** size * H * W * C each, HWC per image. */
  anchor: Float32Array;
  far: Float32Array;
  close: Float32Array;
  condition: Int32Array;
  /** Positions of these triplets in the split's triplet table. */
  indices: Int32Array;
}

function checkBatchSize(batchSize: number): void {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(
      `Cannot batch triplets: batchSize = ${batchSize}, expected a positive integer`,
    );
  }
}

/** Number of batches tripletBatches yields for these options (from batch 0). */
export function tripletBatchCount(
  shards: ShardSet,
  options:
    & Pick<TripletBatchOptions, "split" | "batchSize" | "conditions" | "dropLast" | "limit">
    & { seed?: number },
): number {
  checkBatchSize(options.batchSize);
  const selected = selectTriplets(shards.triplets[options.split], options.conditions);
  const n = fixedSubset(selected, options.seed ?? 0, options.limit).length;
  return options.dropLast ? Math.floor(n / options.batchSize) : Math.ceil(n / options.batchSize);
}

export async function* tripletBatches(
  shards: ShardSet,
  options: TripletBatchOptions,
): AsyncGenerator<TripletBatch> {
  const { batchSize, seed, epoch } = options;
  checkBatchSize(batchSize);
  const startBatch = options.startBatch ?? 0;
  if (!Number.isInteger(startBatch) || startBatch < 0) {
    throw new RangeError(
      `Cannot batch triplets: startBatch = ${startBatch}, expected a non-negative integer`,
    );
  }
  const lut = normalisationTable(options.mean, options.std, shards.channels);
  const table = shards.triplets[options.split];
  const selected = fixedSubset(selectTriplets(table, options.conditions), seed, options.limit);
  const order = options.shuffle === false ? selected : epochOrder(selected, seed, epoch);
  const { height: h, width: w, channels: c, recordBytes } = shards;
  const pixels = h * w * c;
  const batches = options.dropLast
    ? Math.floor(order.length / batchSize)
    : Math.ceil(order.length / batchSize);

  const reader = options.records ?? shards.records(options.maxCachedShards);
  // Raw bytes never leave this function, so one buffer serves every batch.
  const raw = new Uint8Array(3 * Math.min(batchSize, order.length) * recordBytes);
  const shared = options.reuseBuffers
    ? [0, 1, 2].map(() => new Float32Array(batchSize * pixels))
    : undefined;
  try {
    for (let b = startBatch; b < batches; b++) {
      const start = b * batchSize;
      const size = Math.min(batchSize, order.length - start);
      const indices = order.slice(start, start + size);
      // ids: anchors, then fars, then closes; read together so each shard opens once.
      const ids = new Int32Array(3 * size);
      const condition = new Int32Array(size);
      for (let i = 0; i < size; i++) {
        const t = indices[i]! * 4;
        ids[i] = table[t]!;
        ids[size + i] = table[t + 1]!;
        ids[2 * size + i] = table[t + 2]!;
        condition[i] = table[t + 3]!;
      }
      reader.readInto(ids, raw);
      const out = shared?.map((a) => a.subarray(0, size * pixels)) ??
        [0, 1, 2].map(() => new Float32Array(size * pixels));
      for (let i = 0; i < size; i++) {
        const bits = options.flip ? flipBits(seed, epoch, start + i) : 0;
        for (let role = 0; role < 3; role++) {
          normaliseImage(
            raw,
            (role * size + i) * recordBytes,
            out[role]!,
            i * pixels,
            h,
            w,
            c,
            lut,
            ((bits >> role) & 1) === 1,
          );
        }
      }
      yield {
        epoch,
        batchIndex: b,
        size,
        anchor: out[0]!,
        far: out[1]!,
        close: out[2]!,
        condition,
        indices,
      };
    }
  } finally {
    if (options.records === undefined) reader.close();
  }
}

export interface ImageBatchOptions {
  batchSize: number;
  mean: readonly number[];
  std: readonly number[];
  maxCachedShards?: number;
  /** Fill the same `images` array every batch (valid until the next one is asked for). */
  reuseBuffers?: boolean;
}

export interface ImageBatch {
  /** Index of the first image in this batch. */
  first: number;
  size: number;
  images: Float32Array;
}

/** Every image once, in index order, normalised, never flipped. */
export async function* imageBatches(
  shards: ShardSet,
  options: ImageBatchOptions,
): AsyncGenerator<ImageBatch> {
  checkBatchSize(options.batchSize);
  const lut = normalisationTable(options.mean, options.std, shards.channels);
  const { height: h, width: w, channels: c, recordBytes, count } = shards;
  const reader = shards.records(options.maxCachedShards);
  const raw = new Uint8Array(Math.min(options.batchSize, count) * recordBytes);
  const shared = options.reuseBuffers ? new Float32Array(options.batchSize * h * w * c) : undefined;
  try {
    for (let first = 0; first < count; first += options.batchSize) {
      const size = Math.min(options.batchSize, count - first);
      const ids = Int32Array.from({ length: size }, (_, i) => first + i);
      reader.readInto(ids, raw);
      const images = shared?.subarray(0, size * h * w * c) ?? new Float32Array(size * h * w * c);
      for (let i = 0; i < size; i++) {
        normaliseImage(raw, i * recordBytes, images, i * h * w * c, h, w, c, lut, false);
      }
      yield { first, size, images };
    }
  } finally {
    reader.close();
  }
}
