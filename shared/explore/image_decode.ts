/**
 * A user's image file to upright 8-bit RGBA through sharp (libvips), for the datasets whose
 * images preprocess renders rather than decodes (fonts, shapes): every format preprocess
 * reads (JPEG, PNG, WebP, TIFF, AVIF, told apart by their first bytes, not the file name),
 * EXIF orientation applied, grey and CMYK to sRGB, alpha kept for the caller to lay on the
 * dataset's background. Decoded datasets go through preprocess's own decoder instead.
 */
import sharp from "sharp";
import { type ImageFormat, sniffFormat } from "../data/decode/sniff_format.ts";

export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  /** width * height * 4 bytes, row after row, alpha last (255 = opaque). */
  readonly rgba: Uint8Array;
}

/** The most pixels a query image may decode to (a small file can hold a huge image). */
export const MAX_QUERY_PIXELS = 50e6;

/** The format of `bytes`; a SyntaxError naming `name` for an empty file or another format. */
export function imageFormatOf(bytes: Uint8Array, name: string): ImageFormat {
  if (bytes.length === 0) throw new SyntaxError(`Cannot read image "${name}": the file is empty`);
  const format = sniffFormat(bytes);
  if (format !== undefined) return format;
  const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, "0"));
  throw new SyntaxError(
    `Cannot read image "${name}": not a JPEG, PNG, WebP, TIFF or AVIF file (it starts with ` +
      `bytes ${head.join(" ")})`,
  );
}

/** Decodes any format preprocess reads; a SyntaxError names `name` for damaged data. */
export async function decodeRgba(bytes: Uint8Array, name: string): Promise<RgbaImage> {
  const format = imageFormatOf(bytes, name);
  try {
    const { data, info } = await sharp(bytes, {
      failOn: "error",
      limitInputPixels: MAX_QUERY_PIXELS,
    })
      .rotate()
      .toColourspace("srgb")
      .ensureAlpha()
      .raw({ depth: "uchar" })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 4) throw new Error(`decoded to ${info.channels} channels, expected 4`);
    return { width: info.width, height: info.height, rgba: new Uint8Array(data) };
  } catch (error) {
    const message = error instanceof Error ? error.message.trim() : String(error);
    throw new SyntaxError(`Cannot read image "${name}": ${format} data is unusable (${message})`);
  }
}
