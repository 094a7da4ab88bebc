/**
 * The contact sheet of a query: the query image first, then its neighbours nearest first,
 * each captioned (rank, distance, the notion's value). Small images are enlarged by an
 * integer factor (nearest neighbour, so pixels stay visible) until cells are about 128 px:
 * captions need the room, and a 32 px glyph is hard to judge at its own size.
 */
import { contactSheet, type SheetImage } from "../eval/contact_sheet.ts";

/** Most cells per row. */
export const SHEET_COLUMNS = 11;

/** Integer enlargement for images of side `size`. */
export function sheetScale(size: number): number {
  return Math.max(1, Math.round(128 / size));
}

export function enlarge(image: SheetImage, factor: number): SheetImage {
  if (factor === 1) return image;
  const { height, width, channels, pixels } = image;
  const out = new Uint8Array(height * factor * width * factor * channels);
  const rowBytes = width * factor * channels;
  for (let y = 0; y < height * factor; y++) {
    const src = Math.floor(y / factor) * width * channels;
    for (let x = 0; x < width * factor; x++) {
      const s = src + Math.floor(x / factor) * channels;
      for (let c = 0; c < channels; c++) out[y * rowBytes + x * channels + c] = pixels[s + c]!;
    }
  }
  return { height: height * factor, width: width * factor, channels, pixels: out };
}

export interface SheetEntry {
  /** height * width * channels bytes (HWC). */
  readonly pixels: Uint8Array;
  readonly caption: string;
}

/** PNG bytes of the sheet; every entry has the given image shape. */
export function querySheet(
  entries: readonly SheetEntry[],
  shape: { height: number; width: number; channels: 1 | 3 },
): Uint8Array {
  const factor = sheetScale(Math.max(shape.height, shape.width));
  const images = entries.map((entry) => enlarge({ ...shape, pixels: entry.pixels }, factor));
  return contactSheet(
    images,
    Math.min(SHEET_COLUMNS, entries.length),
    entries.map((entry) => entry.caption),
  );
}
