/**
 * A user's image prepared as preprocess prepared the run's training images.
 * - Datasets whose image files preprocess decoded (zappos, images): the very same decoder
 *   (shared/data/decode: EXIF orientation, alpha on white, grey and CMYK to sRGB) with the
 *   size and fit (crop or letterbox) the dataset's facts record.
 * - Datasets preprocess renders (fonts, shapes): the image upright in RGBA, shorter side
 *   resized to the shards' size and the centre square cropped, then gray by luminance (ITU-R
 *   BT.601: 0.299 R + 0.587 G + 0.114 B) when the shards have one channel. Glyphs are light
 *   ink (255) on black (0), so an image of dark ink on light paper needs `invert`.
 *   Transparent pixels are laid on the dataset's own background first: white for RGB, black
 *   for gray, or the opposite with `invert`, so that inverting turns the paper into the
 *   background.
 * `invert` applies to both (after decoding).
 */
import type { DatasetFacts, DecodeFact } from "../artefacts/dataset_facts.ts";
import { ImageDecodeError } from "../data/decode/bad_reason.ts";
import { decodeImage } from "../data/decode/decode_image.ts";
import { resizeShorterAndCrop } from "../data/resample.ts";
import { decodeRgba, imageFormatOf, type RgbaImage } from "./image_decode.ts";

export interface InputShape {
  readonly size: number;
  readonly channels: 1 | 3;
  /** Invert gray levels after resizing (dark-on-light drawings for light-on-dark glyphs). */
  readonly invert?: boolean;
  /** How preprocess decoded the dataset's files; absent where it rendered its images. */
  readonly decode?: DecodeFact;
}

/** What a query needs of a shard set: its image shape and the dataset's facts. */
export interface ShardShape {
  readonly height: number;
  readonly width: number;
  readonly channels: 1 | 3;
  readonly index: { readonly dataset: string; readonly facts?: DatasetFacts };
}

/**
 * The input shape of a shard set. Photos in artefacts written before the facts recorded
 * the decode were all decoded with fit "crop" at the shards' size (the only fit then).
 */
export function inputShapeOf(shards: ShardShape, invert = false): InputShape {
  const { height, width, channels, index } = shards;
  const what = `Cannot prepare images for the shards of dataset "${index.dataset}"`;
  if (height !== width) {
    throw new RangeError(`${what}: they are ${height}x${width}, expected square images`);
  }
  const facts = index.facts;
  const decode: DecodeFact | undefined = facts?.decode ??
    (facts?.photos ? { size: height, fit: "crop" } : undefined);
  if (decode === undefined) return { size: height, channels, invert };
  if (decode.size !== height || channels !== 3) {
    throw new RangeError(
      `${what}: facts.decode.size = ${decode.size} with ${channels} channels, expected the ` +
        `shards' size ${height} and 3 channels`,
    );
  }
  return { size: height, channels, invert, decode };
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

/** An image file's bytes prepared for `shape`; errors read `Cannot read image "name": ...`. */
export async function prepareImageBytes(
  bytes: Uint8Array,
  name: string,
  shape: InputShape,
): Promise<Uint8Array> {
  if (shape.decode === undefined) return prepareImage(await decodeRgba(bytes, name), shape);
  imageFormatOf(bytes, name);
  let pixels: Uint8Array;
  try {
    pixels = await decodeImage(bytes, shape.decode, name);
  } catch (error) {
    if (!(error instanceof ImageDecodeError)) throw error;
    const detail = error.detail ? ` (${error.detail})` : "";
    throw new SyntaxError(`Cannot read image "${name}": ${error.reason}${detail}`);
  }
  if (shape.invert) { for (let i = 0; i < pixels.length; i++) pixels[i] = 255 - pixels[i]!; }
  return pixels;
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
        `Cannot read image file "${path}": it is a directory, expected an image file (JPEG, ` +
          `PNG, WebP, TIFF or AVIF)`,
      );
    }
    throw error;
  }
  return await prepareImageBytes(bytes, path, shape);
}
