/**
 * A user's image prepared as the training images were: shorter side resized to the shards'
 * size and the centre square cropped (the resampler preprocess uses for Zappos photos), then
 * gray by luminance (ITU-R BT.601: 0.299 R + 0.587 G + 0.114 B) when the shards have one
 * channel. Fonts runs get exactly the same treatment: their glyphs are light ink (255) on
 * black (0), so an image of dark ink on light paper needs `invert`. Transparent pixels are
 * laid on the dataset's own background first: white for photos (RGB), black for glyphs (gray),
 * or the opposite with `invert`, so that inverting turns the paper into the background.
 */
import { resizeShorterAndCrop } from "../data/resample.ts";
import { decodeImage, type RgbaImage } from "./image_decode.ts";

export interface InputShape {
  readonly size: number;
  readonly channels: 1 | 3;
  /** Invert gray levels after resizing (dark-on-light drawings for light-on-dark glyphs). */
  readonly invert?: boolean;
}

/** size * size * channels bytes (HWC) from a decoded image. */
export function prepareImage(image: RgbaImage, shape: InputShape): Uint8Array {
  const { size, channels } = shape;
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(`Cannot prepare an image: size is ${size}, expected a positive integer`);
  }
  const datasetBackground = channels === 1 ? 0 : 255;
  const background = shape.invert ? 255 - datasetBackground : datasetBackground;
  const pixels = image.width * image.height;
  const rgb = new Uint8Array(pixels * 3);
  for (let p = 0; p < pixels; p++) {
    const alpha = image.rgba[4 * p + 3]! / 255;
    for (let c = 0; c < 3; c++) {
      const value = image.rgba[4 * p + c]! * alpha + background * (1 - alpha);
      rgb[3 * p + c] = Math.round(value);
    }
  }
  const resized = resizeShorterAndCrop(rgb, image.width, image.height, size);
  const out = new Uint8Array(size * size * channels);
  for (let p = 0; p < size * size; p++) {
    const r = resized[3 * p]!, g = resized[3 * p + 1]!, b = resized[3 * p + 2]!;
    if (channels === 1) {
      out[p] = Math.min(255, Math.round(0.299 * r + 0.587 * g + 0.114 * b));
    } else {
      out[3 * p] = r, out[3 * p + 1] = g, out[3 * p + 2] = b;
    }
  }
  if (shape.invert) { for (let i = 0; i < out.length; i++) out[i] = 255 - out[i]!; }
  return out;
}

/** Reads, decodes and prepares an image file; errors name the file. */
export async function loadInputImage(path: string, shape: InputShape): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(`Cannot read image file "${path}": it does not exist`);
    }
    if (error instanceof Deno.errors.IsADirectory) {
      throw new TypeError(
        `Cannot read image file "${path}": it is a directory, expected a PNG or JPEG file`,
      );
    }
    throw error;
  }
  return prepareImage(decodeImage(bytes, path), shape);
}
