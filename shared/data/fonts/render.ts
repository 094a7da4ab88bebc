/**
 * Glyph rendering: one scale per font (so 'o' stays smaller than 'O' and stroke weight
 * survives), a baseline fixed per font, each glyph centred horizontally in its cell.
 * Layout is pure; rasterising uses @napi-rs/canvas (Skia, antialiased, nonzero fill).
 */
import { type Canvas, createCanvas, Path2D, type SKRSContext2D } from "@napi-rs/canvas";
import { type Box, glyphFor, type OtFont, type PathCommand } from "./font_file.ts";

/** Where a font's glyphs go in a size x size cell: canvas x = offsetX + scale * fontX. */
export interface FontLayout {
  readonly size: number;
  /** Pixels per font unit, the same for every glyph of the font. */
  readonly scale: number;
  /** Canvas y of the font's baseline (canvas y grows downwards, font y upwards). */
  readonly baseline: number;
}

/** Blank border in pixels, so antialiasing never bleeds into a neighbouring cell. */
export function paddingFor(size: number): number {
  return Math.max(1, Math.round(size / 32));
}

/**
 * One scale so that every given glyph box fits the cell: the font's full vertical extent
 * (highest ascender to lowest descender over its glyphs) and its widest glyph.
 */
export function fontLayout(boxes: readonly Box[], size: number): FontLayout {
  if (boxes.length === 0) throw new RangeError("Cannot lay out a font: no glyph boxes");
  let top = -Infinity, bottom = Infinity, width = 0;
  for (const b of boxes) {
    top = Math.max(top, b.y2);
    bottom = Math.min(bottom, b.y1);
    width = Math.max(width, b.x2 - b.x1);
  }
  const inner = size - 2 * paddingFor(size);
  const height = top - bottom;
  const scale = inner / Math.max(height, width);
  // Centre the font's vertical extent; the baseline then sits at the same row for all glyphs.
  const baseline = paddingFor(size) + (inner - height * scale) / 2 + top * scale;
  return { size, scale, baseline };
}

/** Canvas x of font x = 0 for a glyph, centring its box horizontally in the cell. */
export function glyphOffsetX(box: Box, layout: FontLayout): number {
  return (layout.size - (box.x2 - box.x1) * layout.scale) / 2 - box.x1 * layout.scale;
}

/** SVG path data in font units (y up); the canvas transform does scaling and flipping. */
export function pathData(commands: readonly PathCommand[]): string {
  const parts: string[] = [];
  for (const c of commands) {
    switch (c.type) {
      case "M":
      case "L":
        parts.push(`${c.type}${c.x} ${c.y}`);
        break;
      case "Q":
        parts.push(`Q${c.x1} ${c.y1} ${c.x} ${c.y}`);
        break;
      case "C":
        parts.push(`C${c.x1} ${c.y1} ${c.x2} ${c.y2} ${c.x} ${c.y}`);
        break;
      case "Z":
        parts.push("Z");
        break;
    }
  }
  return parts.join("");
}

export type SkipReason = "missing" | "empty";

export interface RenderedFont {
  readonly layout: FontLayout | undefined;
  /** Characters rendered, in order; images[k] belongs to chars[k]. */
  readonly chars: string[];
  /** chars.length * size * size coverage values, 0 = background, 255 = full ink. */
  readonly pixels: Uint8Array;
  /** Characters left out: "missing" (no glyph or .notdef), "empty" (no outline or no ink). */
  readonly skipped: { char: string; reason: SkipReason }[];
}

interface Outline {
  readonly char: string;
  readonly box: Box;
  readonly commands: readonly PathCommand[];
}

/** Renders fonts into size x size grayscale cells; reuses one canvas strip for all fonts. */
export class GlyphRenderer {
  readonly size: number;
  readonly #cells: number;
  readonly #canvas: Canvas;
  readonly #ctx: SKRSContext2D;

  constructor(size: number, maxGlyphs: number) {
    if (!Number.isInteger(size) || size < 8 || size > 1024) {
      throw new RangeError(
        `Cannot make a glyph renderer: size ${size}, expected an integer in [8, 1024]`,
      );
    }
    this.size = size;
    this.#cells = maxGlyphs;
    this.#canvas = createCanvas(size * maxGlyphs, size);
    this.#ctx = this.#canvas.getContext("2d");
  }

  render(font: OtFont, chars: readonly string[]): RenderedFont {
    if (chars.length > this.#cells) {
      throw new RangeError(
        `Cannot render ${chars.length} characters: the renderer has room for ${this.#cells}`,
      );
    }
    const skipped: { char: string; reason: SkipReason }[] = [];
    const outlines: Outline[] = [];
    for (const char of chars) {
      const glyph = glyphFor(font, char);
      if (!glyph) {
        skipped.push({ char, reason: "missing" });
        continue;
      }
      const box = glyph.path.getBoundingBox();
      if (glyph.path.commands.length === 0 || !(box.x2 >= box.x1 && box.y2 >= box.y1)) {
        skipped.push({ char, reason: "empty" });
        continue;
      }
      outlines.push({ char, box, commands: glyph.path.commands });
    }
    if (outlines.length === 0) {
      return { layout: undefined, chars: [], pixels: new Uint8Array(0), skipped };
    }
    const layout = fontLayout(outlines.map((o) => o.box), this.size);
    const cells = this.#draw(outlines, layout);
    return this.#collect(outlines, cells, layout, skipped);
  }

  #draw(outlines: readonly Outline[], layout: FontLayout): Uint8ClampedArray {
    const { size } = this;
    const ctx = this.#ctx;
    const width = size * outlines.length;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, size * this.#cells, size);
    ctx.fillStyle = "#ffffff";
    outlines.forEach((o, k) => {
      const x0 = k * size + glyphOffsetX(o.box, layout);
      ctx.setTransform(layout.scale, 0, 0, -layout.scale, x0, layout.baseline);
      ctx.fill(new Path2D(pathData(o.commands)), "nonzero");
    });
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    return ctx.getImageData(0, 0, width, size).data;
  }

  /** Alpha is the coverage; cells with no ink at all are skipped as "empty". */
  #collect(
    outlines: readonly Outline[],
    rgba: Uint8ClampedArray,
    layout: FontLayout,
    skipped: { char: string; reason: SkipReason }[],
  ): RenderedFont {
    const { size } = this;
    const stride = size * outlines.length;
    const out = new Uint8Array(outlines.length * size * size);
    const kept: string[] = [];
    outlines.forEach((o, k) => {
      const base = kept.length * size * size;
      let ink = 0;
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          const a = rgba[4 * (y * stride + k * size + x) + 3] as number;
          out[base + y * size + x] = a;
          ink += a;
        }
      }
      if (ink === 0) skipped.push({ char: o.char, reason: "empty" });
      else kept.push(o.char);
    });
    return {
      layout,
      chars: kept,
      pixels: out.subarray(0, kept.length * size * size),
      skipped,
    };
  }
}
