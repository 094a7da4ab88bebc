/**
 * What decode needs from a JPEG's markers before decoding it: the number of colour
 * components (4 = CMYK or YCCK) and whether an ICC profile is embedded (APP2 ICC_PROFILE).
 * Read by walking the marker segments up to the first frame header, in microseconds.
 */
export interface JpegHeader {
  readonly components: number;
  readonly icc: boolean;
}

/** The header facts of `bytes` (a JPEG), or undefined when no frame header is found. */
export function readJpegHeader(bytes: Uint8Array): JpegHeader | undefined {
  let icc = false;
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
      return components === undefined ? undefined : { components, icc };
    }
    if (marker === 0xe2 && length >= 14) {
      const tag = String.fromCharCode(...bytes.subarray(at + 4, at + 15));
      if (tag === "ICC_PROFILE") icc = true;
    }
    if (marker === 0xda || marker === 0xd9) return undefined; // scan or end before a frame
    at += 2 + length;
  }
  return undefined;
}

/**
 * CMYK (0 = no ink, as libvips delivers it, Adobe's inverted files included) to RGB by the
 * plain formula R = (255 - C)(255 - K) / 255, as Pillow converts: used for CMYK JPEGs without
 * a profile, where libvips' ICC transform from its default profile costs ~35 ms an image.
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
