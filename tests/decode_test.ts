/**
 * shared/data/decode: each format, EXIF orientation, grey, CMYK, alpha, letterbox, bad data
 * with a stable reason, and the worker pool streaming into a pixel file. Pixels are compared
 * with a naive expectation (a full 2-D area / bilinear sum in float64) within stated
 * tolerances: lossy formats and libvips' filter differ from it by a few levels.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import sharp from "sharp";
import {
  BAD_REASONS,
  compactSlots,
  decodeAll,
  decodeBatch,
  decodeImage,
  type DecodeItem,
  decodeToFile,
  ImageDecodeError,
  sniffFormat,
} from "../shared/data/decode/mod.ts";
import { readDecoded, writeDecoded } from "../shared/data/decoded_io.ts";
import { naiveCrop, naiveResample } from "./support/naive_resample.ts";

/** A smooth colour picture (gradients and a soft disc): resamplers agree on it closely. */
function picture(w: number, h: number): Uint8Array {
  const rgb = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const d = Math.hypot(x - w * 0.4, y - h * 0.5) / Math.min(w, h);
      const p = (y * w + x) * 3;
      rgb[p] = 40 + Math.round((170 * x) / w);
      rgb[p + 1] = 50 + Math.round((150 * y) / h);
      rgb[p + 2] = 70 + Math.round(130 / (1 + Math.exp((d - 0.3) * 25)));
    }
  }
  return rgb;
}

const raw = (width: number, height: number, channels: 1 | 2 | 3 | 4) => ({
  raw: { width, height, channels },
});

/** Max and mean absolute difference. */
function diff(got: Uint8Array, want: ArrayLike<number>): { max: number; mean: number } {
  assert.equal(got.length, want.length, "lengths");
  let max = 0, sum = 0;
  for (let i = 0; i < got.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    max = Math.max(max, d);
    sum += d;
  }
  return { max, mean: sum / got.length };
}

function assertClose(
  got: Uint8Array,
  want: ArrayLike<number>,
  max: number,
  mean: number,
  what: string,
) {
  const d = diff(got, want);
  assert.ok(
    d.max <= max && d.mean <= mean,
    `${what}: max ${d.max} (<= ${max}), mean ${d.mean.toFixed(3)} (<= ${mean})`,
  );
}

const W = 60, H = 40;
const SOURCE = picture(W, H);
const CROP = { size: 24, fit: "crop" } as const;

Deno.test("decode: JPEG, PNG, WebP, TIFF and AVIF each give the naive crop", async () => {
  const want = naiveCrop(SOURCE, W, H, CROP.size);
  const img = () => sharp(SOURCE, raw(W, H, 3));
  // Tolerance: lossless formats differ by libvips' triangle shrink filter only (<= 6 levels, mean
  // < 0.6); JPEG and AVIF add their coding error (<= 12, mean < 3).
  const cases = [
    ["png", await img().png().toBuffer(), 6, 0.6],
    ["webp", await img().webp({ lossless: true }).toBuffer(), 6, 0.6],
    ["tiff", await img().tiff({ compression: "lzw" }).toBuffer(), 6, 0.6],
    ["jpeg", await img().jpeg({ quality: 95 }).toBuffer(), 12, 3],
    ["avif", await img().avif({ quality: 90 }).toBuffer(), 12, 3],
  ] as const;
  for (const [format, bytes, max, mean] of cases) {
    assert.equal(sniffFormat(bytes), format);
    const got = await decodeImage(bytes, CROP, `x.${format}`);
    assertClose(got, want, max, mean, format);
  }
});

Deno.test("decode: each EXIF orientation is applied, as libvips' own rotate does", async () => {
  // Output (x, y) of orientation o shows source (sx, sy), the EXIF specification's table.
  const source = (o: number, x: number, y: number): [number, number] =>
    [
      [x, y],
      [W - 1 - x, y],
      [W - 1 - x, H - 1 - y],
      [x, H - 1 - y],
      [y, x],
      [y, H - 1 - x],
      [W - 1 - y, H - 1 - x],
      [W - 1 - y, x],
    ][o - 1] as [number, number];
  for (let o = 1; o <= 8; o++) {
    const bytes = await sharp(SOURCE, raw(W, H, 3)).jpeg({ quality: 95 })
      .withMetadata({ orientation: o }).toBuffer();
    const [w, h] = o >= 5 ? [H, W] : [W, H];
    const turned = new Uint8Array(SOURCE.length);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const [sx, sy] = source(o, x, y);
        const from = (sy * W + sx) * 3;
        turned.set(SOURCE.subarray(from, from + 3), (y * w + x) * 3);
      }
    }
    const got = await decodeImage(bytes, CROP, `turned-${o}.jpg`);
    assertClose(got, naiveCrop(turned, w, h, CROP.size), 12, 3, `orientation ${o}`);
    // libvips' rotate-then-shrink agrees (it sees the PNG the turned pixels make).
    const png = await sharp(bytes).rotate().png().toBuffer();
    assertClose(got, await decodeImage(png, CROP, "x.png"), 6, 1, `libvips, orientation ${o}`);
    if (o > 1) assert.ok(diff(got, naiveCrop(SOURCE, W, H, CROP.size)).mean > 5, `${o} ignored`);
  }
});

Deno.test("decode: grey to R = G = B; CMYK to sRGB; alpha flattened on white", async () => {
  const grey = new Uint8Array(W * H).map((_, i) => SOURCE[i * 3 + 1]!);
  const greyRgb = new Uint8Array(W * H * 3).map((_, i) => grey[Math.floor(i / 3)]!);
  const greyPng = await sharp(grey, raw(W, H, 1)).png().toBuffer();
  const g = await decodeImage(greyPng, CROP, "grey.png");
  assertClose(g, naiveCrop(greyRgb, W, H, CROP.size), 3, 0.6, "grey");
  for (let p = 0; p < g.length; p += 3) assert.ok(g[p] === g[p + 1] && g[p] === g[p + 2]);

  // CMYK without a profile: R = (255 - C)(255 - K) / 255 on libvips' decoded planes, then
  // the resample (tolerance as for lossless: the JPEG's own error is in the planes).
  const muted = SOURCE.map((v) => 90 + Math.round(((v - 40) * 80) / 170));
  const cmyk = await sharp(muted, raw(W, H, 3)).toColourspace("cmyk").jpeg({ quality: 95 })
    .toBuffer();
  assert.equal((await sharp(cmyk).metadata()).space, "cmyk");
  const planes = await sharp(cmyk).pipelineColourspace("cmyk").toColourspace("cmyk").raw()
    .toBuffer();
  assert.equal(planes.length, W * H * 4);
  const plain = new Uint8Array(W * H * 3).map((_, i) => {
    const p = Math.floor(i / 3) * 4;
    return Math.round(((255 - planes[p + (i % 3)]!) * (255 - planes[p + 3]!)) / 255);
  });
  const got = await decodeImage(cmyk, CROP, "cmyk.jpg");
  assertClose(got, naiveCrop(plain, W, H, CROP.size), 6, 0.6, "cmyk");
  // And near the colours it was made from (libvips' profile made the CMYK, the formula is
  // not its inverse): within 80 levels, 25 on average; the planes read as RGB are not.
  const source = naiveCrop(muted, W, H, CROP.size);
  assertClose(got, source, 80, 25, "cmyk vs its source");
  const asRgb = new Uint8Array(W * H * 3).map((_, i) => planes[Math.floor(i / 3) * 4 + (i % 3)]!);
  assert.ok(
    diff(await decodeImage(await sharp(asRgb, raw(W, H, 3)).png().toBuffer(), CROP, "x"), source)
      .mean > 50,
  );

  // RGBA with alpha a: c * a + 255 * (1 - a).
  const rgba = new Uint8Array(W * H * 4);
  const flat = new Uint8Array(W * H * 3);
  for (let p = 0; p < W * H; p++) {
    const a = Math.round((255 * (p % W)) / (W - 1)); // transparent left, opaque right
    for (let c = 0; c < 3; c++) {
      rgba[p * 4 + c] = SOURCE[p * 3 + c]!;
      flat[p * 3 + c] = Math.round((SOURCE[p * 3 + c]! * a + 255 * (255 - a)) / 255);
    }
    rgba[p * 4 + 3] = a;
  }
  const png = await sharp(rgba, raw(W, H, 4)).png().toBuffer();
  assertClose(
    await decodeImage(png, CROP, "alpha.png"),
    naiveCrop(flat, W, H, CROP.size),
    4,
    1,
    "alpha",
  );
});

Deno.test("decode: letterbox keeps the whole picture, centred on white", async () => {
  const png = await sharp(SOURCE, raw(W, H, 3)).png().toBuffer();
  for (const size of [30, 120]) { // shrunk by libvips, enlarged by csn's resampler
    const got = await decodeImage(png, { size, fit: "letterbox" }, "wide.png");
    const innerH = Math.round((size * H) / W), top = Math.floor((size - innerH) / 2);
    const inner = naiveResample(SOURCE, W, H, size, innerH, size, innerH, 0, 0);
    const want = new Float64Array(size * size * 3).fill(255);
    want.set(inner, top * size * 3);
    assertClose(got, want, 4, 0.6, `letterbox ${size}`);
    assert.ok(got.subarray(0, top * size * 3).every((v) => v === 255), "white bar above");
  }
});

Deno.test("decode: bad data gets a stable reason, the same on every run", async () => {
  const jpeg = await sharp(SOURCE, raw(W, H, 3)).jpeg().toBuffer();
  const png = await sharp(SOURCE, raw(W, H, 3)).png().toBuffer();
  const tiff = await sharp(SOURCE, raw(W, H, 3)).tiff().toBuffer();
  const cases: [string, Uint8Array, string][] = [
    ["cut.jpg", jpeg.subarray(0, jpeg.length >> 1), BAD_REASONS.corrupt],
    ["end.jpg", jpeg.subarray(0, jpeg.length - 2), BAD_REASONS.corrupt],
    ["cut.png", png.subarray(0, png.length - 20), BAD_REASONS.corrupt],
    ["cut.tif", tiff.subarray(0, Math.floor(tiff.length * 0.9)), BAD_REASONS.corrupt],
    ["page.jpg", new TextEncoder().encode("<html>404</html>"), BAD_REASONS.unsupported],
    ["x.gif", new TextEncoder().encode("GIF89a..."), BAD_REASONS.unsupported],
    ["empty.png", new Uint8Array(0), BAD_REASONS.empty],
  ];
  const dir = await Deno.makeTempDir();
  try {
    const items: DecodeItem[] = cases.map(([name], slot) => ({
      slot,
      name,
      path: join(dir, name),
    }));
    for (const [name, bytes] of cases) await Deno.writeFile(join(dir, name), bytes);
    items.push({ slot: items.length, name: "gone.jpg", path: join(dir, "gone.jpg") });
    const want = [...cases.map(([, , reason]) => reason), BAD_REASONS.missing];
    for (let run = 0; run < 3; run++) {
      const { bad, pixels } = await decodeBatch(items, CROP);
      assert.deepEqual(bad.map((b) => b.reason), want, `run ${run}`);
      assert.deepEqual(bad.map((b) => b.slot), items.map((i) => i.slot));
      assert.ok(pixels.every((v) => v === 0), "bad slots stay zero");
    }
    await assert.rejects(
      () => decodeImage(jpeg.subarray(0, 300), CROP, "a/b.jpg"),
      (e: Error) =>
        e instanceof ImageDecodeError &&
        /^Cannot decode image "a\/b.jpg": truncated/.test(e.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("decode pool: workers write slots into the pixel file; bad ones compacted", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const items: DecodeItem[] = [];
    const expected: Uint8Array[] = [];
    for (let i = 0; i < 12; i++) {
      const w = 30 + i * 7, h = 25 + ((i * 13) % 40);
      const bytes = i === 5
        ? new TextEncoder().encode("not an image")
        : await sharp(picture(w, h), raw(w, h, 3)).png().toBuffer();
      const path = join(dir, `${i}.png`);
      await Deno.writeFile(path, bytes);
      items.push({ slot: i, name: `${i}.png`, path });
      expected.push(
        i === 5 ? new Uint8Array(CROP.size ** 2 * 3) : await decodeImage(bytes, CROP, "x"),
      );
    }
    const file = join(dir, "images.u8");
    const logs: string[] = [];
    const { bad } = await decodeToFile(items, file, {
      ...CROP,
      workers: 2,
      log: (m) => logs.push(m),
    });
    assert.deepEqual(bad.map((b) => [b.slot, b.reason]), [[5, BAD_REASONS.unsupported]]);
    const bytes = CROP.size ** 2 * 3;
    const written = await Deno.readFile(file);
    assert.equal(written.length, 12 * bytes);
    expected.forEach((want, i) =>
      assert.deepEqual(written.subarray(i * bytes, (i + 1) * bytes), want, `slot ${i}`)
    );
    const memory = await decodeAll(items, { ...CROP, workers: 1, log: () => {} });
    assert.deepEqual(memory.pixels, written, "in memory and in the file agree");
    assert.match(logs.at(-1)!, /decoded 12 images .* 2 worker\(s\), 1 unreadable/);

    assert.equal(await compactSlots(file, 12, bytes, new Set([0, 5, 11])), 9);
    const kept = expected.filter((_, i) => ![0, 5, 11].includes(i));
    const compacted = await Deno.readFile(file);
    assert.equal(compacted.length, 9 * bytes);
    kept.forEach((want, i) =>
      assert.deepEqual(compacted.subarray(i * bytes, (i + 1) * bytes), want)
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeDecoded moves streamed pixels into place after checking the size", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const pixels = new Uint8Array(2 * 4 * 4 * 3).map((_, i) => i % 251);
    const streamed = join(dir, "streamed.u8");
    await Deno.writeFile(streamed, pixels);
    const ds = {
      dataset: "t",
      height: 4,
      width: 4,
      channels: 3 as const,
      names: ["a.png", "b.png"],
      pixels: { file: streamed },
      notions: [{ name: "n", values: [] }],
      labels: {},
      triplets: { train: new Int32Array(0), val: new Int32Array(0), test: new Int32Array(0) },
      report: {},
    };
    const out = join(dir, "out");
    await writeDecoded(ds, out);
    assert.deepEqual((await readDecoded(out)).pixels, pixels);
    await assert.rejects(Deno.stat(streamed), Deno.errors.NotFound, "moved, not copied");

    await Deno.writeFile(streamed, pixels.subarray(1));
    await assert.rejects(
      writeDecoded(ds, join(dir, "short")),
      /streamed\.u8" has 95 bytes, expected 2 names \* 4x4x3 = 96/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
