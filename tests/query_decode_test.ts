/**
 * A user's image (deno task query --image, the service's uploads) is decoded as preprocess
 * decoded the run's images: the same decoder, size and fit, EXIF orientation included.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import sharp from "sharp";
import { decodeImage } from "../shared/data/decode/decode_image.ts";
import type { DatasetFacts } from "../shared/artefacts/dataset_facts.ts";
import { decodeRgba } from "../shared/explore/image_decode.ts";
import {
  type InputShape,
  inputShapeOf,
  loadInputImage,
  prepareImage,
  prepareImageBytes,
} from "../shared/explore/image_input.ts";
import { HttpError } from "../shared/serve/http_error.ts";
import { prepareUpload } from "../shared/serve/upload.ts";

const W = 60, H = 40, SIZE = 24;

/** A smooth colour picture, no symmetry: a quarter turn or a mirror changes it a lot. */
const SOURCE = Uint8Array.from({ length: W * H * 3 }, (_, i) => {
  const p = Math.floor(i / 3), x = p % W, y = Math.floor(p / W), c = i % 3;
  return [30 + Math.round((190 * x) / W), 40 + Math.round((180 * y) / H), 60 + ((x * y) % 90)][c]!;
});

/** SOURCE turned a quarter clockwise (what EXIF orientation 6 asks a viewer to show). */
function turnedClockwise(rgb: Uint8Array, w: number, h: number): Uint8Array {
  const out = new Uint8Array(rgb.length);
  for (let y = 0; y < w; y++) {
    for (let x = 0; x < h; x++) {
      const from = ((h - 1 - x) * w + y) * 3;
      out.set(rgb.subarray(from, from + 3), (y * h + x) * 3);
    }
  }
  return out;
}

const raw = (width: number, height: number, channels: 3 | 4) => ({
  raw: { width, height, channels },
});

function diff(got: Uint8Array, want: Uint8Array): { max: number; mean: number } {
  assert.equal(got.length, want.length, "lengths");
  let max = 0, sum = 0;
  for (let i = 0; i < got.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    max = Math.max(max, d), sum += d;
  }
  return { max, mean: sum / got.length };
}

const shards = (facts: DatasetFacts | undefined, channels: 1 | 3 = 3) => ({
  height: SIZE,
  width: SIZE,
  channels,
  index: { dataset: "images", facts },
});
const photos = (fit: "crop" | "letterbox") =>
  inputShapeOf(shards({ photos: true, decode: { size: SIZE, fit } }));

Deno.test("query: an EXIF-rotated JPEG gives the upright image's pixels", async () => {
  // The phone's way: pixels stored sideways, orientation 6 in EXIF.
  const phone = await sharp(SOURCE, raw(W, H, 3)).jpeg({ quality: 95 })
    .withMetadata({ orientation: 6 }).toBuffer();
  const upright = await sharp(turnedClockwise(SOURCE, W, H), raw(H, W, 3)).jpeg({ quality: 95 })
    .toBuffer();
  const sideways = await sharp(SOURCE, raw(W, H, 3)).jpeg({ quality: 95 }).toBuffer();
  for (const fit of ["crop", "letterbox"] as const) {
    const got = await prepareImageBytes(phone, "phone.jpg", photos(fit));
    const want = await decodeImage(upright, { size: SIZE, fit }, "upright.jpg");
    // Tolerance: the two files are coded separately (JPEG blocks fall differently once
    // turned), so they differ by coding error only: <= 12 levels, mean <= 2.
    const d = diff(got, want);
    assert.ok(d.max <= 12 && d.mean <= 2, `${fit}: max ${d.max}, mean ${d.mean.toFixed(2)}`);
    // Orientation ignored would be far off: the check can fail.
    const off = diff(got, await decodeImage(sideways, { size: SIZE, fit }, "sideways.jpg"));
    assert.ok(off.mean > 10 * Math.max(d.mean, 1), `${fit}: unrotated only ${off.mean}`);
  }
  // Rendered datasets (fonts, shapes: gray glyphs) read it upright too.
  const glyphs = inputShapeOf(shards({ photos: false }, 1));
  assert.equal(glyphs.decode, undefined);
  const got = await prepareImageBytes(phone, "phone.jpg", glyphs);
  const want = prepareImage(await decodeRgba(upright, "upright.jpg"), glyphs);
  const d = diff(got, want);
  assert.ok(d.max <= 12 && d.mean <= 2, `gray: max ${d.max}, mean ${d.mean.toFixed(2)}`);
});

Deno.test("query and upload pixels are preprocess's: crop, letterbox, each format", async () => {
  // Alpha over part of the picture: flattened on white, as preprocess does.
  const rgba = new Uint8Array(W * H * 4);
  for (let p = 0; p < W * H; p++) {
    rgba.set(SOURCE.subarray(p * 3, p * 3 + 3), p * 4);
    rgba[p * 4 + 3] = p % W < 10 ? 60 : 255;
  }
  const img = () => sharp(rgba, raw(W, H, 4));
  const files = {
    png: await img().png().toBuffer(),
    jpeg: await img().jpeg({ quality: 90 }).toBuffer(),
    webp: await img().webp({ quality: 80 }).toBuffer(),
    tiff: await img().tiff({ compression: "lzw" }).toBuffer(),
    avif: await img().avif({ quality: 60 }).toBuffer(),
  };
  const dir = await Deno.makeTempDir({ prefix: "csn-query-decode-" });
  try {
    const outputs: Uint8Array[] = [];
    for (const fit of ["crop", "letterbox"] as const) {
      const shape = photos(fit);
      for (const [format, bytes] of Object.entries(files)) {
        const want = await decodeImage(bytes, { size: SIZE, fit }, format);
        const path = join(dir, `photo.${format}`);
        await Deno.writeFile(path, bytes);
        assert.deepEqual(await loadInputImage(path, shape), want, `query ${format} ${fit}`);
        const upload = await prepareUpload(bytes, `image/${format}`, shape);
        assert.deepEqual(upload, want, `upload ${format} ${fit}`);
        if (format === "png") outputs.push(want);
      }
    }
    // The two fits differ (the letterbox has white bars): the fit read from the facts matters.
    assert.ok(diff(outputs[0]!, outputs[1]!).mean > 10, "crop and letterbox differ");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("query input: the facts' decode, the older photos' crop, and clear errors", async () => {
  const crop: InputShape = { size: SIZE, channels: 3, decode: { size: SIZE, fit: "crop" } };
  // Shards written before facts held the decode: photos were all cropped at the shards' size.
  assert.deepEqual(inputShapeOf(shards({ photos: true })), { ...crop, invert: false });
  assert.deepEqual(inputShapeOf(shards(undefined, 1), true), {
    size: SIZE,
    channels: 1,
    invert: true,
  });
  assert.throws(
    () => inputShapeOf(shards({ photos: true, decode: { size: 32, fit: "crop" } })),
    /Cannot prepare images for the shards of dataset "images": facts.decode.size = 32/,
  );
  const gif = new TextEncoder().encode("GIF89a....");
  await assert.rejects(
    () => prepareImageBytes(gif, "a.gif", crop),
    /"a.gif": not a JPEG, PNG, WebP, TIFF or AVIF file \(it starts with bytes 47 49 46 38\)/,
  );
  const jpeg = await sharp(SOURCE, raw(W, H, 3)).jpeg().toBuffer();
  await assert.rejects(
    () => prepareImageBytes(jpeg.subarray(0, 200), "cut.jpg", crop),
    /Cannot read image "cut.jpg": truncated or corrupt image data/,
  );
  // Inverted photos: the same decode, levels turned over.
  const inverted = await prepareImageBytes(jpeg, "x.jpg", { ...crop, invert: true });
  const plain = await decodeImage(jpeg, crop.decode!, "x.jpg");
  assert.deepEqual(inverted, plain.map((v) => 255 - v));
  // The service: 415 for a non-image, 400 naming the format for damaged data.
  const refused = await prepareUpload(gif, "image/gif", crop).catch((e) => e);
  assert.ok(refused instanceof HttpError && refused.status === 415, String(refused));
  assert.match(refused.message, /Content-Type image\/gif\): it is not a JPEG, PNG, WebP, TIFF/);
  const damaged = await prepareUpload(jpeg.subarray(0, 200), "", crop).catch((e) => e);
  assert.ok(damaged instanceof HttpError && damaged.status === 400, String(damaged));
  assert.match(damaged.message, /Cannot decode the uploaded jpeg image: Cannot read image/);
});
