/**
 * The shapes dataset as an adapter: fetch draws the descriptions from the seed (nothing is
 * downloaded) and records them; load paints them at the asked size.
 */
import { sha256Hex } from "../../util/hash.ts";
import { defineDataset } from "../adapter.ts";
import { generatedSource } from "../../artefacts/sources_record.ts";
import { SHAPES_FILE, SHAPES_FORMAT, writeShapesFile } from "./files.ts";
import { generateShapes } from "./generate.ts";
import { loadShapes } from "./load.ts";
import { shapesSpec } from "./spec.ts";

export default defineDataset({
  ...shapesSpec,
  async fetch(p, ctx) {
    const shapes = generateShapes(p.seed, p.per_class);
    const bytes = await writeShapesFile(ctx.outDir, {
      format: SHAPES_FORMAT,
      seed: p.seed,
      per_class: p.per_class,
      shapes,
    });
    const source = {
      generator: "csn shapes (shared/data/shapes)",
      seed: p.seed,
      per_class: p.per_class,
      file: SHAPES_FILE,
      bytes: bytes.byteLength,
      sha256: sha256Hex(bytes),
    };
    await generatedSource.write(ctx.outDir, source);
    ctx.log(`shapes: drew ${shapes.length} descriptions from seed ${p.seed}`);
    return { images: shapes.length, per_class: p.per_class };
  },
  load: (rawDir, p, ctx) => loadShapes(rawDir, p, ctx.log),
});
