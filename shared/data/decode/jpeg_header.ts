/**
 * What decode needs from a JPEG's markers before decoding it: the number of colour
 * components (4 = CMYK or YCCK) and the EXIF orientation (APP1). Read by walking the marker
 * segments up to the first frame header, in microseconds.
 */
export interface JpegHeader {
  readonly components: number;
  /** EXIF orientation 1-8 (1 when absent or unreadable). */
  readonly orientation: number;
}

/** The header facts of `bytes` (a JPEG), or undefined when no frame header is found. */
export function readJpegHeader(bytes: Uint8Array): JpegHeader | undefined {
  let orientation = 1;
  let at = 2; // after SOI
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return undefined;
    const marker = bytes[at + 1]!;
    if (marker === 0xff) { // fill byte
      at++;
      continue;
    }
    const length = (bytes[at + 2]! << 8) | bytes[at + 3]!;
    // SOF0..SOF15 but DHT (c4), JPG (c8) and DAC (cc): precision, height, width, components.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      const components = bytes[at + 9];
      return components === undefined ? undefined : { components, orientation };
    }
    if (marker === 0xe1 && length >= 16) {
      const end = Math.min(bytes.length, at + 2 + length);
      if (String.fromCharCode(...bytes.subarray(at + 4, at + 10)) === "Exif\0\0") {
        orientation = exifOrientation(bytes.subarray(at + 10, end)) ?? orientation;
      }
    }
    if (marker === 0xda || marker === 0xd9) return undefined; // scan or end before a frame
    at += 2 + length;
  }
  return undefined;
}

/** Tag 0x0112 of IFD0 in a TIFF-structured EXIF block, if present and 1-8. */
function exifOrientation(tiff: Uint8Array): number | undefined {
  if (tiff.length < 8) return undefined;
  const little = tiff[0] === 0x49 && tiff[1] === 0x49;
  if (!little && !(tiff[0] === 0x4d && tiff[1] === 0x4d)) return undefined;
  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  const ifd = view.getUint32(4, little);
  if (ifd + 2 > tiff.length) return undefined;
  const entries = view.getUint16(ifd, little);
  for (let i = 0; i < entries; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > tiff.length) return undefined;
    if (view.getUint16(entry, little) === 0x0112) {
      const value = view.getUint16(entry + 8, little);
      return value >= 1 && value <= 8 ? value : undefined;
    }
  }
  return undefined;
}

/**
 * CMYK (0 = no ink, as libvips delivers it, Adobe's inverted files included) to RGB by the
 * plain formula R = (255 - C)(255 - K) / 255, as Pillow converts: libvips' ICC transform
 * (its default CMYK profile, built per image) costs ~35 ms an image.
 */
export function cmykToRgb(cmyk: Uint8Array): Uint8Array {
  const pixels = cmyk.length / 4;
  const rgb = new Uint8Array(pixels * 3);
  for (let p = 0; p < pixels; p++) {
    const k = 255 - cmyk[p * 4 + 3]!;
    rgb[p * 3] = Math.round(((255 - cmyk[p * 4]!) * k) / 255);
    rgb[p * 3 + 1] = Math.round(((255 - cmyk[p * 4 + 1]!) * k) / 255);
    rgb[p * 3 + 2] = Math.round(((255 - cmyk[p * 4 + 2]!) * k) / 255);
  }
  return rgb;
}
