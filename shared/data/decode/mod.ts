/**
 * Image decoding for any dataset: JPEG, PNG, WebP, TIFF and AVIF through sharp, EXIF
 * orientation, alpha on white, grey and CMYK to sRGB, centre crop or letterbox, unreadable
 * images reported with a stable reason, and a worker pool that streams into a pixel file.
 * (Specs that need only FITS import ./fit.ts: this module pulls in sharp.)
 */
export { BAD_REASONS, type BadReason, ImageDecodeError } from "./bad_reason.ts";
export { type BadImage, decodeBatch, type DecodeItem } from "./decode_batch.ts";
export { decodeImage } from "./decode_image.ts";
export { checkDecodeOptions, type DecodeOptions, type Fit, FITS } from "./fit.ts";
export { decodeAll, type DecodePoolOptions, decodeToFile } from "./decode_pool.ts";
export { compactSlots } from "./slot_file.ts";
export { type ImageFormat, sniffFormat } from "./sniff_format.ts";
