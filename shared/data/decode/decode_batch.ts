/** Decodes one batch of image files; shared by the worker and the in-process path. */
import { type BadReason, ImageDecodeError, readFailureReason } from "./bad_reason.ts";
import { decodeImage } from "./decode_image.ts";
import type { DecodeOptions } from "./fit.ts";

export interface DecodeItem {
  /** Slot in the output: the image's index in the pixel file. */
  readonly slot: number;
  /** The file to read. */
  readonly path: string;
  /** The image's name in the dataset (its path relative to the images root). */
  readonly name: string;
}

/** An image that could not be used. Store `slot`, `name` and `reason`; log `detail`. */
export interface BadImage {
  readonly slot: number;
  readonly name: string;
  /** A stable category (bad_reason.ts): the same bytes always give the same reason. */
  readonly reason: BadReason;
  /** The library's or the OS's message: varies between runs and versions, never stored. */
  readonly detail: string;
}

export interface DecodeBatchResult {
  /** items.length * size * size * 3 bytes; a bad item's bytes stay zero. */
  readonly pixels: Uint8Array<ArrayBuffer>;
  readonly bad: BadImage[];
}

/** Images in flight per batch: 2 measured faster than 1 and 3 (bench/preprocess_bench.ts). */
const INFLIGHT = 2;

/**
 * Reads and decodes each item. An unreadable or undecodable file is recorded in `bad`
 * instead of failing the batch: the caller decides whether the count is tolerable.
 */
export async function decodeBatch(
  items: readonly DecodeItem[],
  opts: DecodeOptions,
): Promise<DecodeBatchResult> {
  const bytesPerImage = opts.size * opts.size * 3;
  const pixels = new Uint8Array(items.length * bytesPerImage);
  const bad: BadImage[] = [];
  const decodeOne = async (i: number) => {
    const item = items[i]!;
    let bytes: Uint8Array;
    try {
      bytes = Deno.readFileSync(item.path);
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      bad.push({ slot: item.slot, name: item.name, reason: readFailureReason(error), detail });
      return;
    }
    try {
      pixels.set(await decodeImage(bytes, opts, item.name), i * bytesPerImage);
    } catch (error) {
      if (!(error instanceof ImageDecodeError)) throw error;
      bad.push({ slot: item.slot, name: item.name, reason: error.reason, detail: error.detail });
    }
  };
  // Two images at a time: libvips works on its own thread, so a second image keeps the
  // core busy while this thread does its share (reading, the JS crop) of the first.
  let next = 0;
  const lane = async () => {
    while (next < items.length) await decodeOne(next++);
  };
  await Promise.all(Array.from({ length: Math.min(INFLIGHT, items.length) }, lane));
  bad.sort((a, b) => a.slot - b.slot);
  return { pixels, bad };
}
