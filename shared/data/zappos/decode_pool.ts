/**
 * Decodes many images into one pixel array, in Deno workers (one decoder per core) or in
 * process when `workers` is 1. Batches are handed out on demand so a slow batch never idles
 * the other workers.
 */
import { decodeBatch, type DecodeBatchResult, type DecodeItem } from "./decode_batch.ts";

export interface DecodeAllResult {
  /** items.length * size * size * 3 bytes, slot after slot; bad slots are zero. */
  readonly pixels: Uint8Array<ArrayBuffer>;
  readonly bad: DecodeBatchResult["bad"];
}

const MAX_BATCH = 128;

export async function decodeAll(
  items: readonly DecodeItem[],
  size: number,
  workers: number,
  log: (m: string) => void,
): Promise<DecodeAllResult> {
  if (!Number.isInteger(workers) || workers < 1) {
    throw new RangeError(`Cannot decode images: workers = ${workers}, expected a positive integer`);
  }
  const bytesPerImage = size * size * 3;
  const pixels = new Uint8Array(items.length * bytesPerImage);
  const bad: DecodeBatchResult["bad"] = [];
  const batches: DecodeItem[][] = [];
  // About eight batches per worker at least, so small jobs still spread over the workers.
  const batchSize = Math.max(1, Math.min(MAX_BATCH, Math.ceil(items.length / (workers * 8))));
  for (let i = 0; i < items.length; i += batchSize) {
    batches.push(items.slice(i, i + batchSize));
  }
  const started = performance.now();
  let done = 0;
  let nextLog = started + 10_000;
  const accept = (batch: readonly DecodeItem[], result: DecodeBatchResult) => {
    // Slots within a batch are consecutive (items are consecutive slots), so one copy.
    pixels.set(result.pixels, batch[0]!.slot * bytesPerImage);
    bad.push(...result.bad);
    done += batch.length;
    if (performance.now() >= nextLog) {
      nextLog = performance.now() + 10_000;
      const rate = done / ((performance.now() - started) / 1000);
      log(`zappos: decoded ${done}/${items.length} images (${rate.toFixed(0)}/s)`);
    }
  };
  items.forEach((item, i) => {
    if (item.slot !== i) {
      throw new RangeError(`Cannot decode images: item ${i} has slot ${item.slot}, expected ${i}`);
    }
  });
  const count = Math.min(workers, batches.length);
  if (count <= 1) {
    for (const batch of batches) accept(batch, await decodeBatch(batch, size));
  } else {
    await runInWorkers(batches, size, count, accept);
  }
  bad.sort((a, b) => a.slot - b.slot);
  const seconds = (performance.now() - started) / 1000;
  log(
    `zappos: decoded ${items.length} images in ${seconds.toFixed(1)} s with ${
      Math.max(1, count)
    } ` +
      `worker(s), ${bad.length} unreadable`,
  );
  return { pixels, bad };
}

async function runInWorkers(
  batches: readonly DecodeItem[][],
  size: number,
  count: number,
  accept: (batch: readonly DecodeItem[], result: DecodeBatchResult) => void,
): Promise<void> {
  const url = new URL("./decode_worker.ts", import.meta.url).href;
  const pool = Array.from({ length: count }, () => new Worker(url, { type: "module" }));
  let next = 0;
  try {
    await Promise.all(pool.map((worker) =>
      new Promise<void>((resolve, reject) => {
        let current = -1;
        const send = () => {
          if (next >= batches.length) return resolve();
          current = next++;
          worker.postMessage({ id: current, size, items: batches[current] });
        };
        worker.onmessage = (event: MessageEvent<DecodeBatchResult & { id: number }>) => {
          accept(batches[event.data.id]!, event.data);
          send();
        };
        worker.onerror = (event) => {
          event.preventDefault();
          reject(
            new Error(
              `Cannot decode image batch ${current}: the decode worker failed: ${event.message}`,
            ),
          );
        };
        worker.onmessageerror = () => {
          reject(
            new Error(
              `Cannot decode image batch ${current}: the decode worker sent an unreadable message`,
            ),
          );
        };
        send();
      })
    ));
  } finally {
    for (const worker of pool) worker.terminate();
  }
}
