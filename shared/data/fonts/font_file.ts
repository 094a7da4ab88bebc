/**
 * A typed edge over opentype.js (which ships no types): parse a TTF and read the few things
 * the dataset needs, with errors that name the file.
 */
import opentype from "opentype.js";

/** One outline command in font units (y up), as opentype.js stores them. */
export interface PathCommand {
  readonly type: "M" | "L" | "Q" | "C" | "Z";
  readonly x?: number;
  readonly y?: number;
  readonly x1?: number;
  readonly y1?: number;
  readonly x2?: number;
  readonly y2?: number;
}

/** Bounding box in font units; NaN everywhere for an empty outline. */
export interface Box {
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
}

export interface OtGlyph {
  readonly index: number;
  readonly path: { readonly commands: readonly PathCommand[]; getBoundingBox(): Box };
}

export interface OtFont {
  readonly unitsPerEm: number;
  charToGlyphIndex(c: string): number | null;
  readonly glyphs: { get(index: number): OtGlyph | undefined };
  readonly tables: {
    readonly os2?: { readonly usWeightClass?: number; readonly fsSelection?: number };
    readonly head?: { readonly macStyle?: number };
  };
}

interface OpentypeModule {
  parse(buffer: ArrayBuffer, options?: { lowMemory?: boolean }): OtFont;
}

const ot = opentype as OpentypeModule;

/**
 * Parses TTF bytes. `name` is used in errors only. lowMemory parses glyphs on demand, which
 * made loading the 314 npm fonts 6x faster (1 s instead of 6.5 s) and we only need 62 glyphs.
 */
export function parseFont(bytes: Uint8Array, name: string): OtFont {
  if (bytes.byteLength === 0) {
    throw new SyntaxError(`Cannot parse font file "${name}": the file is empty`);
  }
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  let font: OtFont;
  try {
    font = ot.parse(buffer as ArrayBuffer, { lowMemory: true });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new SyntaxError(`Cannot parse font file "${name}": ${reason}`, { cause: error });
  }
  if (!(font.unitsPerEm > 0)) {
    throw new SyntaxError(
      `Cannot parse font file "${name}": unitsPerEm is ${font.unitsPerEm}, expected > 0`,
    );
  }
  return font;
}

/** Reads and parses a font file; every failure names the path. */
export async function readFontFile(path: string): Promise<OtFont> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Cannot read font file "${path}": ${reason}`, { cause: error });
  }
  return parseFont(bytes, path);
}

/**
 * The glyph for a character, or undefined when the font lacks it: cmap maps it nowhere or to
 * glyph 0 (.notdef), which opentype.js would otherwise silently draw as a box.
 */
export function glyphFor(font: OtFont, char: string): OtGlyph | undefined {
  const index = font.charToGlyphIndex(char);
  if (!index) return undefined;
  return font.glyphs.get(index);
}
