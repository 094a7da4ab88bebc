/**
 * The shapes dataset's raw content: one description per image (shape, colour, where, how
 * big, turned how far, how bright, on what grey), drawn from a seed. Pure; draw.ts paints.
 */
import { Rng } from "../../util/rng.ts";
import { type Colour, COLOURS, type Shape, SHAPES } from "./spec.ts";

export interface ShapeItem {
  readonly shape: Shape;
  readonly colour: Colour;
  /** Centre, in units of the image side (0-1). */
  readonly x: number;
  readonly y: number;
  /** Circumradius in units of the image side. */
  readonly radius: number;
  /** Rotation in radians. */
  readonly angle: number;
  /** Brightness of the colour, 0.6-1. */
  readonly shade: number;
  /** Grey level of the background, 0-0.35 (always darker than any shape). */
  readonly background: number;
}

/** `perClass` items for each shape and colour, in shape, colour, then draw order. */
export function generateShapes(seed: number, perClass: number): ShapeItem[] {
  if (!Number.isInteger(perClass) || perClass < 1) {
    throw new RangeError(
      `Cannot generate shapes: per_class is ${perClass}, expected an integer >= 1`,
    );
  }
  const items: ShapeItem[] = [];
  for (const shape of SHAPES) {
    for (const colour of COLOURS) {
      const rng = Rng.derive(seed, "shapes", shape, colour);
      for (let k = 0; k < perClass; k++) {
        const radius = 0.2 + 0.15 * rng.next();
        items.push({
          shape,
          colour,
          x: radius + (1 - 2 * radius) * rng.next(),
          y: radius + (1 - 2 * radius) * rng.next(),
          radius,
          angle: 2 * Math.PI * rng.next(),
          shade: 0.6 + 0.4 * rng.next(),
          background: 0.35 * rng.next(),
        });
      }
    }
  }
  return items;
}
