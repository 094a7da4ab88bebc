/**
 * An uploaded image: the body read up to a size limit (413 past it, whatever Content-Length
 * claims), told apart by its signature rather than its Content-Type (415 for anything but
 * JPEG, PNG or WebP), and decoded to RGBA (400 when damaged). PNG and JPEG go through the
 * decoders queries use; WebP through sharp (libvips), loaded on first use. Images over 50
 * megapixels are refused before decoding (a small file can hold a huge image).
 */
import { decodeImage, isJpeg, isPng, type RgbaImage } from "../explore/image_decode.ts";
import { HttpError } from "./http_error.ts";

export type ImageKind = "jpeg" | "png" | "webp";

/** The most pixels an upload may decode to (a small file can hold a huge image). */
export const MAX_UPLOAD_PIXELS = 50e6;

/** A PNG's size from its IHDR chunk (right after the signature). */
function pngSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  if (bytes.length < 24) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

export function isWebp(bytes: Uint8Array): boolean {
  const text = (from: number) => String.fromCharCode(...bytes.subarray(from, from + 4));
  return bytes.length >= 12 && text(0) === "RIFF" && text(8) === "WEBP";
}

export function imageKind(bytes: Uint8Array): ImageKind | undefined {
  if (isJpeg(bytes)) return "jpeg";
  if (isPng(bytes)) return "png";
  if (isWebp(bytes)) return "webp";
  return undefined;
}

/** The request body, refusing more than `limit` bytes with 413 without reading on. */
export async function readBody(request: Request, limit: number): Promise<Uint8Array> {
  const tooBig = (size: string) =>
    new HttpError(413, `Cannot accept the upload: it is ${size}, the limit is ${limit} bytes`);
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (declared > limit) throw tooBig(`${declared} bytes`);
  if (!request.body) throw new HttpError(400, "Cannot read the upload: the body is empty", "body");
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel();
      throw tooBig(`over ${limit} bytes`);
    }
    chunks.push(value);
  }
  if (size === 0) throw new HttpError(400, "Cannot read the upload: the body is empty", "body");
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) body.set(chunk, offset), offset += chunk.length;
  return body;
}

async function decodeWebp(bytes: Uint8Array): Promise<RgbaImage> {
  const { default: sharp } = await import("sharp");
  const { data, info } = await sharp(bytes, {
    failOn: "truncated",
    limitInputPixels: MAX_UPLOAD_PIXELS,
  })
    .toColourspace("srgb")
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, rgba: new Uint8Array(data) };
}

/** Decodes an uploaded image; 415 for other formats, 400 for a damaged one. */
export async function decodeUpload(bytes: Uint8Array, contentType: string): Promise<RgbaImage> {
  const kind = imageKind(bytes);
  if (!kind) {
    const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, "0"));
    throw new HttpError(
      415,
      `Cannot use the upload (Content-Type ${contentType || "none"}): it is not a JPEG, PNG or ` +
        `WebP image (it starts with bytes ${head.join(" ")})`,
      "body",
    );
  }
  const size = kind === "png" ? pngSize(bytes) : undefined;
  if (size && size.width * size.height > MAX_UPLOAD_PIXELS) {
    throw new HttpError(
      400,
      `Cannot decode the uploaded png image: it is ${size.width}x${size.height}, over the ` +
        `limit of ${MAX_UPLOAD_PIXELS / 1e6} megapixels`,
      "body",
    );
  }
  try {
    return kind === "webp" ? await decodeWebp(bytes) : decodeImage(bytes, `upload.${kind}`);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new HttpError(400, `Cannot decode the uploaded ${kind} image: ${message}`, "body");
  }
}
