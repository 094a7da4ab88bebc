/** Image bytes to the network's input size: decode, shorter side to `size`, centre crop. */
import { decodeJpeg } from "./jpeg_decode.ts";
import { resizeShorterAndCrop } from "./resample.ts";

/**
 * Decodes a JPEG and returns size*size*3 RGB bytes (HWC): shorter side scaled to `size`
 * (area averaging when shrinking, bilinear when enlarging), then the centre size x size.
 * Throws a SyntaxError naming `name` for empty, truncated or non-JPEG data.
 */
export function decodeAndResize(bytes: Uint8Array, size: number, name: string): Uint8Array {
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(`decodeAndResize: size must be a positive integer, got ${size}`);
  }
  const image = decodeJpeg(bytes, name);
  return resizeShorterAndCrop(image.rgb, image.width, image.height, size);
}
