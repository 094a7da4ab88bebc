/**
 * A user's image file (PNG or JPEG, told apart by their signatures, not the file name) to
 * 8-bit RGBA. PNG through fast-png: every colour type and bit depth (1-16 bits, palettes,
 * gray, gray+alpha, RGB, RGBA; 16-bit samples keep their high byte). JPEG through jpeg-js.
 */
import { convertIndexedToRgb, decode as decodePng, type DecodedPng } from "fast-png";
import { decodeJpeg } from "../data/jpeg_decode.ts";

export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  /** width * height * 4 bytes, row after row, alpha last (255 = opaque). */
  readonly rgba: Uint8Array;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function isPng(bytes: Uint8Array): boolean {
  return PNG_SIGNATURE.every((b, i) => bytes[i] === b);
}

export function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/** Decodes a PNG or JPEG; a SyntaxError names `name` for anything else or damaged data. */
export function decodeImage(bytes: Uint8Array, name: string): RgbaImage {
  if (bytes.length === 0) throw new SyntaxError(`Cannot read image "${name}": the file is empty`);
  if (isPng(bytes)) return decodePngFile(bytes, name);
  if (isJpeg(bytes)) {
    const { width, height, rgb } = decodeJpeg(bytes, name);
    return { width, height, rgba: expand(rgb, width * height, 3) };
  }
  const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, "0"));
  throw new SyntaxError(
    `Cannot read image "${name}": not a PNG or JPEG file (it starts with bytes ` +
      `${head.join(" ")}; PNG starts 89 50 4e 47, JPEG ff d8 ff)`,
  );
}

function decodePngFile(bytes: Uint8Array, name: string): RgbaImage {
  let png: DecodedPng;
  try {
    png = decodePng(bytes, { checkCrc: true });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new SyntaxError(`Cannot decode image "${name}": PNG data is corrupt (${message})`);
  }
  const { width, height } = png;
  if (width <= 0 || height <= 0) {
    throw new SyntaxError(`Cannot decode image "${name}": no pixels (${width}x${height})`);
  }
  const pixels = width * height;
  if (png.palette) {
    const rgb = convertIndexedToRgb(png);
    return { width, height, rgba: expand(rgb, pixels, rgb.length / pixels) };
  }
  const samples = unpackSamples(png, name);
  return { width, height, rgba: expand(samples, pixels, png.channels) };
}

/** Samples as 8 bits each, one row after another (low bit depths are packed per row). */
function unpackSamples(png: DecodedPng, name: string): Uint8Array {
  const { width, height, channels, depth, data } = png;
  if (depth === 8) return data as Uint8Array;
  if (depth === 16) return Uint8Array.from(data as Uint16Array, (v) => v >> 8);
  if (channels !== 1) {
    throw new SyntaxError(
      `Cannot decode image "${name}": ${depth}-bit samples with ${channels} channels`,
    );
  }
  const out = new Uint8Array(width * height);
  const rowBytes = Math.ceil((width * depth) / 8);
  const max = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const bit = x * depth;
      const byte = data[y * rowBytes + (bit >> 3)]!;
      const value = (byte >> (8 - depth - (bit & 7))) & max;
      out[y * width + x] = Math.round((value * 255) / max);
    }
  }
  return out;
}

/** 1 (gray), 2 (gray+alpha), 3 (RGB) or 4 (RGBA) samples per pixel -> RGBA. */
function expand(samples: Uint8Array, pixels: number, channels: number): Uint8Array {
  if (channels === 4) return samples.slice(0, pixels * 4);
  const out = new Uint8Array(pixels * 4);
  for (let p = 0; p < pixels; p++) {
    const s = p * channels, o = p * 4;
    const gray = channels <= 2;
    out[o] = samples[s]!;
    out[o + 1] = samples[gray ? s : s + 1]!;
    out[o + 2] = samples[gray ? s : s + 2]!;
    out[o + 3] = channels === 2 ? samples[s + 1]! : 255;
  }
  return out;
}
