/**
 * Facts about a dataset's images that later stages act on (train's `flip: auto`, a query's
 * decoding). The dataset's adapter declares them (preprocess adds `decode` from its load);
 * preprocess writes them into dataset.json and shard copies them into index.json, so later
 * steps read a fact instead of comparing dataset names.
 */
import { z } from "zod";

/** How preprocess decoded image files (shared/data/decode): output side and fit. */
export const DecodeFactSchema = z.object({
  size: z.number().int().positive(),
  /** The values of shared/data/decode/fit.ts's FITS (this layer cannot import data). */
  fit: z.enum(["crop", "letterbox"]),
});
export type DecodeFact = z.infer<typeof DecodeFactSchema>;

export const DatasetFactsSchema = z.object({
  /** Photographs of objects (a mirrored image is as plausible), not glyphs or drawings. */
  photos: z.boolean(),
  /**
   * Set where preprocess decoded image files (zappos, images); absent where it renders them
   * (fonts, shapes) and in artefacts written before this was recorded.
   */
  decode: DecodeFactSchema.optional(),
});
export type DatasetFacts = z.infer<typeof DatasetFactsSchema>;
