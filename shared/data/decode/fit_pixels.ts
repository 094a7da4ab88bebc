/**
 * The last step of decode, in JS on packed RGB: libvips has already shrunk a larger image
 * so that its shorter (crop) or longer (letterbox) side is `size`; what is left is a copy
 * of the centre, or for an image smaller than `size` the enlargement by csn's resampler
 * (bilinear, torchvision's geometry), then the white bars of a letterbox.
 */
import { axisTaps, resizePlan, resizeShorterAndCrop } from "../resample.ts";

/** Centre size x size of `rgb`, shorter side scaled to `size` (torchvision's crop offsets). */
export function cropToSquare(rgb: Uint8Array, width: number, height: number, size: number) {
  if (Math.min(width, height) !== size) return resizeShorterAndCrop(rgb, width, height, size);
  const { left, top } = resizePlan(width, height, size);
  const out = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    const from = ((top + y) * width + left) * 3;
    out.set(rgb.subarray(from, from + size * 3), y * size * 3);
  }
  return out;
}

/** The letterbox's inner size: longer side `size`, shorter side rounded, at least 1. */
export function letterboxPlan(width: number, height: number, size: number) {
  const inner = (short: number, long: number) => Math.max(1, Math.round((size * short) / long));
  return width >= height
    ? { outW: size, outH: inner(height, width) }
    : { outW: inner(width, height), outH: size };
}

/** `rgb` scaled to fit size x size (unless its longer side is `size`), centred on white. */
export function letterbox(rgb: Uint8Array, width: number, height: number, size: number) {
  const { outW, outH } = Math.max(width, height) === size
    ? { outW: width, outH: height }
    : letterboxPlan(width, height, size);
  const inner = outW === width && outH === height ? rgb : resizeTo(rgb, width, height, outW, outH);
  const left = Math.floor((size - outW) / 2), top = Math.floor((size - outH) / 2);
  const out = new Uint8Array(size * size * 3).fill(255);
  for (let y = 0; y < outH; y++) {
    const from = y * outW * 3;
    out.set(inner.subarray(from, from + outW * 3), ((top + y) * size + left) * 3);
  }
  return out;
}

/** Separable resize of packed RGB to outW x outH (area when shrinking, bilinear enlarging). */
export function resizeTo(
  rgb: Uint8Array,
  width: number,
  height: number,
  outW: number,
  outH: number,
): Uint8Array {
  const x = axisTaps(width, outW, 0, outW), y = axisTaps(height, outH, 0, outH);
  const mid = new Float64Array(height * outW * 3);
  for (let r = 0; r < height; r++) {
    for (let k = 0; k < outW; k++) {
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let t = 0; t < x.count[k]!; t++) {
          sum += x.weights[k * x.maxTaps + t]! * rgb[(r * width + x.first[k]! + t) * 3 + c]!;
        }
        mid[(r * outW + k) * 3 + c] = sum;
      }
    }
  }
  const out = new Uint8ClampedArray(outW * outH * 3);
  for (let k = 0; k < outH; k++) {
    for (let i = 0; i < outW * 3; i++) {
      let sum = 0;
      for (let t = 0; t < y.count[k]!; t++) {
        sum += y.weights[k * y.maxTaps + t]! * mid[(y.first[k]! + t) * outW * 3 + i]!;
      }
      out[k * outW * 3 + i] = sum;
    }
  }
  return new Uint8Array(out.buffer);
}

/**
 * Packed RGB turned upright by EXIF orientation `o` (1-8): mirrors for 2 and 4, half a turn
 * for 3, a transpose for 5, quarter turns for 6 (clockwise) and 8, the transverse for 7.
 */
export function orient(rgb: Uint8Array, width: number, height: number, o: number) {
  if (o === 1) return { rgb, width, height };
  const swap = o >= 5;
  const outW = swap ? height : width, outH = swap ? width : height;
  const out = new Uint8Array(rgb.length);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      let sx = x, sy = y;
      if (o === 2) sx = width - 1 - x;
      else if (o === 3) sx = width - 1 - x, sy = height - 1 - y;
      else if (o === 4) sy = height - 1 - y;
      else if (o === 5) sx = y, sy = x;
      else if (o === 6) sx = y, sy = height - 1 - x;
      else if (o === 7) sx = width - 1 - y, sy = height - 1 - x;
      else if (o === 8) sx = width - 1 - y, sy = x;
      const from = (sy * width + sx) * 3, to = (y * outW + x) * 3;
      out[to] = rgb[from]!;
      out[to + 1] = rgb[from + 1]!;
      out[to + 2] = rgb[from + 2]!;
    }
  }
  return { rgb: out, width: outW, height: outH };
}
