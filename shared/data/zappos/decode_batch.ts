/** Decodes one batch of image files; shared by the worker and the in-process path. */
import { decodeAndResize } from "../image_resize.ts";

export interface DecodeItem {
  /** Slot in the output pixel array. */
  readonly slot: number;
  readonly path: string;
  readonly name: string;
}

export interface DecodeBatchResult {
  /** items.length * size * size * 3 bytes; a bad item's bytes stay zero. */
  readonly pixels: Uint8Array<ArrayBuffer>;
  readonly bad: { slot: number; name: string; reason: string }[];
}

/**
 * Reads and decodes each item. An unreadable or undecodable file is recorded in `bad` with
 * its reason instead of failing the batch: the caller decides whether the count is tolerable.
 */
export async function decodeBatch(
  items: readonly DecodeItem[],
  size: number,
): Promise<DecodeBatchResult> {
  const bytesPerImage = size * size * 3;
  const pixels = new Uint8Array(items.length * bytesPerImage);
  const bad: DecodeBatchResult["bad"] = [];
  // One image at a time: a worker keeps to one core (the decode runs on a native thread).
  for (const [i, item] of items.entries()) {
    let bytes: Uint8Array;
    try {
      bytes = Deno.readFileSync(item.path);
    } catch (error) {
      const reason = error instanceof Deno.errors.NotFound
        ? "missing from the images archive"
        : `cannot be read: ${(error as Error).message}`;
      bad.push({ slot: item.slot, name: item.name, reason });
      continue;
    }
    try {
      pixels.set(await decodeAndResize(bytes, size, item.name), i * bytesPerImage);
    } catch (error) {
      bad.push({ slot: item.slot, name: item.name, reason: (error as Error).message });
    }
  }
  return { pixels, bad };
}
