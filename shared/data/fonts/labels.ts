/**
 * The fonts dataset's notions and how a font file's labels are read from its tables.
 * Pure functions of table values, so they are easy to test on their own.
 */
import type { OtFont } from "./font_file.ts";

/** The 62 characters, in label-id order. */
export const CHARACTERS: readonly string[] = [
  ..."ABCDEFGHIJKLMNOPQRSTUVWXYZ",
  ..."abcdefghijklmnopqrstuvwxyz",
  ..."0123456789",
];

export const WEIGHTS = ["light", "regular", "bold"] as const;
export type Weight = typeof WEIGHTS[number];

export const SLANTS = ["upright", "italic"] as const;
export type Slant = typeof SLANTS[number];

/** Notion names in condition order: the triplet condition id is the index here. */
export const NOTION_NAMES = ["character", "family", "weight", "slant"] as const;
export type NotionName = typeof NOTION_NAMES[number];

/**
 * OS/2 usWeightClass to a bucket: light <= 300 (Thin/ExtraLight files report 250/275),
 * regular 400-500, bold >= 600. Off-grid values go to the nearest bucket (split at 350 and
 * 550). Undefined for values outside the OpenType range 1-1000.
 */
export function weightBucket(usWeightClass: number | undefined): Weight | undefined {
  if (usWeightClass === undefined || !(usWeightClass >= 1 && usWeightClass <= 1000)) {
    return undefined;
  }
  if (usWeightClass < 350) return "light";
  if (usWeightClass < 550) return "regular";
  return "bold";
}

const FS_ITALIC = 1 << 0;
const FS_OBLIQUE = 1 << 9;
const MAC_ITALIC = 1 << 1;

/**
 * Italic when OS/2 fsSelection has its italic or oblique bit, or head.macStyle its italic
 * bit. Deliberately not the post table's italic angle: Roboto's italics leave it at 0.
 * Undefined when the font has neither table.
 */
export function slantOf(
  fsSelection: number | undefined,
  macStyle: number | undefined,
): Slant | undefined {
  if (fsSelection === undefined && macStyle === undefined) return undefined;
  const italic = ((fsSelection ?? 0) & (FS_ITALIC | FS_OBLIQUE)) !== 0 ||
    ((macStyle ?? 0) & MAC_ITALIC) !== 0;
  return italic ? "italic" : "upright";
}

export interface FontStyle {
  readonly weightClass: number | undefined;
  readonly weight: Weight | undefined;
  readonly slant: Slant | undefined;
}

export function fontStyle(font: OtFont): FontStyle {
  const weightClass = font.tables.os2?.usWeightClass;
  return {
    weightClass,
    weight: weightBucket(weightClass),
    slant: slantOf(font.tables.os2?.fsSelection, font.tables.head?.macStyle),
  };
}
