/**
 * The one place the images dataset decodes: image files to size x size RGB, bad files
 * reported (name, reason) rather than thrown. Today the zappos decode pool (JPEG, shorter
 * side then centre crop) in Deno workers.
 */
import { decodeAll } from "../zappos/decode_pool.ts";

export interface ImageFile {
  /** The path as the label file names it. */
  readonly name: string;
  /** Where the file is. */
  readonly path: string;
}

export interface DecodedImages {
  /** files.length * size * size * 3 bytes; a bad file's bytes are zero. */
  readonly pixels: Uint8Array<ArrayBuffer>;
  /** Index into `files` and why each bad file could not be used. */
  readonly bad: readonly {
    readonly index: number;
    readonly name: string;
    readonly reason: string;
  }[];
}

export async function decodeImages(
  files: readonly ImageFile[],
  size: number,
  workers: number,
  log: (message: string) => void,
): Promise<DecodedImages> {
  const items = files.map((f, slot) => ({ slot, name: f.name, path: f.path }));
  const decoded = await decodeAll(items, size, workers, log);
  return {
    pixels: decoded.pixels,
    bad: decoded.bad.map((b) => ({ index: b.slot, name: b.name, reason: b.reason })),
  };
}
