/**
 * One image file's bytes to size x size x 3 sRGB bytes (HWC) through sharp (libvips):
 * EXIF orientation applied, alpha flattened on white, grey and CMYK converted to sRGB (CMYK
 * by the plain formula, as Pillow does). Embedded ICC profiles are ignored, as Pillow's
 * convert and the CSN reference's preprocessing do: libvips builds the transform per image,
 * 3 ms for an sRGB profile and 35 ms for CMYK. Then
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
import { cropToSquare, letterbox, orient } from "./fit_pixels.ts";
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
  // A CMYK JPEG stays CMYK through libvips and is converted here.
  const header = format === "jpeg" ? readJpegHeader(bytes) : undefined;
  const plainCmyk = header !== undefined && header.components === 4;
  // A JPEG's EXIF orientation is applied here after the shrink, on the small image: libvips
  // turns the full image first (7 ms against 2 for a 400x300 photo). The square box of the
  // shrink is the same either way round.
  const turn = header?.orientation ?? 1;
  let result: { data: Uint8Array; info: { width: number; height: number; channels: number } };
  try {
    // failOn "error": truncated data fails (also JPEG inside TIFF); a libjpeg warning does not.
    const image = sharp(bytes, { failOn: "error", limitInputPixels: MAX_PIXELS, ignoreIcc: true })
      .flatten({ background: WHITE });
    if (header === undefined) image.rotate();
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
  const upright = orient(plainCmyk ? cmykToRgb(data) : data, width, height, turn);
  const out = fit === "crop"
    ? cropToSquare(upright.rgb, upright.width, upright.height, size)
    : letterbox(upright.rgb, upright.width, upright.height, size);
  return out as Uint8Array<ArrayBuffer>;
}
