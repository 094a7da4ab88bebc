/** JPEG to packed RGB through jpeg-js (pure JS: runs the same in workers and on any host). */
import jpeg from "jpeg-js";

export interface RgbImage {
  readonly width: number;
  readonly height: number;
  /** width * height * 3 bytes, row after row. */
  readonly rgb: Uint8Array;
}

/**
 * Decodes `bytes` (grey, YCbCr or CMYK JPEG) to RGB. Throws a SyntaxError naming `name` for
 * empty, non-JPEG, truncated or corrupt data: strict decoding, so a damaged file is reported
 * rather than silently decoded to grey blocks.
 */
export function decodeJpeg(bytes: Uint8Array, name: string): RgbImage {
  const fail = (why: string) => new SyntaxError(`Cannot decode image "${name}": ${why}`);
  if (bytes.length === 0) throw fail("the file is empty");
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) {
    const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, "0"));
    throw fail(`not a JPEG (starts with bytes ${head.join(" ")}, expected ff d8)`);
  }
  let image: { width: number; height: number; data: Uint8Array };
  try {
    image = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      tolerantDecoding: false,
      maxResolutionInMP: 50,
      maxMemoryUsageInMB: 256,
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw fail(`JPEG data is truncated or corrupt (${message})`);
  }
  if (image.width <= 0 || image.height <= 0) {
    throw fail(`the image has no pixels (${image.width}x${image.height})`);
  }
  return { width: image.width, height: image.height, rgb: image.data };
}
