import assert from "node:assert/strict";
import { decode } from "fast-png";
import { contactSheet, type SheetImage } from "../shared/eval/contact_sheet.ts";

function gradient(height: number, width: number, channels: 1 | 3, seed: number): SheetImage {
  const pixels = Uint8Array.from(
    { length: height * width * channels },
    (_, i) => (i * 7 + seed * 31) % 256,
  );
  return { pixels, height, width, channels };
}

/** Pixel (x, y) of a decoded PNG as an array of its channels. */
function pixel(png: ReturnType<typeof decode>, x: number, y: number): number[] {
  const start = (y * png.width + x) * png.channels;
  return Array.from(png.data.slice(start, start + png.channels));
}

Deno.test("grayscale contact sheet: layout, borders and exact tile pixels", () => {
  const images = [0, 1, 2, 3, 4].map((s) => gradient(8, 6, 1, s));
  const png = decode(contactSheet(images, 3, undefined, { border: 2, background: 200 }));
  assert.equal(png.channels, 1);
  assert.equal(png.depth, 8);
  assert.equal(png.width, 2 + 3 * (6 + 2));
  assert.equal(png.height, 2 + 2 * (8 + 2));
  // Image 4 is row 1, column 1: top-left at (2 + 8, 2 + 10).
  for (let r = 0; r < 8; r++) {
    for (let c = 0; c < 6; c++) {
      assert.deepEqual(pixel(png, 10 + c, 12 + r), [images[4]!.pixels[r * 6 + c]!]);
    }
  }
  assert.deepEqual(pixel(png, 0, 0), [200]); // outer border
  assert.deepEqual(pixel(png, 8, 5), [200]); // between columns 0 and 1
  assert.deepEqual(pixel(png, 20, 15), [200]); // the empty sixth cell
});

Deno.test("mixed sizes and channels give an RGB sheet with gray images expanded", () => {
  const rgb = gradient(5, 4, 3, 9), gray = gradient(3, 2, 1, 2);
  const png = decode(contactSheet([gray, rgb], 2, undefined, { border: 1 }));
  assert.equal(png.channels, 3);
  assert.equal(png.width, 1 + 2 * (4 + 1));
  assert.equal(png.height, 1 + 5 + 1);
  assert.deepEqual(pixel(png, 1 + 1, 1 + 2), Array(3).fill(gray.pixels[2 * 2 + 1]!));
  assert.deepEqual(
    pixel(png, 1 + 5 + 3, 1 + 4),
    Array.from(rgb.pixels.slice((4 * 4 + 3) * 3, (4 * 4 + 3) * 3 + 3)),
  );
  assert.deepEqual(pixel(png, 1 + 3, 1 + 4), [255, 255, 255]); // gray image's cell beyond it
});

Deno.test("captions are drawn in a strip under their cell only", () => {
  const images = [gradient(16, 40, 1, 1), gradient(16, 40, 1, 2)];
  const png = decode(contactSheet(images, 2, ["W#88"], { border: 2, captionHeight: 14 }));
  assert.equal(png.height, 2 + 16 + 14 + 2);
  const strip = (x0: number) => {
    let dark = 0;
    for (let y = 18; y < 32; y++) {
      for (let x = x0; x < x0 + 40; x++) if (pixel(png, x, y)[0]! < 128) dark++;
    }
    return dark;
  };
  assert.ok(strip(2) > 10, `caption strip has only ${strip(2)} dark pixels`);
  assert.equal(strip(44), 0); // the second image has no caption
  for (let c = 0; c < 40; c++) {
    assert.deepEqual(pixel(png, 2 + c, 2 + 15), [images[0]!.pixels[15 * 40 + c]!]);
  }
});

Deno.test("contactSheet rejects bad input clearly", () => {
  const ok = gradient(2, 2, 1, 0);
  assert.throws(() => contactSheet([], 3), /no images/);
  assert.throws(() => contactSheet([ok], 0), /columns is 0, expected an integer >= 1/);
  assert.throws(
    () => contactSheet([{ ...ok, height: 3 }], 1),
    /image 0 has 4 bytes, expected 3 x 2 x 1 = 6/,
  );
  assert.throws(() => contactSheet([ok], 1, ["a", "b"]), /2 captions for 1 images/);
});
