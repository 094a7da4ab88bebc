/**
 * Resize-shorter-side-then-centre-crop, as torchvision's Resize(size) + CenterCrop(size) do,
 * with separable filters: exact area averaging (box) when shrinking, so every source pixel
 * counts and nothing aliases, and bilinear interpolation when enlarging. Only the cropped
 * output pixels are computed.
 */

/** Taps of one output axis: output i reads `count[i]` inputs from `first[i]` with `weights`. */
export interface AxisTaps {
  readonly first: Int32Array;
  readonly count: Int32Array;
  /** `maxTaps` weights per output, summing to 1. */
  readonly weights: Float64Array;
  readonly maxTaps: number;
}

/**
 * Taps mapping an axis of `inSize` pixels scaled to `outSize`, for outputs
 * `offset .. offset + length - 1` (the crop window).
 */
export function axisTaps(inSize: number, outSize: number, offset: number, length: number) {
  const scale = inSize / outSize;
  const maxTaps = scale > 1 ? Math.ceil(scale) + 1 : 2;
  const first = new Int32Array(length);
  const count = new Int32Array(length);
  const weights = new Float64Array(length * maxTaps);
  for (let k = 0; k < length; k++) {
    const i = offset + k;
    if (scale > 1) {
      // Output pixel i covers input interval [lo, hi): weight = overlap / scale.
      const lo = i * scale;
      const hi = Math.min(inSize, (i + 1) * scale);
      const start = Math.floor(lo);
      let n = 0;
      for (let j = start; j < hi; j++) {
        const overlap = Math.min(hi, j + 1) - Math.max(lo, j);
        if (overlap <= 0) continue;
        weights[k * maxTaps + n] = overlap / (hi - lo);
        n++;
      }
      first[k] = start;
      count[k] = n;
    } else {
      // Pixel centres align: input coordinate of output centre i, clamped at the edges.
      const centre = Math.min(inSize - 1, Math.max(0, (i + 0.5) * scale - 0.5));
      const j0 = Math.floor(centre);
      const t = centre - j0;
      first[k] = j0;
      if (j0 + 1 < inSize && t > 0) {
        weights[k * maxTaps] = 1 - t;
        weights[k * maxTaps + 1] = t;
        count[k] = 2;
      } else {
        weights[k * maxTaps] = 1;
        count[k] = 1;
      }
    }
  }
  return { first, count, weights, maxTaps } satisfies AxisTaps;
}

/** Python's round(): half to even, as torchvision's CenterCrop offsets use. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Scaled size (shorter side = size, longer truncated as torchvision does) and crop offsets. */
export function resizePlan(width: number, height: number, size: number) {
  const outW = width <= height ? size : Math.floor((size * width) / height);
  const outH = width <= height ? Math.floor((size * height) / width) : size;
  return {
    outW,
    outH,
    left: roundHalfEven((outW - size) / 2),
    top: roundHalfEven((outH - size) / 2),
  };
}

const tapCache = new Map<string, { x: AxisTaps; y: AxisTaps }>();

// The horizontal pass's rows, kept between calls: a fresh 270 kB array an image (the Zappos
// size) cost more in allocation and zeroing than the arithmetic. Every entry used is written.
let scratchRows = new Float64Array(0);
function scratch(length: number): Float64Array {
  if (scratchRows.length < length) scratchRows = new Float64Array(length);
  return scratchRows;
}

/** Resizes packed RGB (3 channels) and centre-crops to size x size; returns size*size*3 bytes. */
export function resizeShorterAndCrop(
  rgb: Uint8Array,
  width: number,
  height: number,
  size: number,
): Uint8Array {
  const key = `${width}x${height}>${size}`;
  let taps = tapCache.get(key);
  if (taps === undefined) {
    const plan = resizePlan(width, height, size);
    taps = {
      x: axisTaps(width, plan.outW, plan.left, size),
      y: axisTaps(height, plan.outH, plan.top, size),
    };
    if (tapCache.size > 64) tapCache.clear();
    tapCache.set(key, taps);
  }
  const { x, y } = taps;
  // Horizontal pass over the source rows the vertical taps read.
  const rowFirst = y.first[0]!;
  const rows = y.first[size - 1]! + y.count[size - 1]! - rowFirst;
  const stride = size * 3;
  const mid = scratch(rows * stride);
  const xFirst = x.first, xCount = x.count, xWeights = x.weights, xTaps = x.maxTaps;
  for (let r = 0; r < rows; r++) {
    const src = (rowFirst + r) * width * 3;
    let dst = r * stride;
    for (let k = 0; k < size; k++, dst += 3) {
      let red = 0, green = 0, blue = 0;
      let p = src + xFirst[k]! * 3;
      const end = k * xTaps + xCount[k]!;
      for (let t = k * xTaps; t < end; t++, p += 3) {
        const w = xWeights[t]!;
        red += w * rgb[p]!;
        green += w * rgb[p + 1]!;
        blue += w * rgb[p + 2]!;
      }
      mid[dst] = red;
      mid[dst + 1] = green;
      mid[dst + 2] = blue;
    }
  }
  // Vertical pass, a whole row at a time; the clamped view rounds and clamps to 0..255. One
  // and two taps (every enlargement) are written out: the same sums in the same order.
  const out = new Uint8Array(size * stride);
  const clamped = new Uint8ClampedArray(out.buffer);
  const acc = new Float64Array(stride);
  for (let k = 0; k < size; k++) {
    const taps = y.count[k]!, base = k * y.maxTaps, o = k * stride;
    const r0 = (y.first[k]! - rowFirst) * stride;
    if (taps === 1) {
      const w0 = y.weights[base]!;
      for (let c = 0; c < stride; c++) clamped[o + c] = w0 * mid[r0 + c]!;
    } else if (taps === 2) {
      const w0 = y.weights[base]!, w1 = y.weights[base + 1]!, r1 = r0 + stride;
      for (let c = 0; c < stride; c++) clamped[o + c] = w0 * mid[r0 + c]! + w1 * mid[r1 + c]!;
    } else {
      acc.fill(0);
      for (let t = 0; t < taps; t++) {
        const w = y.weights[base + t]!;
        const row = r0 + t * stride;
        for (let c = 0; c < stride; c++) acc[c]! += w * mid[row + c]!;
      }
      clamped.set(acc, o);
    }
  }
  return out;
}
