/**
 * Contact sheets: a grid of images (e.g. a query and its nearest neighbours) as one PNG.
 * Every image sits top-left in a cell as large as the largest image, cells are separated by
 * a border, and an optional caption strip goes under each cell. The sheet is grayscale when
 * every image is, RGB otherwise. Layout and pixels are pure; captions are drawn with
 * @napi-rs/canvas in Roboto Mono from the repository's font packages.
 */
import { createCanvas, GlobalFonts } from "@napi-rs/canvas";
import { encode } from "fast-png";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export interface SheetImage {
  /** height * width * channels bytes, row-major, channels interleaved. */
  readonly pixels: Uint8Array;
  readonly height: number;
  readonly width: number;
  readonly channels: 1 | 3;
}

/**
 * Integer enlargement for images of side `size`: small images grow (nearest neighbour, so
 * pixels stay visible) until cells are about 128 px, because captions need the room and a
 * 32 px glyph is hard to judge at its own size.
 */
export function sheetScale(size: number): number {
  return Math.max(1, Math.round(128 / size));
}

export function enlarge(image: SheetImage, factor: number): SheetImage {
  if (factor === 1) return image;
  const { height, width, channels, pixels } = image;
  const out = new Uint8Array(height * factor * width * factor * channels);
  const rowBytes = width * factor * channels;
  for (let y = 0; y < height * factor; y++) {
    const src = Math.floor(y / factor) * width * channels;
    for (let x = 0; x < width * factor; x++) {
      const s = src + Math.floor(x / factor) * channels;
      for (let c = 0; c < channels; c++) out[y * rowBytes + x * channels + c] = pixels[s + c]!;
    }
  }
  return { height: height * factor, width: width * factor, channels, pixels: out };
}

export interface SheetOptions {
  /** Border around and between cells, in pixels; default 2. */
  readonly border?: number;
  /** Gray level of borders, empty cell area and caption strips; default 255 (white). */
  readonly background?: number;
  /** Height of each caption strip when captions are given; default 14. */
  readonly captionHeight?: number;
}

/** Where things go on a sheet. */
export interface SheetLayout {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
  readonly cellWidth: number;
  readonly cellHeight: number;
  readonly captionHeight: number;
  /** Top-left corner of cell i's image. */
  cell(i: number): { x: number; y: number };
}

const FONT_FAMILY = "CsnSheetMono";
const FONT_FILE =
  "../../node_modules/@expo-google-fonts/roboto-mono/400Regular/RobotoMono_400Regular.ttf";

export function sheetLayout(
  images: readonly SheetImage[],
  columns: number,
  captioned: boolean,
  options: SheetOptions = {},
): SheetLayout {
  if (!Number.isInteger(columns) || columns < 1) {
    throw new RangeError(
      `Cannot make a contact sheet: columns is ${columns}, expected an integer >= 1`,
    );
  }
  if (images.length === 0) throw new RangeError("Cannot make a contact sheet of no images");
  images.forEach((image, i) => {
    const { height, width, channels, pixels } = image;
    if (channels !== 1 && channels !== 3) {
      throw new RangeError(
        `Cannot make a contact sheet: image ${i} has ${channels} channels, expected 1 or 3`,
      );
    }
    if (pixels.length !== height * width * channels) {
      throw new RangeError(
        `Cannot make a contact sheet: image ${i} has ${pixels.length} bytes, expected ${height} ` +
          `x ${width} x ${channels} = ${height * width * channels}`,
      );
    }
  });
  const border = options.border ?? 2;
  const captionHeight = captioned ? options.captionHeight ?? 14 : 0;
  const cellWidth = Math.max(...images.map((image) => image.width));
  const cellHeight = Math.max(...images.map((image) => image.height));
  const cols = Math.min(columns, images.length), rows = Math.ceil(images.length / columns);
  const pitchX = cellWidth + border, pitchY = cellHeight + captionHeight + border;
  return {
    width: border + cols * pitchX,
    height: border + rows * pitchY,
    channels: images.every((image) => image.channels === 1) ? 1 : 3,
    cellWidth,
    cellHeight,
    captionHeight,
    cell: (i) => ({
      x: border + (i % columns) * pitchX,
      y: border + Math.floor(i / columns) * pitchY,
    }),
  };
}

/** Caption text rendered black on white, as one gray level per sheet pixel (255 = paper). */
function captionInk(layout: SheetLayout, captions: readonly string[]): Uint8Array {
  if (!GlobalFonts.has(FONT_FAMILY)) {
    const path = fileURLToPath(new URL(FONT_FILE, import.meta.url));
    if (!existsSync(path) || !GlobalFonts.registerFromPath(path, FONT_FAMILY)) {
      throw new Error(
        `Cannot load the caption font "${path}": run deno install to fetch npm packages`,
      );
    }
  }
  const canvas = createCanvas(layout.width, layout.height);
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, layout.width, layout.height);
  ctx.fillStyle = "#000000";
  ctx.font = `${Math.max(6, layout.captionHeight - 3)}px ${FONT_FAMILY}`;
  ctx.textBaseline = "middle";
  captions.forEach((caption, i) => {
    const { x, y } = layout.cell(i);
    const top = y + layout.cellHeight;
    ctx.save();
    ctx.beginPath();
    ctx.rect(x, top, layout.cellWidth, layout.captionHeight);
    ctx.clip(); // a long caption is cut at its cell's edge
    ctx.fillText(caption, x + 1, top + layout.captionHeight / 2);
    ctx.restore();
  });
  const rgba = ctx.getImageData(0, 0, layout.width, layout.height).data;
  return Uint8Array.from({ length: layout.width * layout.height }, (_, p) => rgba[4 * p]!);
}

/** The sheet's raw pixels (layout.channels per pixel), before PNG encoding. */
export function sheetPixels(
  images: readonly SheetImage[],
  layout: SheetLayout,
  captions?: readonly string[],
  background = 255,
): Uint8Array {
  const { width, channels } = layout;
  const out = new Uint8Array(width * layout.height * channels).fill(background);
  images.forEach((image, i) => {
    const { x, y } = layout.cell(i);
    for (let r = 0; r < image.height; r++) {
      for (let c = 0; c < image.width; c++) {
        const src = (r * image.width + c) * image.channels;
        const dst = ((y + r) * width + x + c) * channels;
        for (let k = 0; k < channels; k++) {
          out[dst + k] = image.pixels[src + (image.channels === 1 ? 0 : k)]!;
        }
      }
    }
  });
  if (captions?.length) {
    const ink = captionInk(layout, captions);
    captions.forEach((_, i) => {
      const { x, y } = layout.cell(i);
      for (let r = y + layout.cellHeight; r < y + layout.cellHeight + layout.captionHeight; r++) {
        for (let c = x; c < x + layout.cellWidth; c++) {
          // Ink darkens the strip's background in proportion to its coverage.
          const value = Math.round((background * ink[r * width + c]!) / 255);
          for (let k = 0; k < channels; k++) out[(r * width + c) * channels + k] = value;
        }
      }
    });
  }
  return out;
}

/** A contact sheet as PNG bytes: `columns` cells per row, optional caption per image. */
export function contactSheet(
  images: readonly SheetImage[],
  columns: number,
  captions?: readonly string[],
  options: SheetOptions = {},
): Uint8Array {
  if (captions && captions.length > images.length) {
    throw new RangeError(
      `Cannot make a contact sheet: got ${captions.length} captions for ${images.length} images, ` +
        `expected at most one per image`,
    );
  }
  const layout = sheetLayout(images, columns, Boolean(captions?.length), options);
  const data = sheetPixels(images, layout, captions, options.background ?? 255);
  return encode({
    width: layout.width,
    height: layout.height,
    data,
    channels: layout.channels,
    depth: 8,
  });
}
