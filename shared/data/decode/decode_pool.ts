/**
 * Decodes many images in Deno workers (one decoder per core) or in process when `workers`
 * is 1. Batches of consecutive slots are handed out on demand, one per worker at a time, so
 * a slow batch never idles the others and at most `workers` batches are in memory at once.
 *   decodeToFile: each batch is written at its slots in a pre-sized pixel file as it
 *                 finishes (bounded memory, any dataset size);
 *   decodeAll:    the same into one array in memory (small sets: tests, queries).
 */
import {
  type BadImage,
  decodeBatch,
  type DecodeBatchResult,
  type DecodeItem,
} from "./decode_batch.ts";
import { checkDecodeOptions, type DecodeOptions } from "./fit.ts";
import type { DecodeRequest } from "./decode_worker.ts";
import { presizeFile, writeAt } from "./slot_file.ts";

export interface DecodePoolOptions extends DecodeOptions {
  /** Decode workers (one per core is best); 1 decodes in this thread. */
  readonly workers: number;
  readonly log: (message: string) => void;
  /** Prefix of progress lines, e.g. the dataset's name. */
  readonly label?: string;
}

export interface DecodeToFileResult {
  /** Unreadable images in slot order; their slots in the file hold zeros. */
  readonly bad: BadImage[];
}

const MAX_BATCH = 64;
const LOG_EVERY_MS = 10_000;

/** Decodes `items` (slot i at index i) into `file`: items.length * size * size * 3 bytes. */
export async function decodeToFile(
  items: readonly DecodeItem[],
  file: string,
  opts: DecodePoolOptions,
): Promise<DecodeToFileResult> {
  checkPool(items, opts);
  const bytesPerImage = opts.size * opts.size * 3;
  await presizeFile(file, items.length * bytesPerImage);
  const bad: BadImage[] = [];
  await runBatches(items, opts, file, (_batch, result) => bad.push(...result.bad));
  return { bad: bad.sort((a, b) => a.slot - b.slot) };
}

/** Decodes `items` into memory: items.length * size * size * 3 bytes, slot after slot. */
export async function decodeAll(
  items: readonly DecodeItem[],
  opts: DecodePoolOptions,
): Promise<DecodeBatchResult> {
  checkPool(items, opts);
  const bytesPerImage = opts.size * opts.size * 3;
  const pixels = new Uint8Array(items.length * bytesPerImage);
  const bad: BadImage[] = [];
  await runBatches(items, opts, undefined, (batch, result) => {
    pixels.set(result.pixels!, batch[0]!.slot * bytesPerImage);
    bad.push(...result.bad);
  });
  return { pixels, bad: bad.sort((a, b) => a.slot - b.slot) };
}

function checkPool(items: readonly DecodeItem[], opts: DecodePoolOptions): void {
  checkDecodeOptions(opts, "decode images");
  if (!Number.isInteger(opts.workers) || opts.workers < 1) {
    throw new RangeError(
      `Cannot decode images: workers = ${opts.workers}, expected a positive integer`,
    );
  }
  items.forEach((item, i) => {
    if (item.slot !== i) {
      throw new RangeError(`Cannot decode images: item ${i} has slot ${item.slot}, expected ${i}`);
    }
  });
}

type Accept = (
  batch: readonly DecodeItem[],
  result: { pixels?: Uint8Array; bad: BadImage[] },
) => void;

async function runBatches(
  items: readonly DecodeItem[],
  opts: DecodePoolOptions,
  file: string | undefined,
  accept: Accept,
): Promise<void> {
  const { workers, log } = opts;
  const label = opts.label === undefined ? "" : `${opts.label}: `;
  const decode: DecodeOptions = { size: opts.size, fit: opts.fit };
  const batches: DecodeItem[][] = [];
  // About eight batches per worker at least, so small jobs still spread over the workers.
  const batchSize = Math.max(1, Math.min(MAX_BATCH, Math.ceil(items.length / (workers * 8))));
  for (let i = 0; i < items.length; i += batchSize) batches.push(items.slice(i, i + batchSize));
  const started = performance.now();
  let done = 0, bad = 0;
  let nextLog = started + LOG_EVERY_MS;
  const counted: Accept = (batch, result) => {
    accept(batch, result);
    done += batch.length;
    bad += result.bad.length;
    if (performance.now() >= nextLog) {
      nextLog = performance.now() + LOG_EVERY_MS;
      const rate = done / ((performance.now() - started) / 1000);
      log(`${label}decoded ${done}/${items.length} images (${rate.toFixed(0)}/s)`);
    }
  };
  const count = Math.min(workers, batches.length);
  if (count <= 1) {
    const handle = file === undefined ? undefined : await Deno.open(file, { write: true });
    try {
      for (const batch of batches) {
        const result = await decodeBatch(batch, decode);
        if (handle === undefined) counted(batch, result);
        else {
          writeAt(handle, batch[0]!.slot * decode.size * decode.size * 3, result.pixels);
          counted(batch, { bad: result.bad });
        }
      }
    } finally {
      handle?.close();
    }
  } else {
    await runInWorkers(batches, decode, file, count, counted);
  }
  const seconds = (performance.now() - started) / 1000;
  log(
    `${label}decoded ${items.length} images in ${seconds.toFixed(1)} s with ` +
      `${Math.max(1, count)} worker(s), ${bad} unreadable`,
  );
}

async function runInWorkers(
  batches: readonly DecodeItem[][],
  opts: DecodeOptions,
  file: string | undefined,
  count: number,
  accept: Accept,
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
          const request: DecodeRequest = {
            id: current,
            opts,
            items: batches[current]!,
            ...(file === undefined ? {} : { file }),
          };
          worker.postMessage(request);
        };
        worker.onmessage = (
          event: MessageEvent<{ id: number; pixels?: Uint8Array; bad: BadImage[] }>,
        ) => {
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
