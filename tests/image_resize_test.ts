import assert from "node:assert/strict";
import jpeg from "jpeg-js";
import { BAD_REASONS, decodeImage, ImageDecodeError } from "../shared/data/decode/mod.ts";
import sharp from "sharp";
import { resizePlan, resizeShorterAndCrop } from "../shared/data/resample.ts";
import { makeJpeg } from "./zappos_fixture.ts";
import { naiveCrop } from "./support/naive_resample.ts";

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
    const want = naiveCrop(rgb, w, h, size);
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

Deno.test("decodeImage of a small JPEG is sharp's decode enlarged and cropped by csn's filter", async () => {
  const bytes = makeJpeg(3);
  const full = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([full.info.width, full.info.height], [136, 102]);
  const out = await decodeImage(bytes, { size: 112, fit: "crop" }, "Shoes/Oxfords/B/1.72.jpg");
  assert.equal(out.length, 112 * 112 * 3);
  assert.deepEqual(out, resizeShorterAndCrop(new Uint8Array(full.data), 136, 102, 112));
  // Against jpeg-js (an independent decoder): IDCTs differ by a few levels, no more.
  // Tolerance: at most 4 levels per byte, under 1 level on average.
  const reference = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false }).data;
  let max = 0, sum = 0;
  for (let i = 0; i < reference.length; i++) {
    const d = Math.abs(full.data[i]! - reference[i]!);
    max = Math.max(max, d);
    sum += d;
  }
  assert.ok(max <= 4, `max difference ${max}`);
  assert.ok(sum / reference.length < 1, `mean difference ${sum / reference.length}`);
});

Deno.test("decodeImage names the file and a stable reason for bad data", async () => {
  const bytes = makeJpeg(1);
  const name = "Boots/Ankle/Dr. Martens/7.1.jpg";
  const opts = { size: 112, fit: "crop" } as const;
  for (const cut of [bytes.length >> 1, bytes.length - 2]) {
    await assert.rejects(
      () => decodeImage(bytes.subarray(0, cut), opts, name),
      (e: Error) =>
        e instanceof ImageDecodeError && e.message.includes(`"${name}"`) &&
        e.reason === BAD_REASONS.corrupt,
      `cut at ${cut} of ${bytes.length}`,
    );
  }
  await assert.rejects(
    () => decodeImage(new TextEncoder().encode("<html>not found</html>"), opts, name),
    (e: Error) => e.message.includes(`"${name}"`) && /unsupported format/.test(e.message),
  );
  await assert.rejects(() => decodeImage(new Uint8Array(0), opts, name), /"Boots.*empty/);
  await assert.rejects(() => decodeImage(bytes, { size: 0, fit: "crop" }, name), RangeError);
});
