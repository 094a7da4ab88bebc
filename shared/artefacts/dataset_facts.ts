/**
 * Facts about a dataset's images that later stages act on (train's `flip: auto`). The
 * dataset's adapter declares them; preprocess writes them into dataset.json and shard copies
 * them into index.json, so training reads a fact instead of comparing dataset names.
 */
import { z } from "zod";

export const DatasetFactsSchema = z.object({
  /** Photographs of objects (a mirrored image is as plausible), not glyphs or drawings. */
  photos: z.boolean(),
});
export type DatasetFacts = z.infer<typeof DatasetFactsSchema>;
