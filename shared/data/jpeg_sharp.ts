/**
 * JPEG to packed RGB through sharp (libvips with libjpeg-turbo, shipped inside its npm
 * packages): the preprocess decoder. Strict like the jpeg-js path (shared/data/jpeg_decode.ts,
 * kept for queries): a truncated or corrupt file is an error naming it, never grey blocks.
 */
import sharp from "sharp";
import type { RgbImage } from "./jpeg_decode.ts";

// One libvips thread per image: preprocess parallelises with one Deno worker per core, so a
// worker's figure stays a per-core figure.
sharp.concurrency(1);
// Each file is decoded once: libvips' operation cache would only hold memory.
sharp.cache(false);

/** Decodes `bytes` (grey, YCbCr or CMYK JPEG) to sRGB; a SyntaxError naming `name` if bad. */
export async function decodeJpegSharp(bytes: Uint8Array, name: string): Promise<RgbImage> {
  const fail = (why: string) => new SyntaxError(`Cannot decode image "${name}": ${why}`);
  if (bytes.length === 0) throw fail("the file is empty");
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) {
    const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, "0"));
    throw fail(`not a JPEG (starts with bytes ${head.join(" ")}, expected ff d8)`);
  }
  let result: { data: Uint8Array; info: { width: number; height: number; channels: number } };
  try {
    // failOn "truncated": a missing end of image fails, a harmless warning does not.
    result = await sharp(bytes, {
      failOn: "truncated",
      sequentialRead: true,
      limitInputPixels: 50e6,
    })
      .toColourspace("srgb")
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw fail(`JPEG data is truncated or corrupt (${message.trim()})`);
  }
  const { width, height, channels } = result.info;
  if (width <= 0 || height <= 0) throw fail(`the image has no pixels (${width}x${height})`);
  if (channels !== 3) throw fail(`decoded to ${channels} channels, expected 3`);
  const rgb = new Uint8Array(result.data.buffer, result.data.byteOffset, result.data.byteLength);
  return { width, height, rgb };
}
