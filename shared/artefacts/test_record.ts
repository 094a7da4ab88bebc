/**
 * test.json (format "csn-test/1"), written by the test stage for a trained model and by the
 * raw_pixels stage for the untrained floor (mode "raw-pixels": accuracy only). A model's record
 * adds the triplet counts and loss, retrieval per labelled notion, its condition names and the
 * masks as used.
 */
import { z } from "zod";
import {
  ArtefactId,
  Count,
  Counts,
  Fraction,
  MaskKindName,
  MaskRows,
  ModelMode,
  PerCondition,
  SplitName,
} from "./fields.ts";
import { jsonArtefact } from "./json_artefact.ts";

export const TEST_FORMAT = "csn-test/1";

/** A mean over scored queries: NaN when none was scored, which JSON writes as null. */
const QueryMean = z.union([Fraction, z.nan(), z.null()]);

export const RetrievalSchema = z.object({
  queries: Count,
  skipped: Count,
  gallery: Count,
  dims: Count,
  precision_at_1: QueryMean,
  r_precision: QueryMean,
  map_at_r: QueryMean,
  /** recall@k by k, e.g. {"1": 0.9, "5": 0.97}. */
  recall_at_k: z.record(z.string(), QueryMean),
});

const common = {
  format: z.literal(TEST_FORMAT),
  split: SplitName,
  accuracy: Fraction,
  per_condition: PerCondition,
  triplets: Count,
};

export const RawPixelsTestSchema = z.object({ ...common, mode: z.literal("raw-pixels") });

export const ModelTestSchema = z.object({
  ...common,
  /** The model artefact evaluated. */
  model: ArtefactId,
  mode: ModelMode,
  masks: MaskKindName,
  counts: Counts,
  loss: z.number(),
  /** Images embedded (those the split's triplets use). */
  images: Count,
  /** Per labelled notion; empty when retrieval was not measured. */
  retrieval: z.record(z.string(), RetrievalSchema),
  condition_names: z.array(z.string()),
  mask_values: MaskRows,
});

export const TestRecordSchema = z.discriminatedUnion("mode", [
  RawPixelsTestSchema,
  ModelTestSchema,
]);
export type TestRecord = z.output<typeof TestRecordSchema>;
export type ModelTestRecord = z.output<typeof ModelTestSchema>;
export type RawPixelsTestRecord = z.output<typeof RawPixelsTestSchema>;

export const testRecord = jsonArtefact("test.json", TestRecordSchema);
