/**
 * The contact sheet of a query: the query image first, then its neighbours nearest first,
 * each captioned (rank, distance, the notion's value), small images enlarged (sheetScale).
 */
import { contactSheet, enlarge, sheetScale } from "../eval/contact_sheet.ts";

/** Most cells per row. */
export const SHEET_COLUMNS = 11;

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
