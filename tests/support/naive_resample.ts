import { resizePlan } from "../../shared/data/resample.ts";

/**
 * The naive resampling reference of the resize and decode tests: the weight of input pixel j
 * in output pixel i along one axis (scaled size outSize), with no separable passes and no
 * cached taps. Area (box) when shrinking, bilinear hat around the edge-clamped centre when
 * enlarging: the filter csn's resampler is meant to compute.
 */
export function naiveWeight(inSize: number, outSize: number, i: number, j: number): number {
  const scale = inSize / outSize;
  if (scale > 1) {
    // The overlap of input pixel [j, j+1) with the output footprint, over its width.
    const lo = i * scale, hi = (i + 1) * scale;
    return Math.max(0, Math.min(hi, j + 1) - Math.max(lo, j)) / scale;
  }
  const centre = Math.min(inSize - 1, Math.max(0, (i + 0.5) * scale - 0.5));
  return Math.max(0, 1 - Math.abs(centre - j));
}

/** Shorter side to `size`, centre crop (torchvision's geometry), as a float64 2-D sum. */
export function naiveCrop(rgb: Uint8Array, w: number, h: number, size: number): Float64Array {
  const plan = resizePlan(w, h, size);
  return naiveResample(rgb, w, h, plan.outW, plan.outH, size, size, plan.left, plan.top);
}

/** Output pixel (ox, oy) of a size x size window at (left, top) of rgb scaled to outW x outH. */
export function naiveResample(
  rgb: Uint8Array,
  w: number,
  h: number,
  outW: number,
  outH: number,
  width: number,
  height: number,
  left: number,
  top: number,
): Float64Array {
  const out = new Float64Array(width * height * 3);
  for (let oy = 0; oy < height; oy++) {
    for (let ox = 0; ox < width; ox++) {
      for (let c = 0; c < 3; c++) {
        let sum = 0, total = 0;
        for (let y = 0; y < h; y++) {
          const wy = naiveWeight(h, outH, top + oy, y);
          if (wy === 0) continue;
          for (let x = 0; x < w; x++) {
            const wx = naiveWeight(w, outW, left + ox, x);
            sum += wy * wx * rgb[(y * w + x) * 3 + c]!;
            total += wy * wx;
          }
        }
        out[(oy * width + ox) * 3 + c] = sum / total;
      }
    }
  }
  return out;
}
