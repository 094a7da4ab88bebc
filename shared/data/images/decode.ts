/**
 * The one place the images dataset decodes: image files streamed to a pixel file of
 * size x size RGB slots (EXIF orientation, alpha on white, grey and CMYK to sRGB, crop or
 * letterbox: shared/data/decode), then the unreadable ones cut out of it. Bad files are
 * reported with a stable reason (stored) and the library's detail (logged only).
 */
import { compactSlots, decodeToFile, type Fit } from "../decode/mod.ts";

export interface ImageFile {
  /** The path as the label file names it. */
  readonly name: string;
  /** Where the file is. */
  readonly path: string;
}

export interface BadFile {
  /** Index into the files given. */
  readonly index: number;
  readonly name: string;
  readonly reason: string;
  readonly detail: string;
}

export interface DecodeImagesOptions {
  readonly size: number;
  readonly fit: Fit;
  readonly workers: number;
  readonly log: (message: string) => void;
}

/** Decodes `files` into `pixelFile`, slot i for file i; bad slots hold zeros. */
export async function decodeImages(
  files: readonly ImageFile[],
  pixelFile: string,
  opts: DecodeImagesOptions,
): Promise<BadFile[]> {
  const items = files.map((f, slot) => ({ slot, name: f.name, path: f.path }));
  const { bad } = await decodeToFile(items, pixelFile, { ...opts, label: "images" });
  return bad.map((b) => ({ index: b.slot, name: b.name, reason: b.reason, detail: b.detail }));
}

/** Cuts the slots of `drop` out of `pixelFile` (count slots), keeping the order. */
export async function dropSlots(
  pixelFile: string,
  count: number,
  size: number,
  drop: ReadonlySet<number>,
): Promise<void> {
  await compactSlots(pixelFile, count, size * size * 3, drop);
}
