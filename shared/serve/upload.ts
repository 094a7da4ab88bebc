/**
 * An uploaded image: the body read up to a size limit (413 past it, whatever Content-Length
 * claims), told apart by its signature rather than its Content-Type (415 for anything but
 * the formats preprocess reads: JPEG, PNG, WebP, TIFF, AVIF), and decoded exactly as a query
 * file is, so as preprocess decoded the catalog's images (400 when damaged). Images over 50
 * megapixels are refused before decoding (a small file can hold a huge image).
 */
import { sniffFormat } from "../data/decode/sniff_format.ts";
import { MAX_QUERY_PIXELS } from "../explore/image_decode.ts";
import { type InputShape, prepareImageBytes } from "../explore/image_input.ts";
import { HttpError } from "./http_error.ts";

/** A PNG's size from its IHDR chunk (right after the signature). */
function pngSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  if (bytes.length < 24) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
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

/** An upload's pixels for `shape`; 415 for other formats, 400 for a damaged image. */
export async function prepareUpload(
  bytes: Uint8Array,
  contentType: string,
  shape: InputShape,
): Promise<Uint8Array> {
  const format = sniffFormat(bytes);
  if (!format) {
    const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, "0"));
    throw new HttpError(
      415,
      `Cannot use the upload (Content-Type ${contentType || "none"}): it is not a JPEG, PNG, ` +
        `WebP, TIFF or AVIF image (it starts with bytes ${head.join(" ")})`,
      "body",
    );
  }
  // libvips would refuse it too, but only with "exceeds pixel limit": say the size.
  const size = format === "png" ? pngSize(bytes) : undefined;
  if (size && size.width * size.height > MAX_QUERY_PIXELS) {
    throw new HttpError(
      400,
      `Cannot decode the uploaded png image: it is ${size.width}x${size.height}, over the ` +
        `limit of ${MAX_QUERY_PIXELS / 1e6} megapixels`,
      "body",
    );
  }
  try {
    return await prepareImageBytes(bytes, `upload.${format}`, shape);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    throw new HttpError(
      400,
      `Cannot decode the uploaded ${format} image: ${error.message}`,
      "body",
    );
  }
}
