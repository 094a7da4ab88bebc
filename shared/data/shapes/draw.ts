/** Paints one ShapeItem as size x size RGB (uint8, HWC), anti-aliased by 4x4 supersampling. */
import type { ShapeItem } from "./generate.ts";
import type { Colour } from "./spec.ts";

const RGB: Readonly<Record<Colour, readonly [number, number, number]>> = {
  red: [230, 40, 40],
  green: [40, 190, 60],
  blue: [40, 90, 235],
};
const SAMPLES = 4;
// An equilateral triangle is three half-planes, each r/2 from the centre, facing away from
// the vertices at -90, 30 and 150 degrees.
const TRIANGLE_NORMALS = [90, 210, 330].map((d) =>
  [
    Math.cos(d * Math.PI / 180),
    Math.sin(d * Math.PI / 180),
  ] as const
);

/** Whether point (rx, ry), relative to the centre in the shape's own frame, is inside. */
function inside(shape: ShapeItem["shape"], r: number, rx: number, ry: number): boolean {
  switch (shape) {
    case "circle":
      return rx * rx + ry * ry <= r * r;
    case "square": // half side 0.75 r: about the circle's area
      return Math.abs(rx) <= 0.75 * r && Math.abs(ry) <= 0.75 * r;
    case "triangle":
      return TRIANGLE_NORMALS.every(([nx, ny]) => rx * nx + ry * ny <= r / 2);
  }
}

export function drawShape(item: ShapeItem, size: number): Uint8Array {
  const out = new Uint8Array(size * size * 3);
  const cos = Math.cos(item.angle), sin = Math.sin(item.angle);
  const colour = RGB[item.colour].map((c) => c * item.shade);
  const grey = 255 * item.background;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let hits = 0;
      for (let sy = 0; sy < SAMPLES; sy++) {
        for (let sx = 0; sx < SAMPLES; sx++) {
          const dx = (px + (sx + 0.5) / SAMPLES) / size - item.x;
          const dy = (py + (sy + 0.5) / SAMPLES) / size - item.y;
          if (inside(item.shape, item.radius, dx * cos + dy * sin, dy * cos - dx * sin)) hits++;
        }
      }
      const cover = hits / (SAMPLES * SAMPLES);
      const o = (py * size + px) * 3;
      for (let ch = 0; ch < 3; ch++) {
        out[o + ch] = Math.round(grey * (1 - cover) + colour[ch]! * cover);
      }
    }
  }
  return out;
}
