import assert from "node:assert/strict";
import jpeg from "jpeg-js";
import { decodeAndResize } from "../shared/data/image_resize.ts";
import { decodeJpegSharp } from "../shared/data/jpeg_sharp.ts";
import sharp from "sharp";
import { resizePlan, resizeShorterAndCrop } from "../shared/data/resample.ts";
import { makeJpeg } from "./zappos_fixture.ts";

/** Naive per-axis weight of input pixel j for output pixel i (scaled size outSize). */
function naiveWeight(inSize: number, outSize: number, i: number, j: number): number {
  const scale = inSize / outSize;
  if (scale > 1) {
    // Area: the overlap of input pixel [j, j+1) with the output footprint, over its width.
    const lo = i * scale, hi = (i + 1) * scale;
    return Math.max(0, Math.min(hi, j + 1) - Math.max(lo, j)) / scale;
  }
  // Bilinear hat around the (edge-clamped) centre.
  const centre = Math.min(inSize - 1, Math.max(0, (i + 0.5) * scale - 0.5));
  return Math.max(0, 1 - Math.abs(centre - j));
}

/** float64 reference: a full 2-D weighted sum, no separable passes, no cached taps. */
function naiveResize(rgb: Uint8Array, w: number, h: number, size: number): Float64Array {
  const plan = resizePlan(w, h, size);
  const out = new Float64Array(size * size * 3);
  for (let oy = 0; oy < size; oy++) {
    for (let ox = 0; ox < size; ox++) {
      for (let c = 0; c < 3; c++) {
        let sum = 0, total = 0;
        for (let y = 0; y < h; y++) {
          const wy = naiveWeight(h, plan.outH, plan.top + oy, y);
          if (wy === 0) continue;
          for (let x = 0; x < w; x++) {
            const wx = naiveWeight(w, plan.outW, plan.left + ox, x);
            if (wx === 0) continue;
            sum += wy * wx * rgb[(y * w + x) * 3 + c]!;
            total += wy * wx;
          }
        }
        out[(oy * size + ox) * 3 + c] = sum / total;
      }
    }
  }
  return out;
}

function randomRgb(w: number, h: number, seed: number): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  let x = seed;
  for (let i = 0; i < out.length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

Deno.test("resize plan follows torchvision Resize + CenterCrop on the Zappos size", () => {
  // 136x102 -> shorter side 112: 149x112 (truncated), crop left round(18.5) = 18 (half to even).
  assert.deepEqual(resizePlan(136, 102, 112), { outW: 149, outH: 112, left: 18, top: 0 });
  assert.deepEqual(resizePlan(102, 136, 112), { outW: 112, outH: 149, left: 0, top: 18 });
  assert.deepEqual(resizePlan(300, 200, 112), { outW: 168, outH: 112, left: 28, top: 0 });
});

Deno.test("resize equals a naive float64 reference rounded to the nearest level", () => {
  // Tolerance: the output is uint8, so it may differ from the float64 reference by the
  // rounding alone: at most 0.5 (+1e-6 for summation order).
  const cases: [number, number, number][] = [
    [136, 102, 112], // the Zappos case: enlarge 1.098x
    [300, 200, 112], // shrink 1.79x: area averaging
    [90, 140, 32], // portrait, shrink 2.8x
    [40, 40, 40], // identity
    [20, 13, 37], // enlarge 2.8x
  ];
  for (const [w, h, size] of cases) {
    const rgb = randomRgb(w, h, w * 7 + h);
    const got = resizeShorterAndCrop(rgb, w, h, size);
    const want = naiveResize(rgb, w, h, size);
    assert.equal(got.length, size * size * 3);
    let max = 0, sum = 0;
    for (let i = 0; i < got.length; i++) {
      const d = Math.abs(got[i]! - want[i]!);
      max = Math.max(max, d);
      sum += d;
    }
    assert.ok(max <= 0.5 + 1e-6, `${w}x${h}->${size}: max diff ${max}`);
    assert.ok(sum / got.length < 0.3, `${w}x${h}->${size}: mean diff ${sum / got.length}`);
  }
});

Deno.test("shrinking by 2 averages 2x2 blocks exactly; identity keeps pixels", () => {
  const w = 4, h = 4;
  const rgb = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) rgb.fill(i * 10, i * 3, i * 3 + 3);
  const out = resizeShorterAndCrop(rgb, w, h, 2);
  // Block (0,0) holds 0, 10, 40, 50 -> 25; block (1,1) holds 100, 110, 140, 150 -> 125.
  assert.deepEqual([out[0], out[3], out[6], out[9]], [25, 45, 105, 125]);
  assert.deepEqual(resizeShorterAndCrop(rgb, w, h, 4), rgb);
});

Deno.test("decodeAndResize is sharp's decode resized and cropped by csn's filter", async () => {
  const bytes = makeJpeg(3);
  const decoded = await decodeJpegSharp(bytes, "x.jpg");
  assert.deepEqual([decoded.width, decoded.height], [136, 102]);
  const out = await decodeAndResize(bytes, 112, "Shoes/Oxfords/Bostonian/100627.72.jpg");
  assert.equal(out.length, 112 * 112 * 3);
  assert.deepEqual(out, resizeShorterAndCrop(decoded.rgb, 136, 102, 112));
  // Against jpeg-js (an independent decoder): IDCTs differ by a few levels, no more.
  // Tolerance: at most 4 levels per byte, under 1 level on average.
  const reference = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false }).data;
  let max = 0, sum = 0;
  for (let i = 0; i < reference.length; i++) {
    const d = Math.abs(decoded.rgb[i]! - reference[i]!);
    max = Math.max(max, d);
    sum += d;
  }
  assert.ok(max <= 4, `max difference ${max}`);
  assert.ok(sum / reference.length < 1, `mean difference ${sum / reference.length}`);
});

Deno.test("sharp decodes grey and CMYK JPEGs to RGB", async () => {
  const w = 24, h = 16;
  const grey = await sharp(new Uint8Array(w * h).map((_, i) => (i * 5) % 256), {
    raw: { width: w, height: h, channels: 1 },
  }).jpeg({ quality: 95 }).toBuffer();
  const cmyk = await sharp(new Uint8Array(w * h * 3).map((_, i) => (i * 3) % 256), {
    raw: { width: w, height: h, channels: 3 },
  }).toColourspace("cmyk").jpeg({ quality: 95 }).toBuffer();
  for (const [what, file] of [["grey", grey], ["cmyk", cmyk]] as const) {
    const image = await decodeJpegSharp(new Uint8Array(file), `${what}.jpg`);
    assert.deepEqual([image.width, image.height, image.rgb.length], [w, h, w * h * 3], what);
  }
  const g = await decodeJpegSharp(new Uint8Array(grey), "grey.jpg");
  for (let p = 0; p < w * h * 3; p += 3) {
    assert.ok(g.rgb[p] === g.rgb[p + 1] && g.rgb[p] === g.rgb[p + 2], "grey stays grey");
  }
});

Deno.test("decodeAndResize names the file for truncated, non-image and empty data", async () => {
  const bytes = makeJpeg(1);
  const name = "Boots/Ankle/Dr. Martens/7.1.jpg";
  for (const cut of [bytes.length >> 1, bytes.length - 2]) {
    await assert.rejects(
      () => decodeAndResize(bytes.subarray(0, cut), 112, name),
      (e: Error) =>
        e instanceof SyntaxError && e.message.includes(`"${name}"`) && /truncated/.test(e.message),
      `cut at ${cut} of ${bytes.length}`,
    );
  }
  await assert.rejects(
    () => decodeAndResize(new TextEncoder().encode("<html>not found</html>"), 112, name),
    (e: Error) => e.message.includes(`"${name}"`) && /not a JPEG/.test(e.message),
  );
  await assert.rejects(() => decodeAndResize(new Uint8Array(0), 112, name), /"Boots.*empty/);
  await assert.rejects(() => decodeAndResize(bytes, 0, name), RangeError);
});
