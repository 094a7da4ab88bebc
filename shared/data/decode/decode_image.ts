/**
 * One image file's bytes to size x size x 3 sRGB bytes (HWC) through sharp (libvips):
 * EXIF orientation applied, alpha flattened on white, grey and CMYK converted to sRGB (CMYK
 * by its embedded profile, or by the plain formula when it has none, as Pillow does), then
 *   fit "crop":      shorter side to `size`, the centre size x size kept (torchvision's
 *                    Resize + CenterCrop geometry);
 *   fit "letterbox": longer side to `size`, centred on white.
 * libvips shrinks images larger than that (shrink-on-load for JPEG and WebP, then the
 * antialiased triangle filter that Pillow's BILINEAR resize uses); smaller ones are enlarged
 * by csn's bilinear resampler (fit_pixels.ts), which also cuts the crop.
 * Failures are ImageDecodeErrors with a stable reason (see bad_reason.ts).
 */
import sharp from "sharp";
import { BAD_REASONS, ImageDecodeError } from "./bad_reason.ts";
import { checkDecodeOptions, type DecodeOptions } from "./fit.ts";
import { cropToSquare, letterbox } from "./fit_pixels.ts";
import { cmykToRgb, readJpegHeader } from "./jpeg_header.ts";
import { sniffFormat } from "./sniff_format.ts";

// One libvips thread per image: decode parallelises with one Deno worker per core, so a
// worker's figure stays a per-core figure.
sharp.concurrency(1);
// Each file is decoded once: libvips' operation cache would only hold memory.
sharp.cache(false);

const MAX_PIXELS = 50e6;
const WHITE = { r: 255, g: 255, b: 255 };

/** Decodes and resizes `bytes`; `name` is the image's name in errors. */
export async function decodeImage(
  bytes: Uint8Array,
  opts: DecodeOptions,
  name: string,
): Promise<Uint8Array<ArrayBuffer>> {
  checkDecodeOptions(opts, `decode image "${name}"`);
  if (bytes.length === 0) throw new ImageDecodeError(name, BAD_REASONS.empty, "");
  const format = sniffFormat(bytes);
  if (format === undefined) {
    const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, "0"));
    throw new ImageDecodeError(name, BAD_REASONS.unsupported, `starts with ${head.join(" ")}`);
  }
  const { size, fit } = opts;
  // A CMYK JPEG without a profile stays CMYK through libvips and is converted here.
  const header = format === "jpeg" ? readJpegHeader(bytes) : undefined;
  const plainCmyk = header !== undefined && header.components === 4 && !header.icc;
  let result: { data: Uint8Array; info: { width: number; height: number; channels: number } };
  try {
    // failOn "error": truncated data fails (also JPEG inside TIFF); a libjpeg warning does not.
    const image = sharp(bytes, { failOn: "error", limitInputPixels: MAX_PIXELS })
      .rotate()
      .flatten({ background: WHITE });
    if (plainCmyk) image.pipelineColourspace("cmyk").toColourspace("cmyk");
    else image.toColourspace("srgb");
    result = await image
      .resize(size, size, {
        fit: fit === "crop" ? "outside" : "inside",
        withoutEnlargement: true,
        kernel: "linear",
      })
      .raw({ depth: "uchar" })
      .toBuffer({ resolveWithObject: true });
  } catch (error) {
    const detail = `${format}: ${error instanceof Error ? error.message.trim() : String(error)}`;
    const reason = /pixel limit/i.test(detail) ? BAD_REASONS.tooLarge : BAD_REASONS.corrupt;
    throw new ImageDecodeError(name, reason, detail);
  }
  const { width, height, channels } = result.info;
  const expected = plainCmyk ? 4 : 3;
  if (width < 1 || height < 1 || channels !== expected) {
    throw new ImageDecodeError(
      name,
      BAD_REASONS.corrupt,
      `decoded to ${width}x${height}x${channels}, expected ${expected} channels`,
    );
  }
  const data = new Uint8Array(result.data.buffer, result.data.byteOffset, result.data.byteLength);
  const rgb = plainCmyk ? cmykToRgb(data) : data;
  const out = fit === "crop"
    ? cropToSquare(rgb, width, height, size)
    : letterbox(rgb, width, height, size);
  return out as Uint8Array<ArrayBuffer>;
}
