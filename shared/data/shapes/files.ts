/**
 * shapes.json, the shapes dataset's raw file: the seed, the count per class and one
 * description per image. fetch writes it, load reads it back, checked field by field.
 */
import { join } from "node:path";
import { z } from "zod";
import { COLOURS, SHAPES } from "./spec.ts";
import type { ShapeItem } from "./generate.ts";

export const SHAPES_FILE = "shapes.json";
export const SHAPES_FORMAT = "csn-shapes/1";

const unit = z.number().min(0).max(1);
const ShapesFile = z.object({
  format: z.literal(SHAPES_FORMAT),
  seed: z.number().int(),
  per_class: z.number().int().positive(),
  shapes: z.array(z.object({
    shape: z.enum(SHAPES),
    colour: z.enum(COLOURS),
    x: unit,
    y: unit,
    radius: z.number().positive().max(0.5),
    angle: z.number(),
    shade: unit,
    background: unit,
  })),
});
export type ShapesFile = z.infer<typeof ShapesFile>;

export async function writeShapesFile(dir: string, file: ShapesFile): Promise<Uint8Array> {
  const bytes = new TextEncoder().encode(JSON.stringify(file) + "\n");
  await Deno.writeFile(join(dir, SHAPES_FILE), bytes);
  return bytes;
}

export async function readShapesFile(dir: string): Promise<readonly ShapeItem[]> {
  const path = join(dir, SHAPES_FILE);
  let json: unknown;
  try {
    json = JSON.parse(await Deno.readTextFile(path));
  } catch (error) {
    throw new SyntaxError(`Cannot read shapes file "${path}": ${(error as Error).message}`, {
      cause: error,
    });
  }
  const parsed = ShapesFile.safeParse(json);
  if (!parsed.success) {
    throw new SyntaxError(`Cannot read shapes file "${path}": ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data.shapes;
}
