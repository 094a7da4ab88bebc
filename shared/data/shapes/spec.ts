/** The shapes dataset's name, facts and params (the adapter's light half; see ../adapter.ts). */
import { z } from "zod";
import { defineSpec } from "../adapter.ts";

export const SHAPES = ["circle", "square", "triangle"] as const;
export type Shape = (typeof SHAPES)[number];
export const COLOURS = ["red", "green", "blue"] as const;
export type Colour = (typeof COLOURS)[number];
/** The notions of a decoded shapes dataset, in id order. */
export const SHAPE_NOTIONS = ["shape", "colour"] as const;

export const shapesSpec = defineSpec({
  name: "shapes",
  description: "circles, squares and triangles in red, green and blue, drawn from a seed " +
    "with no download: shape, colour",
  facts: { photos: false },
  fetchParams: z.object({
    /** Seed of the drawing (positions, sizes, angles, shades): one seed, one set. */
    seed: z.number().int().min(0).default(1),
    /** Images per shape and colour pair (9 pairs); 8 or more gives every split every pair. */
    per_class: z.number().int().min(8).max(10000).default(24),
  }),
  preprocessParams: z.object({}),
  notions: () => SHAPE_NOTIONS,
});
