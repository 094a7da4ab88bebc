/** Image bytes to the network's input size: decode, shorter side to `size`, centre crop. */
import { decodeJpegSharp } from "./jpeg_sharp.ts";
import { resizeShorterAndCrop } from "./resample.ts";

/**
 * Decodes a JPEG (sharp) and returns size*size*3 RGB bytes (HWC): shorter side scaled to
 * `size` with csn's own filter (area averaging when shrinking, bilinear when enlarging), then
 * the centre size x size. Rejects with a SyntaxError naming `name` for empty, truncated or
 * non-JPEG data.
 */
export async function decodeAndResize(
  bytes: Uint8Array,
  size: number,
  name: string,
): Promise<Uint8Array> {
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(
      `Cannot decode and resize "${name}": size = ${size}, expected a positive integer`,
    );
  }
  const image = await decodeJpegSharp(bytes, name);
  return resizeShorterAndCrop(image.rgb, image.width, image.height, size);
}
